/*
 * lock.c: see lock.h.
 *
 * Every write is conditional: a create fails if the ConfigMap exists, an update if its
 * resourceVersion moved since we read it. On a conflict we read again and decide again.
 * A write whose reply was lost is resolved by the next read: if the record then names
 * us, the write went through.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "duration.h"
#include "ident.h"
#include "kube.h"
#include "lock.h"
#include "lock_int.h"
#include "log.h"
#include "record.h"
#include "sig.h"
#include "text.h"

#define LOCK_RETRIES		5	/* tries of a failing call, when not waiting */
#define LOCK_BACKOFF_MIN_MS	250
#define LOCK_BACKOFF_MAX_MS	10000
#define LOCK_RETRY_AFTER_MAX_S	60	/* the longest Retry-After we honour */
#define LOCK_TRY_MIN_MS		500	/* least time worth another try within call_deadline */
#define LOCK_STATUS_EVERY_MS	30000	/* how often a waiter says who holds the lock */
_Static_assert(LOCK_RV_SIZE == KUBE_RV_MAX + 1, "versions are never cut");
#define LOCK_SERVER_SLACK_MS	2000	/* both server times are whole seconds */
#define LOCK_FENCE_MAX		UINT64_C(9999999999999999999)	/* 19 digits */

/*
 * Sleeps for the n-th retry: exponential from 250 ms to 10 s, jittered by +-50% so that
 * waiters released together do not return together; at least what Retry-After asked
 * (up to LOCK_RETRY_AFTER_MAX_S). Returns 0, -1 when a signal arrived, or 1 (at once)
 * when the call's deadline leaves no time for a try after it.
 */
static int
backoff(const struct lock_ctx *c, int n)
{
	int64_t		ms = LOCK_BACKOFF_MIN_MS;
	unsigned	ra = kube_retry_after(c->kb);
	int64_t		until;

	while (n-- > 0 && ms < LOCK_BACKOFF_MAX_MS)
		ms *= 2;
	if (ms > LOCK_BACKOFF_MAX_MS)
		ms = LOCK_BACKOFF_MAX_MS;
	ms = ms / 2 + (int64_t)(random() % (ms + 1));
	if (ra > LOCK_RETRY_AFTER_MAX_S)
		ra = LOCK_RETRY_AFTER_MAX_S;
	if ((int64_t)ra * 1000 > ms)
		ms = (int64_t)ra * 1000;
	until = clock_deadline(ms);
	/* A try that the bound of the whole call would cut short says nothing new. */
	if (c->call_deadline != CLOCK_NEVER &&
	    clock_left(c->call_deadline) < ms + LOCK_TRY_MIN_MS) {
		log_verbose("no time left within --request-timeout for another try");
		return 1;
	}
	log_verbose("retrying in %lld ms", (long long)ms);
	while (clock_left(until) > 0) {
		if (sig_pending())
			return -1;
		poll(NULL, 0, clock_left(until));
	}
	return sig_pending() ? -1 : 0;
}

/* The fencing counter stored beside the record (0 when absent); -1 when not a number. */
int
lock_fence_parse(const char *s, uint64_t *v)
{
	*v = 0;
	if (s == NULL)
		return 0;
	/* Below 10^19, so that the next token cannot overflow. */
	return text_u64(s, strlen(s), LOCK_FENCE_MAX, v);
}

/*
 * Where tokens go on from when the ConfigMap has no counter (absent, deleted, made by
 * hand or by the original tool) or a hand-edited one: its resourceVersion, or the list's
 * when it is absent. kube-apiserver's versions are etcd's revision, which every write in
 * the cluster raises; each acquisition is a write and raises its token by one, so a
 * token never exceeds the revision of its write, and a counter started from a later
 * revision is above every token handed out before, also by a ConfigMap since deleted.
 * A server whose versions are not numbers (they are opaque by contract) gives 0: tokens
 * then restart after a deletion, as README says.
 */
uint64_t
lock_fence_floor(const char *rv)
{
	uint64_t	v;

	if (rv == NULL || lock_fence_parse(rv, &v) != 0) {
		log_verbose("resourceVersion %s is not a number; tokens count from 0",
		    rv != NULL ? rv : "(none)");
		return 0;
	}
	return v;
}

