# Shared by up.sh, down.sh and the per-cluster scripts up.sh writes into DIR
# (restart-apiserver.sh and friends). Source it; it defines functions only.
#
# A cluster directory DIR holds, per component NAME (etcd, kube-apiserver):
#   DIR/run-NAME.sh  the exact command line, ending in exec, so the PID we record is the
#                    component's own and a restart reuses the same flags and ports
#   DIR/NAME.pid     that PID while it runs
#   DIR/NAME.log     its stdout and stderr, appended across restarts

# How long a component gets to exit after SIGTERM before SIGKILL. kube-apiserver drains
# for a few seconds by default (--shutdown-delay-duration is 0, but it still closes
# watches and flushes), etcd stops at once.
CLUSTER_STOP_GRACE=${CLUSTER_STOP_GRACE:-15}

# How long a component gets to become ready after it is started.
CLUSTER_READY_TIMEOUT=${CLUSTER_READY_TIMEOUT:-60}

cluster_log() { echo "cluster: $*" >&2; }

# cluster_pid_alive DIR NAME: true when DIR/NAME.pid names a running process that is
# still that component. The check on /proc/PID/exe guards against killing an unrelated
# process that got the PID after ours died (the binary may show as "... (deleted)" when
# build.sh replaced it underneath a running cluster, so compare the base name only).
cluster_pid_alive() {
	local dir=$1 name=$2 pid exe
	pid=$(cat "$dir/$name.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
	exe=${exe% (deleted)}
	[ "${exe##*/}" = "$name" ]
}

# cluster_start DIR NAME: run DIR/run-NAME.sh in the background and record its PID.
# setsid puts the component in its own session, so a Ctrl-C aimed at whoever started the
# cluster (a pytest run, a shell) does not kill it behind the harness's back; down.sh is
# what stops it. Output goes to the log, never to our stdout: a caller that captures
# up.sh's output would otherwise wait for EOF until the cluster stops.
cluster_start() {
	local dir=$1 name=$2
	setsid "$dir/run-$name.sh" </dev/null >>"$dir/$name.log" 2>&1 9>&- &
	local pid=$! i
	echo $pid >"$dir/$name.pid"
	# The PID goes bash -> setsid -> run-NAME.sh -> NAME by exec; until the last exec,
	# cluster_pid_alive would call it dead. Wait for it (or for its death), so that every
	# later check can insist on the component's own binary.
	for ((i = 0; i < 100; i++)); do
		cluster_pid_alive "$dir" "$name" && return
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
}

# cluster_stop DIR NAME: SIGTERM, wait up to CLUSTER_STOP_GRACE seconds, then SIGKILL.
# Removes DIR/NAME.pid. Succeeds when nothing is running, so it can be repeated.
cluster_stop() {
	local dir=$1 name=$2 pid i
	if cluster_pid_alive "$dir" "$name"; then
		pid=$(cat "$dir/$name.pid")
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < CLUSTER_STOP_GRACE * 10; i++)); do
			cluster_pid_alive "$dir" "$name" || break
			sleep 0.1
		done
		if cluster_pid_alive "$dir" "$name"; then
			cluster_log "$name (pid $pid) ignored SIGTERM for ${CLUSTER_STOP_GRACE}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			while cluster_pid_alive "$dir" "$name"; do sleep 0.1; done
		fi
	fi
	rm -f "$dir/$name.pid"
}

# cluster_wait DIR NAME CHECK...: run the command CHECK... every 0.2s until it succeeds
# (return 0), the component dies, or CLUSTER_READY_TIMEOUT passes (return 1, saying why).
cluster_wait() {
	local dir=$1 name=$2
	shift 2
	local deadline=$((SECONDS + CLUSTER_READY_TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! cluster_pid_alive "$dir" "$name"; then
			cluster_log "$name exited during startup"
			return 1
		fi
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	cluster_log "$name not ready after ${CLUSTER_READY_TIMEOUT}s"
	return 1
}

# cluster_log_tail DIR NAME: the end of a component's log, for a failure report.
cluster_log_tail() {
	local dir=$1 name=$2
	echo "----- last 40 lines of $dir/$name.log -----" >&2
	tail -n 40 "$dir/$name.log" >&2 2>/dev/null || echo "(no log)" >&2
	echo "----- end of $name.log -----" >&2
}

# cluster_readyz DIR: one /readyz probe of the API server as admin. -f makes anything
# other than 200 a failure; /readyz answers 500 with the failing checks until every
# post-start hook (RBAC bootstrap roles among them) has run.
cluster_readyz() {
	local dir=$1
	curl -sf --max-time 2 --cacert "$dir/pki/ca.crt" \
		--cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" \
		"https://127.0.0.1:$(cat "$dir/port")/readyz"
}

# cluster_etcd_health DIR: one probe of etcd's /health (plain HTTP on loopback).
cluster_etcd_health() {
	local dir=$1
	curl -sf --max-time 2 "$(cat "$dir/etcd-url")/health" | grep -q '"health":"true"'
}

# cluster_apiserver_start DIR: start kube-apiserver and wait until /readyz says ok.
# On failure prints the tail of its log, stops it and returns 1.
cluster_apiserver_start() {
	local dir=$1
	if cluster_pid_alive "$dir" kube-apiserver; then
		cluster_log "kube-apiserver already running (pid $(cat "$dir/kube-apiserver.pid"))"
		return 1
	fi
	cluster_start "$dir" kube-apiserver
	if ! cluster_wait "$dir" kube-apiserver cluster_readyz "$dir"; then
		cluster_log_tail "$dir" kube-apiserver
		cluster_stop "$dir" kube-apiserver
		return 1
	fi
	# The PID changes on every restart; keep DIR/env truthful for whoever sources it later.
	if [ -f "$dir/env" ]; then
		sed -i "s/^export CLUSTER_APISERVER_PID=.*/export CLUSTER_APISERVER_PID=$(cat "$dir/kube-apiserver.pid")/" "$dir/env"
	fi
}
