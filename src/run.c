/*
 * run.c: see run.h.
 *
 * The child runs in our process group with default signal handling. We stay its parent:
 * the lock's owner is our PID (unless --pid), so `cleanup` on this host can tell when we
 * are gone, and we release the lock after the child ends, whatever way it ends.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "duration.h"
#include "ident.h"
#include "kube.h"
#include "log.h"
#include "record.h"
#include "run.h"
#include "sig.h"

#define RUN_SLICE_MS		500	/* longest sleep without checking on the child */
#define RUN_RETRY_MS		1000	/* pause after a failed renewal or read */

struct run_state {
	const struct lock_ctx	*c;
	uint64_t		 token;
	pid_t			 child;
	int			 status;	/* wait status once reaped */
	int			 reaped;
	char			 rv[64];	/* our record's last known resourceVersion */
	char			 watch_rv[64];	/* where to watch from: a list's, or an event's */
	char			 start_time[64];
	uint64_t		 renewals;
	int64_t			 last_renewed;	/* clock_ms() when our last confirmed write was sent */
	int64_t			 next_renew;	/* CLOCK_NEVER without a ttl */
};

/*
 * When our lease ends by our own clock: a tenth of the ttl before a waiter can take the
 * lock over (a waiter counts from when it saw our last write, which is after we sent it),
 * so that the command is being stopped before anyone else may start.
 */
static int64_t
lease_end(const struct run_state *s)
{
	if (s->c->ttl_ms <= 0)
		return CLOCK_NEVER;
	return s->last_renewed + s->c->ttl_ms - s->c->ttl_ms / 10;
}

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

