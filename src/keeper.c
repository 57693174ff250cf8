/* keeper.c: see keeper.h. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "clock.h"
#include "duration.h"
#include "fds.h"
#include "ident.h"
#include "keeper.h"
#include "log.h"
#include "record.h"
#include "sig.h"

#define KEEPER_RETRY_MS	1000	/* pause after a failed watch */

/* What the keeper tells acquire, once, through a pipe. */
struct keeper_report {
	int		outcome;	/* enum lock_outcome */
	uint64_t	token;
};

/* Holds the lock until it is no longer ours, or a signal says stop (then releases it). */
static void
keeper_hold(const struct lock_ctx *c, struct lock_hold *h)
{
	for (;;) {
		enum lock_outcome	o;

		if (sig_pending()) {
			lock_hold_unwatch(c, h);
			while (sig_take() != 0)
				;
			lock_release(c);
			return;
		}
		if ((o = lock_hold_tend(c, h, CLOCK_NEVER)) == LOCK_LOST)
			return;
		if (o == LOCK_ERR)
			sig_nap(KEEPER_RETRY_MS);
	}
}

/* The keeper: acquire as its own owner, report, let go of the step, hold. Never returns. */
static void
keeper_main(const struct lock_ctx *parent_ctx, pid_t parent, int report_fd)
{
	struct lock_ctx		c = *parent_ctx;
	struct record_info	info = *parent_ctx->info;
	struct lock_hold	h;
	struct ident		me;
	struct keeper_report	rep;
	ssize_t			n;

	/* While acquiring, the keeper dies with acquire (a SIGTERM it handles: no trace). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(1);
	if (ident_self(&me, parent_ctx->me->host, (long)getpid()) != 0)
		_exit(1);
	info.keeper = 1;
	c.me = &me;
	c.info = &info;
	c.pid_given = 1;
	memset(&h, 0, sizeof(h));
	rep.outcome = lock_hold_acquire(&c, &h);
	rep.token = h.token;
	if (rep.outcome == LOCK_OK) {
		prctl(PR_SET_PDEATHSIG, 0);
		/* acquire died before it could hear of it: give the lock back. */
		if (sig_pending() || getppid() != parent) {
			lock_release(&c);
			rep.outcome = LOCK_INTERRUPTED;
		}
	}
	while ((n = write(report_fd, &rep, sizeof(rep))) == -1 && errno == EINTR)
		;
	close(report_fd);
	if (rep.outcome != LOCK_OK || n != (ssize_t)sizeof(rep))
		_exit(0);
	fflush(stdout);
	fflush(stderr);
	fds_detach_std();
	keeper_hold(&c, &h);
	_exit(0);
}

enum lock_outcome
keeper_acquire(const struct lock_ctx *c, uint64_t *token)
{
	struct keeper_report	rep;
	char			ttl[32];
	pid_t			child, self = getpid();
	size_t			got = 0;
	int			p[2], forwarded = 0;

	if (pipe(p) != 0) {
		log_error("cannot start the keeper: pipe: %s", strerror(errno));
		return LOCK_ERR;
	}
	fflush(stdout);
	fflush(stderr);
	if ((child = fork()) == -1) {
		log_error("cannot start the keeper: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return LOCK_ERR;
	}
	if (child == 0) {
		close(p[0]);
		keeper_main(c, self, p[1]);
	}
	close(p[1]);
	/* The keeper waits and acquires; a signal for us is passed on to it, once. */
	while (got < sizeof(rep)) {
		ssize_t n = read(p[0], (char *)&rep + got, sizeof(rep) - got);

		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR) {
			if (!forwarded && sig_pending() != 0) {
				kill(child, sig_pending());
				forwarded = 1;
			}
			continue;
		}
		break;
	}
	close(p[0]);
	if (got < sizeof(rep)) {
		log_error("the keeper (pid %ld) ended before it said whether it took lock %s/%s",
		    (long)child, c->ns, c->name);
		return LOCK_ERR;
	}
	if (rep.outcome != LOCK_OK)
		return (enum lock_outcome)rep.outcome;
	*token = rep.token;
	log_info("keeper pid %ld holds lock %s/%s for owner %s and renews its ttl of %s until "
	    "`release --owner` (or the same CI job) frees it", (long)child, c->ns, c->name,
	    c->owner, duration_format(c->ttl_ms, ttl, sizeof(ttl)));
	return LOCK_OK;
}