/* See lock.h on ownership. */
int
lock_is_me(const struct lock_ctx *c, const struct record *r)
{
	if (r->owner != NULL && c->owner != NULL)
		return strcmp(r->owner, c->owner) == 0;
	if (strcmp(r->host, c->me->host) != 0)
		return 0;
	if (c->pid_given)
		return r->pid == c->me->pid;
	return ident_is_self_or_ancestor(r->pid, r->proc_start);
}

/*
 * What a record says of its holder beyond host, PID and time, as " (owner K; reason R;
 * URL)", or "". Into buf; the log sanitises it.
 */
const char *
lock_holder_details(const struct record *r, char *buf, size_t bufsz)
{
	const char	*v[4] = { r->owner, r->reason, r->ci_job, r->ci_url };
	const char	*tag[4] = { "owner ", "reason: ", "", "" };
	size_t		 i, len = 0;
	int		 w;

	buf[0] = '\0';
	for (i = 0; i < 4; i++) {
		if (v[i] == NULL)
			continue;
		w = snprintf(buf + len, bufsz - len, "%s%s%s", len == 0 ? " (" : "; ", tag[i],
		    v[i]);
		if (w < 0 || (size_t)w >= bufsz - len)
			break;
		len += (size_t)w;
	}
	if (len > 0 && len + 2 <= bufsz)
		memcpy(buf + len, ")", 2);
	return buf;
}

void
lock_report_corrupt(const struct lock_ctx *c, const char *holder, const char *why)
{
	char	show[LOCK_SHOW_MAX + 4];

	log_error("configmaps/%s in namespace %s: %s: %s; it was left as it is "
	    "(force-release replaces it)", c->name, c->ns, why,
	    log_sanitize(show, sizeof(show), holder, strlen(holder)));
}

/* "1st", "2nd", "3rd", "4th", ..., "11th", "12th", "13th", "21st", ... */
static const char *
ordinal(int n, char *buf, size_t bufsz)
{
	const char	*suf = "th";

	if (n % 100 < 11 || n % 100 > 13)
		suf = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
	snprintf(buf, bufsz, "%d%s", n, suf);
	return buf;
}

/*
 * Who holds the lock, and our place: "...; 3rd in line, waiting 12m0s of 2h0m0s". The
 * place is known once the queue was read (the first time after LOCK_STATUS_EVERY_MS,
 * then whenever the lock is free or expired) and counted down by each grant seen since.
 */
static void
say_waiting(const struct lock_ctx *c, const struct record *r, int64_t deadline,
    const struct lock_queue *q, int64_t started)
{
	char	limit[64], waited[64], more[LOCK_DETAILS_MAX], place[48], nth[16];

	place[0] = '\0';
	if (q != NULL && lock_queue_joined(q) && q->position > 0)
		snprintf(place, sizeof(place), "%s in line, ", ordinal(q->position, nth,
		    sizeof(nth)));
	else if (q != NULL && lock_queue_joined(q))
		snprintf(place, sizeof(place), "in line, ");
	if (deadline == CLOCK_NEVER)
		snprintf(limit, sizeof(limit), ", no limit");
	else {
		memcpy(limit, " of ", 5);
		duration_format(deadline - started, limit + 4, sizeof(limit) - 4);
	}
	duration_format(clock_ms() - started, waited, sizeof(waited));
	log_info("lock %s/%s is held by host %s pid %ld since %s%s; %swaiting %s%s",
	    c->ns, c->name, r->host, r->pid, r->start_time,
	    lock_holder_details(r, more, sizeof(more)), place, waited, limit);
}

/*
 * When a holder's lease has run out, judged two ways, the earlier one deciding; neither
 * compares clocks of different hosts:
 * - by the server: it stamps each write (metadata.managedFields[].time) and each reply
 *   (Date), both by its own clock, in whole seconds. A version the server stored more
 *   than ttl + LOCK_SERVER_SLACK_MS ago has not been renewed for more than ttl + 1 s.
 *   This lets a waiter that just arrived (even --max-wait-time 0) take over a crashed
 *   holder's lock. It assumes the API servers' clocks agree to within that second.
 * - by the waiter: the resourceVersion it last saw and since when by its own clock; the
 *   same version for a whole ttl means no renewal (the fallback, when the server gives
 *   no times).
 * The holder ends its own lease a tenth of the ttl early (lock_hold_lease_end), so both
 * rules only ever take over a lease the holder has already given up.
 */
struct lease_view {
	char	rv[LOCK_RV_SIZE];
	int64_t	since;
};

