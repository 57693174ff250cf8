#!/bin/sh
# kubectl-lock.sh: the lock a user would script with kubectl alone. The lock is held while
# ConfigMap NAME exists; data.holder names the holder.
#
#   kubectl-lock.sh acquire NAME ID        returns 0 once ID holds it; polls every 1 s
#   kubectl-lock.sh release NAME ID        frees it (delete) if ID holds it
#   kubectl-lock.sh run NAME ID CMD...     acquire, CMD, release; CMD's status
#
# Taking is `kubectl create` (fails when the object exists); a lock whose holder is empty
# (a tool that frees by emptying it) is taken by a `kubectl replace` that carries the
# resourceVersion read, so a 409 means someone else won. $KUBECTL is the kubectl binary,
# $KUBECONFIG the cluster; namespace: the context's.
set -u
KUBECTL=${KUBECTL:-kubectl}
action=$1 name=$2 id=$3
shift 3

acquire() {
	while :; do
		# While it is held a waiter costs one kubectl (one GET) per second.
		state=$("$KUBECTL" get configmap "$name" --ignore-not-found \
		    -o 'jsonpath={.metadata.resourceVersion} {.data.holder}' 2>/dev/null) || state="?"
		case $state in
		('')	"$KUBECTL" create configmap "$name" --from-literal=holder="$id" \
			    >/dev/null 2>&1 && return 0 ;;
		(*' ')	rv=${state% }
			"$KUBECTL" replace -f - >/dev/null 2>&1 <<-YAML && return 0
			apiVersion: v1
			kind: ConfigMap
			metadata: {name: "$name", resourceVersion: "$rv"}
			data: {holder: "$id"}
			YAML
			;;
		(*)	sleep 1 ;;
		esac
	done
}

release() {
	holder=$("$KUBECTL" get configmap "$name" --ignore-not-found -o 'jsonpath={.data.holder}') || return 1
	[ -z "$holder" ] && return 0
	[ "$holder" = "$id" ] || { echo "kubectl-lock: held by $holder" >&2; return 4; }
	"$KUBECTL" delete configmap "$name" >/dev/null
}

case $action in
(acquire) acquire ;;
(release) release ;;
(run)	acquire || exit 1
	"$@"; st=$?
	release
	exit $st ;;
(*)	echo "kubectl-lock: unknown action '$action'" >&2; exit 2 ;;
esac
