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
#include "log.h"
#include "record.h"
#include "sig.h"

#define LOCK_RETRIES		5	/* tries of a failing call, when not waiting */
#define LOCK_BACKOFF_MIN_MS	250
#define LOCK_BACKOFF_MAX_MS	10000
#define LOCK_STATUS_EVERY_MS	30000	/* how often a waiter says who holds the lock */
#define LOCK_SHOW_MAX		200	/* how much of a corrupt record we print */

/*
 * Sleeps for the n-th retry: exponential from 250 ms to 10 s, jittered by +-50% so that
 * waiters released together do not return together; at least what Retry-After asked
 * (up to a minute). Returns -1 when a signal arrived.
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
	if (ra > 0)
		ms = ra > 60 ? 60000 : (int64_t)ra * 1000 > ms ? (int64_t)ra * 1000 : ms;
	until = clock_deadline(ms);
	log_verbose("retrying in %lld ms", (long long)ms);
	while (clock_left(until) > 0) {
		if (sig_pending())
			return -1;
		poll(NULL, 0, clock_left(until));
	}
	return sig_pending() ? -1 : 0;
}

/* The fencing counter stored beside the record; -1 when it is not a number. */
static enum kube_rc free_lock(const struct lock_ctx *, const struct kube_cm *, uint64_t);