/* Notes the version of a held lock read as cm; returns when it expires (CLOCK_NEVER: no ttl). */
static int64_t
lease_note(struct lease_view *v, const struct kube_cm *cm, const struct record *r)
{
	int64_t	now = clock_ms(), expires, by_server;

	if (strcmp(v->rv, cm->rv) != 0) {
		snprintf(v->rv, sizeof(v->rv), "%s", cm->rv);
		v->since = now;
	}
	if (r->ttl_ms <= 0)
		return CLOCK_NEVER;
	expires = v->since + r->ttl_ms;
	if (cm->written > 0 && cm->server_now > 0) {
		by_server = now + r->ttl_ms + LOCK_SERVER_SLACK_MS -
		    (cm->server_now - cm->written) * 1000;
		if (by_server < expires)
			expires = by_server;
	}
	return expires;
}

/* An acquire's state across its reads. */
struct acquire {
	int64_t			deadline;	/* of --max-wait-time; CLOCK_NEVER */
	int64_t			started;	/* clock_ms() when acquire began */
	int64_t			next_status;	/* when to say again who holds the lock */
	int64_t			sent_at;	/* clock_ms() when the winning write was sent */
	int64_t			recheck;	/* when to read the queue again (CLOCK_NEVER) */
	struct lease_view	lease;
	struct lock_queue	q;
	struct kube_cm		ev;		/* the change a wait ended on, read next */
	struct kube_cm		written;	/* the lock as our last write left it */
	int			have_ev;
	int			reads;		/* successful reads of the lock so far */
	int			fails;		/* failed calls in a row */
	int			newly;		/* taken by this call (not held already) */
	int			by_grant;	/* taken up as handed to us: the release that
						   handed it deletes our Lease */
};

/* What wait_change() saw. */
enum wait_result {
	WAIT_READ_AGAIN,	/* it changed (or the watch ended): read the lock again */
	WAIT_DEADLINE,		/* --max-wait-time passed: read once more, then time out */
	WAIT_FAILED,		/* *o says why (interrupted, or an error already reported) */
};

/* Backs off after a failed watch. */
static enum wait_result
wait_backoff(const struct lock_ctx *c, struct acquire *a, enum lock_outcome *o)
{
	int	r = backoff(c, a->fails++);

	if (r == 0)
		return WAIT_READ_AGAIN;
	*o = r < 0 ? LOCK_INTERRUPTED : LOCK_ERR;
	return WAIT_FAILED;
}

/* Whether r is a grant of the lock to our place in the queue. */
static int
granted_to_us(const struct acquire *a, const struct record *r)
{
	return lock_queue_joined(&a->q) && r->queue != NULL &&
	    strcmp(r->queue, a->q.l.name) == 0;
}

/*
 * Keeps our place in the queue while waiting; 0, or -1 when it was lost (we join again
 * on the next read).
 */
static int
wait_tend(const struct lock_ctx *c, struct acquire *a)
{
	return lock_queue_tend(c, &a->q) == KUBE_NOT_FOUND ? -1 : 0;
}

/*
 * Waits on a watch for the lock read as cm to change in a way that matters: freed,
 * deleted, handed to us, its lease expired, or a->recheck reached (the queue ahead may
 * have moved). Renews our place in the queue when due; says every 30 s who holds it.
 * A change that ends the wait is kept in a->ev, to be decided on without a read.
 */
static enum wait_result
wait_change(const struct lock_ctx *c, const struct kube_cm *cm, struct acquire *a,
    enum lock_outcome *o)
{
	struct record		r;
	enum kube_watch_rc	rc;
	const char		*why;
	int64_t			expires = CLOCK_NEVER, opened, deadline = a->deadline;
	enum wait_result	out = WAIT_READ_AGAIN;
	int			held = !record_is_free(cm->holder);

