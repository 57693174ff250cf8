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
 * Waits for a change of the held lock read at rv, saying every 30 s who holds it.
 * Returns 0 to read again, 1 when the deadline passed, or a failed outcome.
 */
static int
wait_change(const struct lock_ctx *c, const char *rv, const struct record *holder,
    int64_t deadline, int64_t *next_status, int *fails)
{
	enum kube_watch_rc	rc;

	rc = kube_watch_open(c->kb, c->ns, c->name, rv, deadline);
	while (rc == KUBE_WATCH_CHANGED) {
		int64_t until = *next_status < deadline ? *next_status : deadline;

		rc = kube_watch_next(c->kb, until);
		if (rc != KUBE_WATCH_DEADLINE)
			break;
		if (clock_left(deadline) == 0) {
			kube_watch_close(c->kb);
			return 1;
		}
		say_waiting(c, holder, deadline);
		*next_status = clock_deadline(LOCK_STATUS_EVERY_MS);
		rc = KUBE_WATCH_CHANGED;
	}
	switch (rc) {
	case KUBE_WATCH_CHANGED:
	case KUBE_WATCH_RESTART:
		*fails = 0;
		return 0;
	case KUBE_WATCH_DEADLINE:
		return 1;
	case KUBE_WATCH_UNAVAILABLE:
		return backoff(c, (*fails)++) == 0 ? 0 : -LOCK_INTERRUPTED;
	case KUBE_WATCH_INTR:
		return -LOCK_INTERRUPTED;
	default:
		return -LOCK_ERR;
	}
}

/* What a failed call means: retry (0) or give up with an outcome (> 0). */
static enum lock_outcome
on_failure(const struct lock_ctx *c, enum kube_rc rc, int *fails, int64_t deadline)
{
	if (rc == KUBE_INTR)
		return LOCK_INTERRUPTED;
	if (rc != KUBE_UNAVAILABLE && rc != KUBE_CONFLICT)
		return LOCK_ERR;
	if (rc == KUBE_CONFLICT) {
		log_verbose("conflict: the lock changed under us; reading it again");
		return LOCK_OK;	/* no pause: someone else moved, decide again now */
	}
	if (*fails >= LOCK_RETRIES && clock_left(deadline) == 0) {
		log_error("giving up after %d tries", *fails + 1);
		return LOCK_ERR;
	}
	return backoff(c, (*fails)++) == 0 ? LOCK_OK : LOCK_INTERRUPTED;
}

