/*
 * run.c: see run.h.
 *
 * The child runs in our process group, with the signal dispositions we were given (what
 * was ignored on entry stays ignored; the rest is default after exec). We stay its
 * parent: the lock's owner is our PID (unless --pid), so `cleanup` on this host can tell
 * when we are gone, and we release the lock after the child ends, whatever way it ends.
 * The child must not outlive us: it gets SIGKILL when we die (PR_SET_PDEATHSIG), and the
 * record names it too, so that cleanup leaves the lock alone while it still runs.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "ident.h"
#include "log.h"
#include "run.h"
#include "sig.h"

/* The command's own status when it could not be run, as shells report it. */
#define RUN_STATUS_NOEXEC	126
#define RUN_STATUS_NOTFOUND	127

#define RUN_SLICE_MS		500	/* longest sleep without checking on the child */
#define RUN_RETRY_MS		1000	/* pause after a failed watch */

struct run_state {
	const struct lock_ctx	*c;
	struct lock_hold	 h;
	struct ident		 cmd;		/* the child, once started */
	pid_t			 child;
	int			 status;	/* wait status once reaped */
	int			 reaped;
};

/* Reaps the child if it ended. Returns 1 when it has. */
static int
child_reap(struct run_state *s)
{
	pid_t	p;

	if (s->reaped)
		return 1;
	while ((p = waitpid(s->child, &s->status, WNOHANG)) == -1 && errno == EINTR)
		;
	if (p == s->child)
		s->reaped = 1;
	return s->reaped;
}

/* Handles caught signals: forwards the terminating ones, reaps on SIGCHLD. */
static void
signals_handle(struct run_state *s)
{
	int	sig;

	while ((sig = sig_take()) != 0) {
		if (sig == SIGCHLD)
			child_reap(s);
		else if (!s->reaped) {
			log_verbose("forwarding signal %d to pid %ld", sig, (long)s->child);
			kill(s->child, sig);
		}
	}
}

/*
 * In the child, before exec: die with the parent. PR_SET_PDEATHSIG fires when the parent
 * dies from now on; a parent that died before it was set is seen by getppid() (we were
 * reparented). The setting survives execve, except of a set-user-ID or file-capability
 * program (then the record's cmd-pid still keeps cleanup away while it runs).
 */
static void
child_tie(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(RUN_STATUS_NOEXEC);
}

static pid_t
child_start(const struct lock_ctx *c, char *const argv[], uint64_t token)
{
	char		tok[24];
	pid_t		pid, parent = getpid();
	sigset_t	all, old;

	snprintf(tok, sizeof(tok), "%llu", (unsigned long long)token);
	fflush(stdout);
	fflush(stderr);
	/*
	 * Signals wait while the child drops our handlers: one we forward to it before its
	 * exec must end it (or reach CMD), not be caught by a copy of us and lost.
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	if ((pid = fork()) == -1) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		log_error("cannot start %s: fork: %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t	none;

		/* What was ignored on entry stays ignored, as nohup meant it. */
		sig_default_handlers();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		child_tie(parent);
		if (setenv("CARRIER_LOCK_NAME", c->name, 1) != 0 ||
		    setenv("CARRIER_LOCK_NAMESPACE", c->ns, 1) != 0 ||
		    setenv("CARRIER_LOCK_TOKEN", tok, 1) != 0)
			_exit(RUN_STATUS_NOEXEC);
		execvp(argv[0], argv);
		fprintf(stderr, "carrier-lock: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? RUN_STATUS_NOTFOUND : RUN_STATUS_NOEXEC);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

/* Stops the child: SIGTERM, then SIGKILL after the grace period. */
static void
child_stop(struct run_state *s, int64_t grace_ms)
{
	int64_t	until;

	if (child_reap(s))
		return;
	kill(s->child, SIGTERM);
	until = clock_deadline(grace_ms);
	while (!child_reap(s) && clock_left(until) > 0) {
		sig_nap(clock_left(until) < 50 ? clock_left(until) : 50);
		signals_handle(s);
	}
	if (!child_reap(s)) {
		log_info("pid %ld did not stop within the grace period; killing it", (long)s->child);
		kill(s->child, SIGKILL);
		while (waitpid(s->child, &s->status, 0) == -1 && errno == EINTR)
			;
		s->reaped = 1;
	}
}

/*
 * Watches the lock while the child runs, and writes the record when due (the command's
 * PID at first, then every ttl/3 with a ttl). Returns 1 when the child ended, 0 when the
 * lock was lost.
 */
static int
supervise(struct run_state *s)
{
	const struct lock_ctx	*c = s->c;

	for (;;) {
		enum lock_outcome	o;

		signals_handle(s);
		if (child_reap(s)) {
			lock_hold_unwatch(c, &s->h);
			return 1;
		}
		o = lock_hold_tend(c, &s->h, clock_deadline(RUN_SLICE_MS));
		if (o == LOCK_LOST)
			return 0;
		if (o == LOCK_ERR)
			sig_nap(RUN_RETRY_MS);
	}
}

enum lock_outcome
run_locked(const struct lock_ctx *c, char *const argv[], int64_t kill_grace_ms,
    struct run_result *res)
{
	struct run_state	s;
	enum lock_outcome	o;

	memset(&s, 0, sizeof(s));
	memset(res, 0, sizeof(*res));
	s.c = c;
	if ((o = lock_hold_acquire(c, &s.h)) != LOCK_OK)
		return o;
	if ((s.child = child_start(c, argv, s.h.token)) == -1) {
		lock_release(c);
		return LOCK_ERR;
	}
	res->ran = 1;
	log_verbose("started %s as pid %ld", argv[0], (long)s.child);
	/* The record names the command from the first write on; a failure is retried. */
	s.cmd = *c->me;
	s.cmd.pid = s.child;
	if (ident_proc_start(s.child, s.cmd.proc_start, sizeof(s.cmd.proc_start)) != 0)
		s.cmd.proc_start[0] = '\0';
	s.h.cmd = &s.cmd;
	s.h.next_renew = clock_ms();
	if (!supervise(&s)) {
		log_error("stopping %s (pid %ld): the lock is no longer ours", argv[0],
		    (long)s.child);
		child_stop(&s, kill_grace_ms);
		res->status = s.status;
		return LOCK_LOST;
	}
	res->status = s.status;
	/*
	 * Release even after a forwarded signal: those were meant for the child. One more
	 * arriving during the release (make, for one, passes its SIGTERM on to us after the
	 * process group got it) is one of those too: the release is tried again; only a
	 * further one cuts it short.
	 */
	while (sig_take() != 0)
		;
	if ((o = lock_release(c)) == LOCK_INTERRUPTED) {
		while (sig_take() != 0)
			;
		o = lock_release(c);
	}
	if (o == LOCK_NOT_OWNER) {
		/* Taken over before we could release: the lease ran out while CMD ran. */
		log_error("the lock was lost before %s ended", argv[0]);
		return LOCK_LOST;
	}
	return o;
}