	memset(&r, 0, sizeof(r));
	if (held && record_parse(cm->holder, &r, &why) != 0)
		return WAIT_READ_AGAIN;
	/* Expired already: that was decided on (not our turn); a->recheck says when next. */
	if (held && clock_left(expires = lease_note(&a->lease, cm, &r)) == 0)
		expires = CLOCK_NEVER;
	opened = clock_ms();
	rc = kube_watch_open(c->kb, c->ns, c->name, cm->list_rv ? cm->list_rv : cm->rv,
	    cm->list_rv == NULL, deadline);
	while (rc == KUBE_WATCH_CHANGED) {
		struct kube_cm	ev;
		int64_t		until = deadline;

		if (held && a->next_status < until)
			until = a->next_status;
		if (expires < until)
			until = expires;
		if (a->recheck < until)
			until = a->recheck;
		if (lock_queue_joined(&a->q) && a->q.next_renew < until)
			until = a->q.next_renew;
		rc = kube_watch_next(c->kb, until, &ev);
		if (rc == KUBE_WATCH_DEADLINE) {
			if (clock_left(deadline) == 0 || clock_left(expires) == 0 ||
			    clock_left(a->recheck) == 0 || wait_tend(c, a) != 0) {
				kube_watch_close(c->kb);
				if (clock_left(deadline) == 0)
					out = WAIT_DEADLINE;
				goto done;
			}
			if (held && clock_left(a->next_status) == 0) {
				if (lock_queue_joined(&a->q) && a->q.position == 0) {
					int64_t		t;
					enum kube_rc	qrc;

					/* Our place, once; grants count it down from here. */
					lock_queue_may_take(c, &a->q, NULL, &t, &qrc);
				}
				say_waiting(c, &r, deadline, &a->q, a->started);
				a->next_status = clock_deadline(LOCK_STATUS_EVERY_MS);
			}
			rc = KUBE_WATCH_CHANGED;
			continue;
		}
		if (rc != KUBE_WATCH_CHANGED)
			break;
		/* Still held (by the same or a new holder, or renewed)? Keep watching. */
		if (!record_is_free(ev.holder)) {
			struct record nr;
			if (record_parse(ev.holder, &nr, &why) == 0) {
				if (!granted_to_us(a, &nr)) {
					/* Handed to someone ahead of us: one place closer. */
					if (nr.queue != NULL && (!held || nr.token != r.token) &&
					    a->q.position > 1)
						a->q.position--;
					record_clear(&r);
					r = nr;
					held = 1;
					expires = lease_note(&a->lease, &ev, &r);
					kube_cm_clear(&ev);
					continue;
				}
				record_clear(&nr);
			}
		}
		kube_watch_close(c->kb);
		a->ev = ev;
		a->have_ev = 1;
		goto done;
	}
	switch (rc) {
	case KUBE_WATCH_CHANGED:
		a->fails = 0;
		break;
	case KUBE_WATCH_RESTART:
		/*
		 * A watch the server ends at once, again and again, must not become a loop.
		 * One from the object's own version (too old for the server's window: 410)
		 * is followed by a list, which gives a version to watch from.
		 */
		if (clock_ms() - opened < LOCK_WATCH_MIN_MS && cm->list_rv != NULL)
			out = wait_backoff(c, a, o);
		else
			a->fails = 0;
		break;
	case KUBE_WATCH_UNAVAILABLE:
		out = wait_backoff(c, a, o);
		break;
	case KUBE_WATCH_INTR:
		*o = LOCK_INTERRUPTED;
		out = WAIT_FAILED;
		break;
	default:
		*o = LOCK_ERR;
		out = WAIT_FAILED;
		break;
	}
done:
	record_clear(&r);
	return out;
}

/*
 * A signal arrived while our write to take the lock was under way: it may have landed.
 * Read once more, free the lock if the write made it ours, then let the signal end us
 * (it is marked pending again). A second signal cuts this short.
 */
static enum lock_outcome
settle_interrupted(const struct lock_ctx *c)
{
	struct kube_cm	 cm;
	struct record	 r;
	const char	*why;
	int		 sig = sig_take();

	if (kube_cm_get(c->kb, c->ns, c->name, &cm) == KUBE_OK && !record_is_free(cm.holder) &&
	    record_parse(cm.holder, &r, &why) == 0) {
		if (lock_is_me(c, &r) && lock_free_held(c, &cm, &r) == KUBE_OK)
			log_info("interrupted: freed lock %s/%s, which the interrupted request "
			    "had taken", c->ns, c->name);
		record_clear(&r);
	}
	kube_cm_clear(&cm);
	if (sig != 0)
		raise(sig);
	return LOCK_INTERRUPTED;
}

