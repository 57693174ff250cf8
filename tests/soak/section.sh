#!/usr/bin/env bash
# The soak's critical section (tests/soak/soak.py). Stamps the shared log on the way in and
# out, one line per write (O_APPEND: the log is one total order of events):
#
#   enter TOKEN PID TIME SID      TIME: $EPOCHREALTIME, SID: the soak's name for this section
#   busy  TOKEN PID TIME SID      every 50 ms of a long section (SOAK_HOLD seconds)
#   leave TOKEN PID TIME SID      at the end
#   term  TOKEN PID TIME SID      ended early by SIGTERM (run forwards it; run's lost lock)
#
# Run clients run it as their command (token from CARRIER_LOCK_TOKEN, PID = this shell);
# shell clients source it between acquire and release with the token as $1 (PID = the
# client shell, the lock's owner). Environment: SOAK_LOG, SOAK_SID, SOAK_NAP (seconds,
# a few ms), SOAK_HOLD (whole seconds, 0 = short): a long section is one the soak kills.
soak_token=${1:-${CARRIER_LOCK_TOKEN:?no token}}
soak_left=
trap '[ -n "$soak_left" ] || printf "term %s %s %s %s\n" "$soak_token" $$ "$EPOCHREALTIME" "$SOAK_SID" >>"$SOAK_LOG"; exit 143' TERM
printf 'enter %s %s %s %s\n' "$soak_token" $$ "$EPOCHREALTIME" "$SOAK_SID" >>"$SOAK_LOG"
if [ "${SOAK_HOLD:-0}" -gt 0 ]; then
	for ((soak_i = 0; soak_i < SOAK_HOLD * 20; soak_i++)); do
		sleep 0.05
		printf 'busy %s %s %s %s\n' "$soak_token" $$ "$EPOCHREALTIME" "$SOAK_SID" >>"$SOAK_LOG"
	done
else
	sleep "${SOAK_NAP:-0.005}"
fi
printf 'leave %s %s %s %s\n' "$soak_token" $$ "$EPOCHREALTIME" "$SOAK_SID" >>"$SOAK_LOG"
soak_left=1
trap - TERM