static pid_t
child_start(const struct lock_ctx *c, char *const argv[], uint64_t token)
{
	char	tok[24];
	pid_t	pid;

	snprintf(tok, sizeof(tok), "%llu", (unsigned long long)token);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		log_error("cannot start %s: fork: %s", argv[0], strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t	none;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (setenv("CARRIER_LOCK_NAME", c->name, 1) != 0 ||
		    setenv("CARRIER_LOCK_NAMESPACE", c->ns, 1) != 0 ||
		    setenv("CARRIER_LOCK_TOKEN", tok, 1) != 0)
			_exit(RUN_EXIT_NOEXEC);
		execvp(argv[0], argv);
		fprintf(stderr, "carrier-lock: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(errno == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC);
	}
	return pid;
}

/* Sleeps up to ms, waking early for a signal. */
static void
nap(int64_t ms)
{
	int64_t	until = clock_deadline(ms);

	while (clock_left(until) > 0 && !sig_pending())
		poll(NULL, 0, clock_left(until));
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
		nap(clock_left(until) < 50 ? clock_left(until) : 50);
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
 * Is cm still our lock? Notes its resourceVersion when it is. 1 yes, 0 lost (and why
 * logged), -1 unreadable record (treated as lost too: someone wrote over it).
 */
static int
still_ours(struct run_state *s, const struct kube_cm *cm)
{
	struct record	 r;
	const char	*why;
	int		 ours;

	if (record_is_free(cm->holder)) {
		log_error("lock %s/%s was released by someone else while the command ran",
		    s->c->ns, s->c->name);
		return 0;
	}
	if (record_parse(cm->holder, &r, &why) != 0) {
		log_error("lock %s/%s was overwritten while the command ran: %s",
		    s->c->ns, s->c->name, why);
		return 0;
	}
	ours = r.token == s->token && r.pid == s->c->me->pid &&
	    strcmp(r.host, s->c->me->host) == 0;
	if (!ours)
		log_error("lock %s/%s was taken by host %s pid %ld (token %llu) while the "
		    "command ran", s->c->ns, s->c->name, r.host, r.pid,
		    (unsigned long long)r.token);
	else {
		snprintf(s->rv, sizeof(s->rv), "%s", cm->rv);
		/* A list's version is inside the server's watch window even after a restart. */
		snprintf(s->watch_rv, sizeof(s->watch_rv), "%s",
		    cm->list_rv != NULL ? cm->list_rv : cm->rv);
		snprintf(s->start_time, sizeof(s->start_time), "%s", r.start_time);
		s->renewals = r.renewals;
	}
	record_clear(&r);
	return ours;
}

/* Reads the lock: 1 ours, 0 lost, -1 could not tell (retry later). */
static int
check(struct run_state *s)
{
	struct kube_cm	cm;
	enum kube_rc	rc;
	int		ours;

	rc = kube_cm_list(s->c->kb, s->c->ns, s->c->name, &cm);
	if (rc == KUBE_NOT_FOUND) {
		kube_cm_clear(&cm);
		log_error("lock %s/%s was deleted while the command ran", s->c->ns, s->c->name);
		return 0;
	}
	if (rc != KUBE_OK)
		return -1;
	ours = still_ours(s, &cm);
	kube_cm_clear(&cm);
	return ours;
}

/*
 * Renews the lease: rewrites our record (renewals + 1), conditional on the version just
 * read, if it is still ours. The update starts from that read, so labels and annotations
 * on the ConfigMap are kept. Returns 1 renewed, 0 lost, -1 could not tell (retry).
 */
static int
renew(struct run_state *s)
{
	struct kube_cm	 cur, now;
	enum kube_rc	 rc;
	char		*rec, fence[24];
	int		 ours;
	int64_t		 sent;

	rc = kube_cm_list(s->c->kb, s->c->ns, s->c->name, &cur);
	if (rc == KUBE_NOT_FOUND) {
		kube_cm_clear(&cur);
		log_error("lock %s/%s was deleted while the command ran", s->c->ns, s->c->name);
		return 0;
	}
	if (rc != KUBE_OK)
		return -1;
	if ((ours = still_ours(s, &cur)) != 1) {
		kube_cm_clear(&cur);
		return ours;
	}
	snprintf(fence, sizeof(fence), "%llu", (unsigned long long)s->token);
	rec = record_build(s->c->me, s->token, s->start_time, s->c->ttl_ms, s->renewals + 1);
	if (rec == NULL) {
		kube_cm_clear(&cur);
		return -1;
	}
	sent = clock_ms();
	rc = kube_cm_update(s->c->kb, s->c->ns, s->c->name, &cur, rec, fence, &now);
	free(rec);
	kube_cm_clear(&cur);
	if (rc == KUBE_CONFLICT)
		return check(s) == 1 ? -1 : 0;
	if (rc != KUBE_OK)
		return -1;
	ours = still_ours(s, &now);
	kube_cm_clear(&now);
	if (ours == 1) {
		s->last_renewed = sent;
		log_verbose("renewed lock %s/%s (renewal %llu)", s->c->ns, s->c->name,
		    (unsigned long long)s->renewals);
	}
	return ours;
}

/*
 * Watches the lock while the child runs. Returns 1 when the child ended, 0 when the lock
 * was lost.
 */
static int
supervise(struct run_state *s)
{
	int	watching = 0;
	int64_t	opened = 0;

	for (;;) {
		struct kube_cm		ev;
		enum kube_watch_rc	rc;
		int64_t			until;

		signals_handle(s);
		if (child_reap(s)) {
			if (watching)
				kube_watch_close(s->c->kb);
			return 1;
		}
		if (clock_left(lease_end(s)) == 0) {
			log_error("lock %s/%s could not be renewed within its ttl; it may be "
			    "taken over", s->c->ns, s->c->name);
			if (watching)
				kube_watch_close(s->c->kb);
			return 0;
		}
		if (clock_left(s->next_renew) == 0) {
			int r;

			if (watching)
				kube_watch_close(s->c->kb);
			watching = 0;
			if ((r = renew(s)) == 0)
				return 0;
			s->next_renew = clock_deadline(r == 1 ? s->c->ttl_ms / 3 : RUN_RETRY_MS);
			continue;
		}
		if (!watching) {
			opened = clock_ms();
			rc = kube_watch_open(s->c->kb, s->c->ns, s->c->name, s->watch_rv,
			    s->next_renew);
			if (rc != KUBE_WATCH_CHANGED) {
				if (rc == KUBE_WATCH_RESTART && check(s) == 0)
					return 0;
				nap(RUN_RETRY_MS);
				continue;
			}
			watching = 1;
		}
		until = clock_deadline(RUN_SLICE_MS);
		if (s->next_renew < until)
			until = s->next_renew;
		if (lease_end(s) < until)
			until = lease_end(s);
		rc = kube_watch_next(s->c->kb, until, &ev);
		if (rc == KUBE_WATCH_DEADLINE || rc == KUBE_WATCH_INTR) {
			if (rc == KUBE_WATCH_INTR)
				watching = 0;	/* the stream was closed */
			continue;
		}
		if (rc == KUBE_WATCH_CHANGED) {
			int ours = still_ours(s, &ev);
			kube_cm_clear(&ev);
			if (!ours) {
				kube_watch_close(s->c->kb);
				return 0;
			}
			continue;
		}
		watching = 0;
		if (rc == KUBE_WATCH_RESTART) {
			int ours = check(s);
			if (ours == 0)
				return 0;
			/* A stream that ends as soon as it opens must not become a loop. */
			if (ours == 1 && clock_ms() - opened >= RUN_RETRY_MS)
				continue;
		}
		nap(RUN_RETRY_MS);
	}
}

int
run_locked(const struct lock_ctx *c, char *const argv[], int64_t kill_grace_ms)
{
	struct run_state	s;
	enum lock_outcome	o;
	int			lost, code;

	memset(&s, 0, sizeof(s));
	s.c = c;
	if ((o = lock_acquire(c, &s.token, &s.last_renewed)) != LOCK_OK)
		return -1 - (int)o;
	s.next_renew = c->ttl_ms > 0 ? clock_deadline(c->ttl_ms / 3) : CLOCK_NEVER;
	/* Our record's version, to watch from; a failure here is retried in supervise(). */
	if (check(&s) == 0)
		return RUN_EXIT_LOST;
	if ((s.child = child_start(c, argv, s.token)) == -1) {
		lock_release(c);
		return 1;
	}
	log_verbose("started %s as pid %ld", argv[0], (long)s.child);
	lost = !supervise(&s);
	if (lost) {
		log_error("stopping %s (pid %ld): the lock is no longer ours", argv[0],
		    (long)s.child);
		child_stop(&s, kill_grace_ms);
		return RUN_EXIT_LOST;
	}
	if (WIFEXITED(s.status))
		code = WEXITSTATUS(s.status);
	else if (WIFSIGNALED(s.status))
		code = 128 + WTERMSIG(s.status);
	else
		code = 1;
	/* Release even after a forwarded signal: those were meant for the child. */
	while (sig_take() != 0)
		;
	o = lock_release(c);
	if (o == LOCK_NOT_OWNER) {
		/* Taken over before we could release: the lease ran out while CMD ran. */
		log_error("the lock was lost before %s ended", argv[0]);
		return RUN_EXIT_LOST;
	}
	if (o != LOCK_OK && code == 0)
		code = 1;
	return code;
}