/* What a failed call means: retry (LOCK_OK) or give up with an outcome. */
enum lock_outcome
lock_on_failure(const struct lock_ctx *c, enum kube_rc rc, int *fails, int64_t deadline)
{
	if (rc == KUBE_INTR)
		return LOCK_INTERRUPTED;
	if (rc != KUBE_UNAVAILABLE && rc != KUBE_CONFLICT && rc != KUBE_NOT_FOUND)
		return LOCK_ERR;
	if (rc != KUBE_UNAVAILABLE) {
		/*
		 * An update found a newer version, or none (deleted): decide again at once. A
		 * server that conflicts again and again still gets backoff and the deadline.
		 */
		log_verbose("the lock changed under us; reading it again");
		if (*fails < 2) {
			(*fails)++;
			return LOCK_OK;
		}
	}
	if ((*fails >= LOCK_RETRIES && clock_left(deadline) == 0) ||
	    clock_left(c->call_deadline) == 0) {
		/* A transient failure was reported as it happened; endless conflicts were not. */
		if (rc != KUBE_UNAVAILABLE)
			log_error("configmaps/%s in namespace %s: the server refused %d writes in a "
			    "row as conflicts; giving up", c->name, c->ns, *fails + 1);
		else
			log_verbose("giving up after %d tries", *fails + 1);
		return LOCK_ERR;
	}
	switch (backoff(c, (*fails)++)) {
	case 0:		return LOCK_OK;
	case -1:	return LOCK_INTERRUPTED;
	default:	return LOCK_ERR;	/* the failure was reported as it happened */
	}
}

/*
 * Writes our record with token over cm (conditional on cm->rv), or creates it. A renewal
 * passes the record it renews (start time kept, renewals + 1); a new holder passes NULL.
 */
static enum kube_rc
take(const struct lock_ctx *c, const struct kube_cm *cm, uint64_t token,
    const struct record *renewing, struct kube_cm *now)
{
	char		fbuf[24], *rec;
	enum kube_rc	rc;

	snprintf(fbuf, sizeof(fbuf), "%llu", (unsigned long long)token);
	rec = renewing == NULL ? record_build(c->me, token, NULL, c->ttl_ms, 0, NULL, c->info) :
	    record_build(c->me, token, renewing->start_time, c->ttl_ms, renewing->renewals + 1,
	    NULL, c->info);
	if (rec == NULL) {
		log_error("out of memory");
		return KUBE_ERR;
	}
	if (strlen(rec) > RECORD_MAX_LEN) {
		log_error("the lock record would be longer than %d bytes (the limit every reader "
		    "keeps); shorten --reason or --owner", RECORD_MAX_LEN);
		free(rec);
		return KUBE_ERR;
	}
	if (cm == NULL)
		rc = kube_cm_create(c->kb, c->ns, c->name, rec, fbuf, now);
	else
		rc = kube_cm_update(c->kb, c->ns, c->name, cm, rec, fbuf, now);
	free(rec);
	return rc;
}

/* What one read tells acquire to do. */
enum acquire_step {
	STEP_READ,	/* read the lock again */
	STEP_DONE,	/* decided: *o says how */
};

/* A failed call: retry it (STEP_READ) or give up with *o. */
static enum acquire_step
acquire_failed(const struct lock_ctx *c, struct acquire *a, enum kube_rc rc,
    enum lock_outcome *o)
{
	return (*o = lock_on_failure(c, rc, &a->fails, a->deadline)) == LOCK_OK ? STEP_READ :
	    STEP_DONE;
}

/* Absent, free or expired: one conditional write of token decides. */
static enum acquire_step
acquire_take(const struct lock_ctx *c, struct acquire *a, const struct kube_cm *cm,
    uint64_t token, enum lock_outcome *o)
{
	enum kube_rc	rc;

	a->sent_at = clock_ms();
	kube_cm_clear(&a->written);
	if ((rc = take(c, cm, token, NULL, &a->written)) == KUBE_OK) {
		log_info("acquired lock %s/%s (host %s pid %ld, token %llu)", c->ns, c->name,
		    c->me->host, c->me->pid, (unsigned long long)token);
		a->newly = 1;
		*o = LOCK_OK;
		return STEP_DONE;
	}
	if (rc == KUBE_INTR) {
		*o = settle_interrupted(c);
		return STEP_DONE;
	}
	return acquire_failed(c, a, rc, o);
}

/* Ours already (also: our earlier write whose reply was lost); a new --ttl renews. */
static enum acquire_step
acquire_ours(const struct lock_ctx *c, struct acquire *a, const struct kube_cm *cm,
    const struct record *r, enum lock_outcome *o)
{
	enum kube_rc	rc = KUBE_OK;

	log_info("lock %s/%s is held by this owner (host %s pid %ld, token %llu)",
	    c->ns, c->name, r->host, r->pid, (unsigned long long)r->token);
	a->sent_at = clock_ms();
	if (c->ttl_ms > 0) {
		kube_cm_clear(&a->written);
		rc = take(c, cm, r->token, r, &a->written);
	}
	if (rc != KUBE_OK)
		return acquire_failed(c, a, rc, o);
	*o = LOCK_OK;
	return STEP_DONE;
}