static int
fence_parse(const char *s, uint64_t *v)
{
	size_t	i, n;

	*v = 0;
	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

static int
is_me(const struct lock_ctx *c, const struct record *r)
{
	return r->pid == c->me->pid && strcmp(r->host, c->me->host) == 0;
}

static void
report_corrupt(const struct lock_ctx *c, const char *holder, const char *why)
{
	char	show[LOCK_SHOW_MAX + 4];

	log_error("configmaps/%s in namespace %s: %s: %s; it was left as it is "
	    "(force-release replaces it)", c->name, c->ns, why,
	    log_sanitize(show, sizeof(show), holder, strlen(holder)));
}

static void
say_waiting(const struct lock_ctx *c, const struct record *r, int64_t deadline)
{
	char	left[64];

	if (deadline == CLOCK_NEVER)
		snprintf(left, sizeof(left), "for ever");
	else
		duration_format(clock_left(deadline), left, sizeof(left));
	log_info("lock %s/%s is held by host %s pid %ld since %s; waiting %s%s",
	    c->ns, c->name, r->host, r->pid, r->start_time,
	    deadline == CLOCK_NEVER ? "" : "up to ", left);
}

/*
 * What a waiter knows of the holder's lease: the resourceVersion it last saw and since
 * when (its own clock). A holder with a ttl that leaves that version unchanged for the
 * ttl has stopped renewing: the lock may be taken over. No clocks are compared.
 */
struct lease_view {
	char	rv[64];
	int64_t	since;
};

/* Notes version rv of a held lock; returns when it expires (CLOCK_NEVER: no ttl). */
static int64_t
lease_note(struct lease_view *v, const char *rv, const struct record *r)
{
	if (strcmp(v->rv, rv) != 0) {
		snprintf(v->rv, sizeof(v->rv), "%s", rv);
		v->since = clock_ms();
	}
	if (r->ttl_ms <= 0)
		return CLOCK_NEVER;
	return v->since + r->ttl_ms;
}

/*
 * Waits on a watch for the held lock read at cm->rv to change in a way that matters:
 * freed, deleted, or its lease expired. Says every 30 s who holds it. Returns 0 to read
 * again, 1 when the deadline passed, or -outcome.
 */
static int
wait_change(const struct lock_ctx *c, const struct kube_cm *cm, int64_t deadline,
    int64_t *next_status, struct lease_view *lease, int *fails)
{
	struct record		r;
	enum kube_watch_rc	rc;
	const char		*why;
	int64_t			expires, opened;
	int			out = 0;

	if (record_parse(cm->holder, &r, &why) != 0)
		return 0;
	expires = lease_note(lease, cm->rv, &r);
	opened = clock_ms();
	rc = kube_watch_open(c->kb, c->ns, c->name, cm->list_rv ? cm->list_rv : cm->rv, deadline);
	while (rc == KUBE_WATCH_CHANGED) {
		struct kube_cm	ev;
		int64_t		until = deadline;

		if (*next_status < until)
			until = *next_status;
		if (expires < until)
			until = expires;
		rc = kube_watch_next(c->kb, until, &ev);
		if (rc == KUBE_WATCH_DEADLINE) {
			if (clock_left(deadline) == 0 || clock_left(expires) == 0) {
				kube_watch_close(c->kb);
				out = clock_left(deadline) == 0;
				goto done;
			}
			if (clock_left(*next_status) == 0) {
				say_waiting(c, &r, deadline);
				*next_status = clock_deadline(LOCK_STATUS_EVERY_MS);
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
				record_clear(&r);
				r = nr;
				expires = lease_note(lease, ev.rv, &r);
				kube_cm_clear(&ev);
				continue;
			}
		}
		kube_cm_clear(&ev);
		kube_watch_close(c->kb);
		goto done;
	}
	switch (rc) {
	case KUBE_WATCH_CHANGED:
		*fails = 0;
		break;
	case KUBE_WATCH_RESTART:
		/* A watch the server ends at once, again and again, must not become a loop. */
		if (clock_ms() - opened < 1000) {
			if (backoff(c, (*fails)++) != 0)
				out = -LOCK_INTERRUPTED;
		} else
			*fails = 0;
		break;
	case KUBE_WATCH_UNAVAILABLE:
		if (backoff(c, (*fails)++) != 0)
			out = -LOCK_INTERRUPTED;
		break;
	case KUBE_WATCH_INTR:
		out = -LOCK_INTERRUPTED;
		break;
	default:
		out = -LOCK_ERR;
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
		if (is_me(c, &r) && free_lock(c, &cm, r.token) == KUBE_OK)
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
static enum lock_outcome
on_failure(const struct lock_ctx *c, enum kube_rc rc, int *fails, int64_t deadline)
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
	if (*fails >= LOCK_RETRIES && clock_left(deadline) == 0) {
		/* A transient failure was reported as it happened; endless conflicts were not. */
		if (rc != KUBE_UNAVAILABLE)
			log_error("configmaps/%s in namespace %s: the server refused %d writes in a "
			    "row as conflicts; giving up", c->name, c->ns, *fails + 1);
		else
			log_verbose("giving up after %d tries", *fails + 1);
		return LOCK_ERR;
	}
	return backoff(c, (*fails)++) == 0 ? LOCK_OK : LOCK_INTERRUPTED;
}

/*
 * Writes our record with token over cm (conditional on cm->rv), or creates it. A renewal
 * passes the record it renews (start time kept, renewals + 1); a new holder passes NULL.
 */
static enum kube_rc
take(const struct lock_ctx *c, const struct kube_cm *cm, uint64_t token,
    const struct record *renewing)
{
	char		fbuf[24], *rec;
	enum kube_rc	rc;

	snprintf(fbuf, sizeof(fbuf), "%llu", (unsigned long long)token);
	rec = renewing == NULL ? record_build(c->me, token, NULL, c->ttl_ms, 0) :
	    record_build(c->me, token, renewing->start_time, c->ttl_ms, renewing->renewals + 1);
	if (rec == NULL) {
		log_error("out of memory");
		return KUBE_ERR;
	}
	if (cm == NULL)
		rc = kube_cm_create(c->kb, c->ns, c->name, rec, fbuf);
	else
		rc = kube_cm_update(c->kb, c->ns, c->name, cm, rec, fbuf, NULL);
	free(rec);
	return rc;
}

enum lock_outcome
lock_acquire(const struct lock_ctx *c, uint64_t *token, int64_t *sent)
{
	int64_t			deadline = c->max_wait_ms < 0 ? CLOCK_NEVER :
				    clock_deadline(c->max_wait_ms);
	int64_t			next_status = 0, sent_at = 0;
	struct lease_view	lease = { "", 0 };
	int			fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum kube_rc		rc;
		enum lock_outcome	o;
		const char		*why;
		uint64_t		fence = 0;
		int			w, exists;

		if (sig_pending())
			return LOCK_INTERRUPTED;
		rc = kube_cm_list(c->kb, c->ns, c->name, &cm);
		if (rc != KUBE_OK && rc != KUBE_NOT_FOUND) {
			if ((o = on_failure(c, rc, &fails, deadline)) != LOCK_OK)
				return o;
			continue;
		}
		exists = rc == KUBE_OK;
		if (exists && fence_parse(cm.fence, &fence) != 0) {
			log_error("configmaps/%s in namespace %s: data.%s is not a number; "
			    "left as it is (force-release resets it)", c->name, c->ns,
			    KUBE_KEY_FENCE);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (!exists || record_is_free(cm.holder))
			goto take_it;
		if (record_parse(cm.holder, &r, &why) != 0) {
			report_corrupt(c, cm.holder, why);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		/* Tokens only grow: past the counter and any token a record shows. */
		if (r.token > fence)
			fence = r.token;
		if (is_me(c, &r)) {
			/* Ours already (also: our earlier write whose reply was lost). */
			*token = r.token;
			log_info("lock %s/%s is held by this owner (host %s pid %ld, token %llu)",
			    c->ns, c->name, r.host, r.pid, (unsigned long long)r.token);
			/* A new --ttl from the owner renews the lease. */
			sent_at = clock_ms();
			rc = c->ttl_ms > 0 ? take(c, &cm, *token, &r) : KUBE_OK;
			record_clear(&r);
			kube_cm_clear(&cm);
			if (rc == KUBE_OK)
				goto print;
			if ((o = on_failure(c, rc, &fails, deadline)) != LOCK_OK)
				return o;
			continue;
		}
		if (clock_left(lease_note(&lease, cm.rv, &r)) == 0) {
			char	ttl[32];

			log_info("lock %s/%s of host %s pid %ld expired: not renewed within its "
			    "ttl of %s; taking it over", c->ns, c->name, r.host, r.pid,
			    duration_format(r.ttl_ms, ttl, sizeof(ttl)));
			record_clear(&r);
			goto take_it;
		}
		if (clock_left(deadline) == 0) {
			log_error("timed out: lock %s/%s is still held by host %s pid %ld since %s",
			    c->ns, c->name, r.host, r.pid, r.start_time);
			record_clear(&r);
			kube_cm_clear(&cm);
			return LOCK_TIMEOUT;
		}
		if (clock_left(next_status) == 0) {
			say_waiting(c, &r, deadline);
			next_status = clock_deadline(LOCK_STATUS_EVERY_MS);
		}
		record_clear(&r);
		w = wait_change(c, &cm, deadline, &next_status, &lease, &fails);
		kube_cm_clear(&cm);
		if (w < 0)
			return (enum lock_outcome)-w;
		/* w == 1 (deadline): read once more, then time out if still held. */
		continue;
take_it:
		/* Absent, free or expired: one conditional write decides. */
		*token = fence + 1;
		sent_at = clock_ms();
		rc = take(c, exists ? &cm : NULL, *token, NULL);
		kube_cm_clear(&cm);
		if (rc == KUBE_OK)
			goto taken;
		if (rc == KUBE_INTR)
			return settle_interrupted(c);
		if ((o = on_failure(c, rc, &fails, deadline)) != LOCK_OK)
			return o;
	}
taken:
	log_info("acquired lock %s/%s (host %s pid %ld, token %llu)", c->ns, c->name,
	    c->me->host, c->me->pid, (unsigned long long)*token);
print:
	if (sent != NULL)
		*sent = sent_at != 0 ? sent_at : clock_ms();
	if (c->print_token) {
		printf("%llu\n", (unsigned long long)*token);
		fflush(stdout);
	}
	return LOCK_OK;
}

/*
 * Frees the lock held as described by cm (conditional on its resourceVersion), keeping
 * the fencing counter at least as high as any token handed out.
 */
static enum kube_rc
free_lock(const struct lock_ctx *c, const struct kube_cm *cm, uint64_t token)
{
	uint64_t	fence;
	char		fbuf[24];

	if (fence_parse(cm->fence, &fence) != 0)
		fence = 0;
	if (token > fence)
		fence = token;
	snprintf(fbuf, sizeof(fbuf), "%llu", (unsigned long long)fence);
	return kube_cm_update(c->kb, c->ns, c->name, cm, NULL, fbuf, NULL);
}

enum lock_state {
	STATE_FREE,	/* no ConfigMap, or no holder in it */
	STATE_HELD,	/* cm and r filled */
	STATE_CORRUPT,	/* cm filled, *why says what is wrong with the record */
	STATE_FAILED,	/* *o says how the read failed */
};

/*
 * Reads the lock, retrying transient failures. The caller clears cm (and r when HELD).
 */
static enum lock_state
read_state(const struct lock_ctx *c, struct kube_cm *cm, struct record *r,
    const char **why, int *fails, enum lock_outcome *o)
{
	enum kube_rc	rc;

	while ((rc = kube_cm_get(c->kb, c->ns, c->name, cm)) != KUBE_OK) {
		if (rc == KUBE_NOT_FOUND)
			return STATE_FREE;
		if ((*o = on_failure(c, rc, fails, 0)) != LOCK_OK)
			return STATE_FAILED;
	}
	if (record_is_free(cm->holder))
		return STATE_FREE;
	if (record_parse(cm->holder, r, why) != 0)
		return STATE_CORRUPT;
	return STATE_HELD;
}

/*
 * The loop of release, force-release and cleanup: read, let decide() judge the holder
 * (return 1 to free the lock, 0 to leave it with outcome *o), free it conditionally, and
 * on a conflict or a transient failure start again. done() says what was freed.
 */
static enum lock_outcome
free_loop(const struct lock_ctx *c, int force,
    int (*decide)(const struct lock_ctx *, const struct record *, enum lock_outcome *),
    const char *freed)
{
	int	fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum lock_outcome	o = LOCK_OK;
		enum lock_state		st;
		enum kube_rc		rc;
		const char		*why = "";
		char			show[LOCK_SHOW_MAX + 4];
		uint64_t		fence;

		memset(&r, 0, sizeof(r));
		st = read_state(c, &cm, &r, &why, &fails, &o);
		if (st == STATE_FAILED)
			return o;
		if (st == STATE_FREE && force && cm.rv != NULL && fence_parse(cm.fence, &fence) != 0) {
			/* The counter was hand-edited: tokens start again above 0, and we say so. */
			rc = free_lock(c, &cm, 0);
			if (rc == KUBE_OK)
				log_info("lock %s/%s is not held; reset data.%s, which was not a "
				    "number (fencing tokens start again from 1)", c->ns, c->name,
				    KUBE_KEY_FENCE);
			kube_cm_clear(&cm);
			if (rc == KUBE_OK)
				return LOCK_OK;
			if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
				return o;
			continue;
		}
		if (st == STATE_FREE) {
			log_info("lock %s/%s is not held; nothing to do", c->ns, c->name);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		if (st == STATE_CORRUPT && !force) {
			report_corrupt(c, cm.holder, why);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (st == STATE_HELD && !decide(c, &r, &o)) {
			record_clear(&r);
			kube_cm_clear(&cm);
			return o;
		}
		rc = free_lock(c, &cm, r.token);
		if (rc == KUBE_OK && st == STATE_CORRUPT)
			log_info("%s lock %s/%s, replacing a corrupt record (%s): %s", freed,
			    c->ns, c->name, why,
			    log_sanitize(show, sizeof(show), cm.holder, strlen(cm.holder)));
		else if (rc == KUBE_OK)
			log_info("%s lock %s/%s held by host %s pid %ld since %s", freed,
			    c->ns, c->name, r.host, r.pid, r.start_time);
		record_clear(&r);
		kube_cm_clear(&cm);
		if (rc == KUBE_OK)
			return LOCK_OK;
		if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
			return o;
	}
}

/* release: only the holder itself. */
static int
decide_release(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	if (is_me(c, r))
		return 1;
	log_error("lock %s/%s is held by host %s pid %ld since %s, not by host %s pid %ld; "
	    "not released", c->ns, c->name, r->host, r->pid, r->start_time, c->me->host,
	    c->me->pid);
	*o = LOCK_NOT_OWNER;
	return 0;
}

static int
decide_force(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	(void)c;
	(void)r;
	(void)o;
	return 1;
}

/* cleanup: only a holder of this host whose process is gone. */
static int
decide_cleanup(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	const char	*why;

	*o = LOCK_OK;
	if (strcmp(r->host, c->me->host) != 0) {
		log_info("lock %s/%s is held by host %s, not this host (%s); left alone",
		    c->ns, c->name, r->host, c->me->host);
		return 0;
	}
	if (ident_check(r->pid, r->proc_start, r->boot_id, &why) == IDENT_ALIVE) {
		log_info("lock %s/%s is held by pid %ld on this host and %s; left alone",
		    c->ns, c->name, r->pid, why);
		return 0;
	}
	log_info("lock %s/%s: pid %ld: %s", c->ns, c->name, r->pid, why);
	return 1;
}

enum lock_outcome
lock_release(const struct lock_ctx *c)
{
	return free_loop(c, 0, decide_release, "released");
}

enum lock_outcome
lock_force_release(const struct lock_ctx *c)
{
	return free_loop(c, 1, decide_force, "force-released");
}

enum lock_outcome
lock_cleanup(const struct lock_ctx *c)
{
	return free_loop(c, 0, decide_cleanup, "cleaned up");
}

enum lock_outcome
lock_query(const struct lock_ctx *c)
{
	struct kube_cm		cm;
	struct record		r;
	enum lock_outcome	o = LOCK_OK;
	enum lock_state		st;
	const char		*why = "";
	char			*line = NULL;
	int			fails = 0;

	memset(&r, 0, sizeof(r));
	st = read_state(c, &cm, &r, &why, &fails, &o);
	if (st == STATE_FAILED)
		return o;
	if (st == STATE_CORRUPT)
		report_corrupt(c, cm.holder, why);
	else if (st == STATE_HELD && (line = record_compact(cm.holder)) == NULL)
		log_error("out of memory");
	else
		printf("%s\n", st == STATE_FREE ? "{}" : line);
	o = (st == STATE_CORRUPT || (st == STATE_HELD && line == NULL)) ? LOCK_ERR : LOCK_OK;
	free(line);
	record_clear(&r);
	kube_cm_clear(&cm);
	if (o == LOCK_OK && fflush(stdout) != 0) {
		log_error("cannot write to stdout");
		return LOCK_ERR;
	}
	return o;
}
