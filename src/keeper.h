/*
 * keeper.h: `acquire --ttl DUR --keep`: a lock held across the steps of a CI job, each
 * of which runs in a shell of its own.
 *
 * acquire forks a keeper. The keeper takes the lock as its own owner process (the record
 * names it, with the job's owner key and "keeper": true), while acquire waits for the
 * outcome and exits with it; then the keeper lets go of the step's stdin, stdout and
 * stderr (so that the step can end) and renews the lease about every ttl/3. It ends when
 * the lock is no longer its own (the job's later `release`, matched by the owner key,
 * freed it; or it was taken over), releasing it first when it gets a signal that says
 * stop (the CI aborting the job: SIGTERM, SIGINT, SIGHUP). If it is SIGKILLed, the lease
 * runs out within the ttl. cleanup on its host frees the lock once the keeper is gone.
 *
 * The keeper stays in the job's process group and session and keeps its environment, so
 * a CI that kills a job's processes on abort (by group, session or environment, as
 * Jenkins, GitLab and GitHub Actions do) kills it too.
 */
#ifndef CL_KEEPER_H
#define CL_KEEPER_H

#include <stdint.h>

#include "lock.h"

/*
 * Takes the lock for c by a keeper process (c->ttl_ms > 0, c->owner set). Returns the
 * keeper's acquire outcome; *token gets the fencing token when LOCK_OK.
 */
enum lock_outcome	keeper_acquire(const struct lock_ctx *c, uint64_t *token);

#endif