/* Join the queue to wait; without one (e.g. a Role without leases), wait as a racer. */
static enum acquire_step
acquire_join(const struct lock_ctx *c, struct acquire *a, enum lock_outcome *o)
{
	enum kube_rc	rc;

	if (lock_queue_joined(&a->q) || a->q.ever < 0)
		return STEP_READ;
	rc = lock_queue_join(c, &a->q);
	if (rc == KUBE_OK)
		return STEP_READ;
	if (rc == KUBE_INTR) {
		*o = LOCK_INTERRUPTED;
		return STEP_DONE;
	}
	if (rc == KUBE_ERR) {
		log_info("lock %s/%s: waiting without a place in its queue (first come is not "
		    "first served)", c->ns, c->name);
		a->q.ever = -1;
	}
	return STEP_READ;
}

/* --max-wait-time ran out while the lock was held (r) or free but others were first. */
static enum acquire_step
acquire_timeout(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	char more[LOCK_DETAILS_MAX];

	if (r != NULL)
		log_error("timed out: lock %s/%s is still held by host %s pid %ld since %s%s",
		    c->ns, c->name, r->host, r->pid, r->start_time,
		    lock_holder_details(r, more, sizeof(more)));
	else
		log_error("timed out: lock %s/%s is free, but waiters ahead of us in its queue "
		    "are about to take it", c->ns, c->name);
	*o = LOCK_TIMEOUT;
	return STEP_DONE;
}

/* Waits (in the queue) for the lock read as cm to change; r is its holder or NULL. */
static enum acquire_step
acquire_wait(const struct lock_ctx *c, struct acquire *a, const struct kube_cm *cm,
    const struct record *r, enum lock_outcome *o)
{
	if (clock_left(a->deadline) == 0)
		return acquire_timeout(c, r, o);
	if (acquire_join(c, a, o) == STEP_DONE)
		return STEP_DONE;
	if (wait_tend(c, a) != 0)
		return STEP_READ;
	if (r != NULL && clock_left(a->next_status) == 0) {
		say_waiting(c, r, a->deadline, &a->q, a->started);
		a->next_status = clock_deadline(LOCK_STATUS_EVERY_MS);
	}
	/* On WAIT_DEADLINE: read once more, then time out if still held. */
	return wait_change(c, cm, a, o) == WAIT_FAILED ? STEP_DONE : STEP_READ;
}

/*
 * Free, or held past its lease (r, whose grant's Lease, if any, no longer counts): ours
 * to take when we are first in line. -1 on failure (*o set), else whether we are.
 */
static int
acquire_our_turn(const struct lock_ctx *c, struct acquire *a, const struct record *r,
    enum lock_outcome *o, enum acquire_step *step)
{
	enum kube_rc	rc;
	int		may;

	a->recheck = CLOCK_NEVER;
	/* A newcomer takes a free lock at once: releases hand it on while others wait. */
	if (r == NULL && !lock_queue_joined(&a->q))
		return 1;
	may = lock_queue_may_take(c, &a->q, r != NULL ? r->queue : NULL, &a->recheck, &rc);
	if (may >= 0)
		return may;
	if (rc == KUBE_ERR && !lock_queue_joined(&a->q))
		return 1;	/* no queue to read (the Role has no leases): race as before */
	*step = acquire_failed(c, a, rc, o);
	return -1;
}

