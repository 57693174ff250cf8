#!/usr/bin/env bash
# A soak client as a job script is written: acquire, the critical section, release, each
# carrier-lock a child of this shell, so the lock's owner is this shell's PID and release
# (and cleanup, once this shell is gone) match it without --pid. The token goes through a
# file: a $(...) subshell would be acquire's parent instead.
#
# Environment: SOAK_CL (the binary), SOAK_KUBECONFIG, SOAK_NAME, SOAK_MAX_WAIT,
# SOAK_TTL (empty: no lease), SOAK_TOKFILE, and section.sh's own.
# Exit: 0, 20+N when acquire exited N, 30+N when release exited N, 143 on SIGTERM.
ttl=()
[ -z "${SOAK_TTL:-}" ] || ttl=(--ttl "$SOAK_TTL")
"$SOAK_CL" acquire --kubeconfig "$SOAK_KUBECONFIG" --name "$SOAK_NAME" \
	--max-wait-time "$SOAK_MAX_WAIT" --print-token "${ttl[@]}" >"$SOAK_TOKFILE" || exit $((20 + $?))
read -r token <"$SOAK_TOKFILE"
. "$(dirname "$0")/section.sh" "$token"
"$SOAK_CL" release --kubeconfig "$SOAK_KUBECONFIG" --name "$SOAK_NAME" || exit $((30 + $?))
