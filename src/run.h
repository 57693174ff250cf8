/*
 * run.h: `carrier-lock run -- CMD [ARGS...]`: take the lock, run CMD as a child (execvp,
 * no shell) while holding it, release it when CMD ends, and exit with CMD's status.
 *
 * While CMD runs, the lock is watched (one long request, no polling) and, with --ttl,
 * renewed about every ttl/3. If the lock is lost (force-released, taken over after an
 * expired lease, or not renewable for a whole ttl), CMD gets SIGTERM, then SIGKILL after
 * the kill grace, and the outcome is LOCK_LOST. Every signal that sig.h catches is
 * forwarded to CMD; CMD dies with carrier-lock if carrier-lock is killed.
 */
#ifndef CL_RUN_H
#define CL_RUN_H

#include <stdint.h>

#include "lock.h"

struct run_result {
	int	ran;		/* CMD was started */
	int	status;		/* then: its wait status (126/127: it could not be run) */
};

/*
 * Runs argv[0..] under the lock. Returns LOCK_OK when CMD ran and the lock was released
 * after it; LOCK_LOST when the lock was lost while CMD ran (CMD was stopped) or before
 * the release; LOCK_ERR with res->ran when the release failed; else why the lock was
 * not taken (nothing was run then).
 */
enum lock_outcome	run_locked(const struct lock_ctx *c, char *const argv[],
			    int64_t kill_grace_ms, struct run_result *res);

#endif