/* Held by another: take it over if its lease expired, time out, or wait for a change. */
static enum acquire_step
acquire_held(const struct lock_ctx *c, struct acquire *a, const struct kube_cm *cm,
    const struct record *r, uint64_t fence, uint64_t *token, enum lock_outcome *o)
{
	enum acquire_step	step;
	char			ttl[32];
	int			turn;

	if (granted_to_us(a, r) || (r->queue != NULL && lock_is_me(c, r))) {
		/*
		 * Handed to us (also to a place of ours since lost: the grant names us):
		 * confirm with our own record, the grant's token.
		 */
		*token = r->token;
		step = acquire_take(c, a, cm, *token, o);
		a->by_grant = *o == LOCK_OK;
		return step;
	}
	if (clock_left(lease_note(&a->lease, cm, r)) == 0) {
		if ((turn = acquire_our_turn(c, a, r, o, &step)) < 0)
			return step;
		if (turn) {
			log_info("lock %s/%s of host %s pid %ld expired: not %s within its ttl of "
			    "%s; taking it over", c->ns, c->name, r->host, r->pid,
			    r->queue != NULL ? "taken up by the waiter it was handed to" :
			    "renewed", duration_format(r->ttl_ms, ttl, sizeof(ttl)));
			*token = fence + 1;
			step = acquire_take(c, a, cm, *token, o);
			/* That waiter is gone: its place goes with the lock. */
			if (*o == LOCK_OK && r->queue != NULL)
				kube_lease_delete(c->kb, c->ns, r->queue, NULL);
			return step;
		}
	}
	return acquire_wait(c, a, cm, r, o);
}

/* One read of the lock and what follows from it. */
static enum acquire_step
acquire_round(const struct lock_ctx *c, struct acquire *a, uint64_t *token,
    enum lock_outcome *o)
{
	struct kube_cm		cm;
	struct record		r;
	enum acquire_step	step;
	enum kube_rc		rc;
	const char		*why;
	uint64_t		fence = 0;
	int			exists, turn;

	if (sig_pending()) {
		*o = LOCK_INTERRUPTED;
		return STEP_DONE;
	}
	if (a->have_ev) {
		/* The change a wait ended on: as good as a read (writes are conditional). */
		cm = a->ev;
		memset(&a->ev, 0, sizeof(a->ev));
		a->have_ev = 0;
		rc = KUBE_OK;
	} else if (a->reads == 0) {
		/*
		 * The first read is a GET, which etcd answers at once; a list waits for the
		 * API server's watch cache to catch up (up to 100 ms after writes elsewhere).
		 * A missing lock needs the list's version (tokens go on from it), and a wait
		 * that ends without a change reads with a list (kube.h says why).
		 */
		if ((rc = kube_cm_get(c->kb, c->ns, c->name, &cm)) == KUBE_NOT_FOUND)
			rc = kube_cm_list(c->kb, c->ns, c->name, &cm);
	} else
		rc = kube_cm_list(c->kb, c->ns, c->name, &cm);
	if (rc != KUBE_OK && rc != KUBE_NOT_FOUND)
		return acquire_failed(c, a, rc, o);	/* the same read again */
	a->reads++;
	exists = rc == KUBE_OK;
	if (!exists || cm.fence == NULL)
		fence = lock_fence_floor(exists ? cm.rv : cm.list_rv);
	else if (lock_fence_parse(cm.fence, &fence) != 0) {
		log_error("configmaps/%s in namespace %s: data.%s is not a number; left as it is "
		    "(force-release resets it)", c->name, c->ns, KUBE_KEY_FENCE);
		kube_cm_clear(&cm);
		*o = LOCK_ERR;
		return STEP_DONE;
	}
	if (!exists || record_is_free(cm.holder)) {
		if ((turn = acquire_our_turn(c, a, NULL, o, &step)) > 0) {
			*token = fence + 1;
			step = acquire_take(c, a, exists ? &cm : NULL, *token, o);
		} else if (turn == 0)
			step = acquire_wait(c, a, &cm, NULL, o);
	} else if (record_parse(cm.holder, &r, &why) != 0) {
		lock_report_corrupt(c, cm.holder, why);
		*o = LOCK_ERR;
		step = STEP_DONE;
	} else {
		/* Tokens only grow: past the counter and any token a record shows. */
		if (r.token > fence)
			fence = r.token;
		if (lock_is_me(c, &r) && r.queue == NULL) {
			*token = r.token;
			step = acquire_ours(c, a, &cm, &r, o);
		} else
			step = acquire_held(c, a, &cm, &r, fence, token, o);
		record_clear(&r);
	}
	kube_cm_clear(&cm);
	return step;
}

/*
 * Leaves the queue when acquire ends. A release may have handed us the lock as we gave
 * up (it read the queue before we left it): then it is handed on again at once.
 */
