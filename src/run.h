/*
 * run.h: `carrier-lock run -- CMD [ARGS...]`: take the lock, run CMD as a child (execvp,
 * no shell) while holding it, release it when CMD ends, and exit with CMD's status.
 *
 * While CMD runs, the lock is watched (one long request, no polling) and, with --ttl,
 * renewed about every ttl/3. If the lock is lost (force-released, taken over after an
 * expired lease, or not renewable for a whole ttl), CMD gets SIGTERM, then SIGKILL after
 * the kill grace, and run exits RUN_EXIT_LOST. SIGINT, SIGTERM, SIGHUP and SIGQUIT are
 * forwarded to CMD.
 */
#ifndef CL_RUN_H
#define CL_RUN_H

#include <stdint.h>

#include "lock.h"

#define RUN_EXIT_LOST	5	/* the lock was lost while CMD ran */
#define RUN_EXIT_NOEXEC	126	/* CMD found but could not be run */
#define RUN_EXIT_NOTFOUND 127	/* CMD not found */

/*
 * Runs argv[0..] under the lock. Returns the exit code for main(): CMD's status (128+N
 * when it died of signal N), RUN_EXIT_LOST, or -1 - outcome when the lock could not be
 * taken (nothing was run then).
 */
int	run_locked(const struct lock_ctx *c, char *const argv[], int64_t kill_grace_ms);

#endif