enum lock_outcome
lock_acquire(const struct lock_ctx *c, uint64_t *token)
{
	int64_t		deadline = c->max_wait_ms < 0 ? CLOCK_NEVER : clock_deadline(c->max_wait_ms);
	int64_t		next_status = 0;
	int		fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum kube_rc		rc;
		enum lock_outcome	o;
		const char		*why;
		uint64_t		fence;
		char			fbuf[24], *rec;
		int			w;

		if (sig_pending())
			return LOCK_INTERRUPTED;
		rc = kube_cm_get(c->kb, c->ns, c->name, &cm);
		if (rc == KUBE_NOT_FOUND) {
			if ((rec = record_build(c->me, 1)) == NULL)
				return LOCK_ERR;
			rc = kube_cm_create(c->kb, c->ns, c->name, rec, "1");
			free(rec);
			if (rc == KUBE_OK) {
				*token = 1;
				goto taken;
			}
			if ((o = on_failure(c, rc, &fails, deadline)) != LOCK_OK)
				return o;
			continue;
		}
		if (rc != KUBE_OK) {
			if ((o = on_failure(c, rc, &fails, deadline)) != LOCK_OK)
				return o;
			continue;
		}
		if (fence_parse(cm.fence, &fence) != 0) {
			log_error("configmaps/%s in namespace %s: data.%s is not a number; "
			    "left as it is (force-release resets it)", c->name, c->ns, KUBE_KEY_FENCE);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (record_is_free(cm.holder)) {
			/* Tokens only grow: past the counter and any token a record shows. */
			*token = fence + 1;
			snprintf(fbuf, sizeof(fbuf), "%llu", (unsigned long long)*token);
			if ((rec = record_build(c->me, *token)) == NULL) {
				kube_cm_clear(&cm);
				return LOCK_ERR;
			}
			rc = kube_cm_update(c->kb, c->ns, c->name, &cm, rec, fbuf);
			free(rec);
			kube_cm_clear(&cm);
			if (rc == KUBE_OK)
				goto taken;
			if ((o = on_failure(c, rc, &fails, deadline)) != LOCK_OK)
				return o;
			continue;
		}
		if (record_parse(cm.holder, &r, &why) != 0) {
			report_corrupt(c, cm.holder, why);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (is_me(c, &r)) {
			*token = r.token;
			log_info("lock %s/%s is already held by this owner (host %s pid %ld)",
			    c->ns, c->name, r.host, r.pid);
			record_clear(&r);
			kube_cm_clear(&cm);
			goto print;
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
		w = wait_change(c, cm.rv, &r, deadline, &next_status, &fails);
		record_clear(&r);
		kube_cm_clear(&cm);
		if (w < 0)
			return (enum lock_outcome)-w;
		/* w == 1 (deadline): read once more, then time out if still held. */
	}
taken:
	log_info("acquired lock %s/%s (host %s pid %ld, token %llu)", c->ns, c->name,
	    c->me->host, c->me->pid, (unsigned long long)*token);
print:
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
	return kube_cm_update(c->kb, c->ns, c->name, cm, NULL, fbuf);
}

enum lock_outcome
lock_release(const struct lock_ctx *c)
{
	int	fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum kube_rc		rc;
		enum lock_outcome	o;
		const char		*why;

		rc = kube_cm_get(c->kb, c->ns, c->name, &cm);
		if (rc == KUBE_NOT_FOUND || (rc == KUBE_OK && record_is_free(cm.holder))) {
			log_info("lock %s/%s is not held; nothing to release", c->ns, c->name);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		if (rc != KUBE_OK) {
			if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
				return o;
			continue;
		}
		if (record_parse(cm.holder, &r, &why) != 0) {
			report_corrupt(c, cm.holder, why);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (!is_me(c, &r)) {
			log_error("lock %s/%s is held by host %s pid %ld since %s, not by host %s "
			    "pid %ld; not released", c->ns, c->name, r.host, r.pid, r.start_time,
			    c->me->host, c->me->pid);
			record_clear(&r);
			kube_cm_clear(&cm);
			return LOCK_NOT_OWNER;
		}
		rc = free_lock(c, &cm, r.token);
		record_clear(&r);
		kube_cm_clear(&cm);
		if (rc == KUBE_OK) {
			log_info("released lock %s/%s", c->ns, c->name);
			return LOCK_OK;
		}
		if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
			return o;
	}
}

enum lock_outcome
lock_force_release(const struct lock_ctx *c)
{
	int	fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum kube_rc		rc;
		enum lock_outcome	o;
		const char		*why;
		char			show[LOCK_SHOW_MAX + 4];
		int			corrupt;

		rc = kube_cm_get(c->kb, c->ns, c->name, &cm);
		if (rc == KUBE_NOT_FOUND || (rc == KUBE_OK && record_is_free(cm.holder))) {
			log_info("lock %s/%s is not held; nothing to release", c->ns, c->name);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		if (rc != KUBE_OK) {
			if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
				return o;
			continue;
		}
		corrupt = record_parse(cm.holder, &r, &why) != 0;
		rc = free_lock(c, &cm, corrupt ? 0 : r.token);
		if (rc == KUBE_OK && corrupt)
			log_info("force-released lock %s/%s, replacing a corrupt record (%s): %s",
			    c->ns, c->name, why,
			    log_sanitize(show, sizeof(show), cm.holder, strlen(cm.holder)));
		else if (rc == KUBE_OK)
			log_info("force-released lock %s/%s held by host %s pid %ld since %s",
			    c->ns, c->name, r.host, r.pid, r.start_time);
		if (!corrupt)
			record_clear(&r);
		kube_cm_clear(&cm);
		if (rc == KUBE_OK)
			return LOCK_OK;
		if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
			return o;
	}
}

enum lock_outcome
lock_query(const struct lock_ctx *c)
{
	struct kube_cm		cm;
	struct record		r;
	enum kube_rc		rc;
	enum lock_outcome	o;
	const char		*why;
	char			*line;
	int			fails = 0;

	while ((rc = kube_cm_get(c->kb, c->ns, c->name, &cm)) != KUBE_OK &&
	    rc != KUBE_NOT_FOUND) {
		if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
			return o;
	}
	if (rc == KUBE_NOT_FOUND || record_is_free(cm.holder)) {
		printf("{}\n");
		kube_cm_clear(&cm);
		return fflush(stdout) == 0 ? LOCK_OK : LOCK_ERR;
	}
	if (record_parse(cm.holder, &r, &why) != 0) {
		report_corrupt(c, cm.holder, why);
		kube_cm_clear(&cm);
		return LOCK_ERR;
	}
	record_clear(&r);
	if ((line = record_compact(cm.holder)) == NULL) {
		log_error("out of memory");
		kube_cm_clear(&cm);
		return LOCK_ERR;
	}
	printf("%s\n", line);
	free(line);
	kube_cm_clear(&cm);
	return fflush(stdout) == 0 ? LOCK_OK : LOCK_ERR;
}

enum lock_outcome
lock_cleanup(const struct lock_ctx *c)
{
	int	fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum kube_rc		rc;
		enum lock_outcome	o;
		const char		*why;

		rc = kube_cm_get(c->kb, c->ns, c->name, &cm);
		if (rc == KUBE_NOT_FOUND || (rc == KUBE_OK && record_is_free(cm.holder))) {
			log_info("lock %s/%s is not held; nothing to clean up", c->ns, c->name);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		if (rc != KUBE_OK) {
			if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
				return o;
			continue;
		}
		if (record_parse(cm.holder, &r, &why) != 0) {
			report_corrupt(c, cm.holder, why);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (strcmp(r.host, c->me->host) != 0) {
			log_info("lock %s/%s is held by host %s, not this host (%s); left alone",
			    c->ns, c->name, r.host, c->me->host);
			record_clear(&r);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		if (ident_check(r.pid, r.proc_start, r.boot_id, &why) == IDENT_ALIVE) {
			log_info("lock %s/%s is held by pid %ld on this host and %s; left alone",
			    c->ns, c->name, r.pid, why);
			record_clear(&r);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		rc = free_lock(c, &cm, r.token);
		if (rc == KUBE_OK)
			log_info("cleaned up lock %s/%s of pid %ld since %s: %s",
			    c->ns, c->name, r.pid, r.start_time, why);
		record_clear(&r);
		kube_cm_clear(&cm);
		if (rc == KUBE_OK)
			return LOCK_OK;
		if ((o = on_failure(c, rc, &fails, 0)) != LOCK_OK)
			return o;
	}
}