static void
acquire_leave(const struct lock_ctx *c, struct acquire *a, enum lock_outcome o)
{
	struct kube_cm	 cm;
	struct record	 r;
	const char	*why;
	char		 name[256];

	kube_cm_clear(&a->ev);
	if (!lock_queue_joined(&a->q))
		return;
	snprintf(name, sizeof(name), "%s", a->q.l.name);
	if (a->by_grant)
		lock_queue_forget(&a->q);
	else
		lock_queue_leave(c, &a->q);
	if (o == LOCK_OK)
		return;
	if (kube_cm_get(c->kb, c->ns, c->name, &cm) != KUBE_OK)
		return;
	if (!record_is_free(cm.holder) && record_parse(cm.holder, &r, &why) == 0) {
		if (r.queue != NULL && strcmp(r.queue, name) == 0 &&
		    lock_free_held(c, &cm, &r) == KUBE_OK)
			log_info("lock %s/%s was handed to us as we left its queue; handed it on",
			    c->ns, c->name);
		record_clear(&r);
	}
	kube_cm_clear(&cm);
}

enum lock_outcome
lock_acquire(const struct lock_ctx *c, uint64_t *token, int64_t *sent,
    struct kube_cm *written)
{
	struct acquire		a;
	enum lock_outcome	o = LOCK_ERR;
	int			sig;

	if (written != NULL)
		memset(written, 0, sizeof(*written));
	memset(&a, 0, sizeof(a));
	a.started = clock_ms();
	a.recheck = CLOCK_NEVER;
	a.deadline = c->max_wait_ms < 0 ? CLOCK_NEVER : clock_deadline(c->max_wait_ms);
	while (acquire_round(c, &a, token, &o) == STEP_READ)
		;
	/* Leaving the queue is part of ending: a signal that ended the wait waits for it. */
	sig = o == LOCK_INTERRUPTED ? sig_take() : 0;
	acquire_leave(c, &a, o);
	if (sig != 0)
		raise(sig);
	if (o != LOCK_OK) {
		kube_cm_clear(&a.written);
		return o;
	}
	if (sent != NULL)
		*sent = a.sent_at;
	if (c->print_token && (printf("%llu\n", (unsigned long long)*token) < 0 ||
	    fflush(stdout) != 0 || ferror(stdout))) {
		/* The caller cannot hold a lock it was told it did not get: as it was. */
		log_error("cannot write the fencing token to stdout: %s; %s", strerror(errno),
		    a.newly ? "giving the lock back" : "the lock stays held by this owner");
		if (a.newly)
			lock_release(c);
		kube_cm_clear(&a.written);
		return LOCK_ERR;
	}
	if (written != NULL)
		*written = a.written;
	else
		kube_cm_clear(&a.written);
	return LOCK_OK;
}

/*
 * Frees the lock held as described by cm (conditional on its resourceVersion), keeping
 * the fencing counter at least as high as any token handed out. When waiters are in
 * its queue, the first of them (other than the holder's own Lease) is handed it
 * instead: a grant with the next token.
 */
enum kube_rc
lock_free_held(const struct lock_ctx *c, const struct kube_cm *cm, const struct record *held)
{
	uint64_t	fence, token = held != NULL ? held->token : 0;
	char		fbuf[24], who[IDENT_MAX_HOST + 32], lease[LOCK_LEASE_NAME_MAX + 1];
	char		*grant;
	enum kube_rc	rc;

	if (cm->fence == NULL || lock_fence_parse(cm->fence, &fence) != 0)
		fence = lock_fence_floor(cm->rv);
	if (token > fence)
		fence = token;
	/* A queue that cannot be read (a Role without leases) leaves the lock free. */
	grant = lock_queue_grant(c, held, fence + 1, &rc, who, sizeof(who), lease,
	    sizeof(lease));
	if (rc == KUBE_INTR)
		return rc;
	if (grant != NULL)
		fence++;
	snprintf(fbuf, sizeof(fbuf), "%llu", (unsigned long long)fence);
	rc = kube_cm_update(c->kb, c->ns, c->name, cm, grant, fbuf, NULL);
	if (rc == KUBE_OK && grant != NULL) {
		log_verbose("lock %s/%s handed to %s, first in its queue (token %llu)", c->ns,
		    c->name, who, (unsigned long long)fence);
		/*
		 * Its place in line is over: removed here, after the handoff's critical
		 * write, not by the waiter between that and its start. Should this fail, the
		 * Lease expires unrenewed (--queue-ttl), and grant_pick never picks the
		 * holder's own meanwhile.
		 */
		kube_lease_delete(c->kb, c->ns, lease, NULL);
	}
	free(grant);
	return rc;
}
