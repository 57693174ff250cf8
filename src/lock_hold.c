/*
 * lock_hold.c: holding the lock for a while (run, the keeper): check that it is still
 * ours, renew its lease, watch it in between (see lock.h, struct lock_hold).
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ident.h"
#include "kube.h"
#include "lock.h"
#include "lock_int.h"
#include "log.h"
#include "record.h"

#define LOCK_HOLD_RETRY_MS	1000	/* a holder's next try after a failed renewal */

/*
 * Is cm still the lock we hold? Notes its versions when it is. LOCK_OK yes; LOCK_LOST
 * (and why, logged): freed, overwritten, or taken by another holder or acquisition.
 */
static enum lock_outcome
hold_still_ours(const struct lock_ctx *c, struct lock_hold *h, const struct kube_cm *cm)
{
	struct record	 r;
	const char	*why;
	int		 ours;

	if (record_is_free(cm->holder)) {
		log_error("lock %s/%s was released by someone else while the command ran",
		    c->ns, c->name);
		return LOCK_LOST;
	}
	if (record_parse(cm->holder, &r, &why) != 0) {
		log_error("lock %s/%s was overwritten while the command ran: %s",
		    c->ns, c->name, why);
		return LOCK_LOST;
	}
	/*
	 * Ours while the record names this very holder: a second `acquire --keep` of the
	 * same job that took over the renewing leaves the first keeper nothing to do.
	 */
	ours = r.token == h->token && r.pid == c->me->pid && strcmp(r.host, c->me->host) == 0;
	if (ours && strlen(r.start_time) >= sizeof(h->start_time)) {
		/* Not what we wrote, and not to be cut when we write it back. */
		log_error("lock %s/%s was overwritten while the command ran: its start-time is "
		    "longer than %zu bytes", c->ns, c->name, sizeof(h->start_time) - 1);
		record_clear(&r);
		return LOCK_LOST;
	}
	if (!ours)
		log_error("lock %s/%s was taken by host %s pid %ld (token %llu) while the "
		    "command ran", c->ns, c->name, r.host, r.pid, (unsigned long long)r.token);
	else {
		snprintf(h->rv, sizeof(h->rv), "%s", cm->rv);
		/* A list's version is inside the server's watch window even after a restart. */
		snprintf(h->watch_rv, sizeof(h->watch_rv), "%s",
		    cm->list_rv != NULL ? cm->list_rv : cm->rv);
		snprintf(h->start_time, sizeof(h->start_time), "%s", r.start_time);
		h->renewals = r.renewals;
	}
	record_clear(&r);
	return ours ? LOCK_OK : LOCK_LOST;
}

/* Lists the lock into cm: LOCK_OK, LOCK_LOST (deleted, logged), LOCK_ERR (retry). */
static enum lock_outcome
hold_read(const struct lock_ctx *c, struct kube_cm *cm)
{
	enum kube_rc	rc = kube_cm_list(c->kb, c->ns, c->name, cm);

	if (rc == KUBE_OK)
		return LOCK_OK;
	kube_cm_clear(cm);
	if (rc != KUBE_NOT_FOUND)
		return LOCK_ERR;
	log_error("lock %s/%s was deleted while the command ran", c->ns, c->name);
	return LOCK_LOST;
}

static enum lock_outcome
lock_hold_check(const struct lock_ctx *c, struct lock_hold *h)
{
	struct kube_cm		cm;
	enum lock_outcome	o;

	if ((o = hold_read(c, &cm)) != LOCK_OK)
		return o;
	o = hold_still_ours(c, h, &cm);
	kube_cm_clear(&cm);
	return o;
}

enum lock_outcome
lock_hold_acquire(const struct lock_ctx *c, struct lock_hold *h)
{
	enum lock_outcome	o;

	struct kube_cm		now;

	if ((o = lock_acquire(c, &h->token, &h->last_renewed, &now)) != LOCK_OK)
		return o;
	h->next_renew = c->ttl_ms > 0 ? clock_deadline(c->ttl_ms / 3) : CLOCK_NEVER;
	/*
	 * Our record's version, to watch from: the one our write gave, else a read (LOCK_ERR
	 * here is retried while holding). Not a list: that waits for the API server's cache.
	 */
	o = now.rv != NULL ? hold_still_ours(c, h, &now) : lock_hold_check(c, h);
	kube_cm_clear(&now);
	return o == LOCK_LOST ? LOCK_LOST : LOCK_OK;
}

/*
 * Rewrites our record (renewals + 1, h->cmd in it), conditional on the version just
 * read, if it is still ours. LOCK_OK renewed, LOCK_LOST, LOCK_ERR could not tell (retry).
 */
static enum lock_outcome
lock_hold_renew(const struct lock_ctx *c, struct lock_hold *h)
{
	struct kube_cm		 cur, now;
	enum lock_outcome	 o;
	enum kube_rc		 rc;
	char			*rec, fence[24];
	int64_t			 sent;

	lock_hold_unwatch(c, h);
	if ((o = hold_read(c, &cur)) != LOCK_OK)
		return o;
	if ((o = hold_still_ours(c, h, &cur)) != LOCK_OK) {
		kube_cm_clear(&cur);
		return o;
	}
	snprintf(fence, sizeof(fence), "%llu", (unsigned long long)h->token);
	rec = record_build(c->me, h->token, h->start_time, c->ttl_ms, h->renewals + 1, h->cmd,
	    c->info);
	if (rec == NULL) {
		kube_cm_clear(&cur);
		return LOCK_ERR;
	}
	sent = clock_ms();
	rc = kube_cm_update(c->kb, c->ns, c->name, &cur, rec, fence, &now);
	free(rec);
	kube_cm_clear(&cur);
	if (rc == KUBE_CONFLICT)
		return lock_hold_check(c, h) == LOCK_OK ? LOCK_ERR : LOCK_LOST;
	if (rc != KUBE_OK)
		return LOCK_ERR;
	/* A reply that did not describe what we wrote: read it. */
	o = now.rv != NULL ? hold_still_ours(c, h, &now) : lock_hold_check(c, h);
	kube_cm_clear(&now);
	if (o == LOCK_OK) {
		h->last_renewed = sent;
		log_verbose("renewed lock %s/%s (renewal %llu)", c->ns, c->name,
		    (unsigned long long)h->renewals);
	}
	return o;
}

void
lock_hold_unwatch(const struct lock_ctx *c, struct lock_hold *h)
{
	if (h->watching)
		kube_watch_close(c->kb);
	h->watching = 0;
}

/* Watches the lock until "until", opening a watch when none is open (lock_hold_tend). */
static enum lock_outcome
lock_hold_watch(const struct lock_ctx *c, struct lock_hold *h, int64_t until)
{
	struct kube_cm		ev;
	enum kube_watch_rc	rc;
	enum lock_outcome	o;

	if (!h->watching) {
		h->opened = clock_ms();
		rc = kube_watch_open(c->kb, c->ns, c->name, h->watch_rv, 0, CLOCK_NEVER);
		if (rc == KUBE_WATCH_INTR)
			return LOCK_INTERRUPTED;
		if (rc != KUBE_WATCH_CHANGED)
			return rc == KUBE_WATCH_RESTART && lock_hold_check(c, h) == LOCK_LOST ?
			    LOCK_LOST : LOCK_ERR;
		h->watching = 1;
	}
	rc = kube_watch_next(c->kb, until, &ev);
	switch (rc) {
	case KUBE_WATCH_DEADLINE:
		return LOCK_OK;
	case KUBE_WATCH_CHANGED:
		o = hold_still_ours(c, h, &ev);
		kube_cm_clear(&ev);
		if (o != LOCK_OK)
			lock_hold_unwatch(c, h);
		return o;
	case KUBE_WATCH_INTR:
		h->watching = 0;	/* the stream was closed */
		return LOCK_INTERRUPTED;
	case KUBE_WATCH_RESTART:
		h->watching = 0;
		if ((o = lock_hold_check(c, h)) == LOCK_LOST)
			return o;
		/* A stream that ends as soon as it opens must not become a loop. */
		return o == LOCK_OK && clock_ms() - h->opened >= LOCK_WATCH_MIN_MS ? LOCK_OK :
		    LOCK_ERR;
	default:
		h->watching = 0;
		return LOCK_ERR;
	}
}

/*
 * When our lease ends by our own clock (CLOCK_NEVER without a ttl): a tenth of the ttl
 * before a waiter may take the lock over (a waiter counts from when it saw our last
 * write, which is after we sent it), so that our command is being stopped before anyone
 * else may start.
 */
static int64_t
lock_hold_lease_end(const struct lock_ctx *c, const struct lock_hold *h)
{
	if (c->ttl_ms <= 0)
		return CLOCK_NEVER;
	return h->last_renewed + c->ttl_ms - c->ttl_ms / 10;
}

enum lock_outcome
lock_hold_tend(const struct lock_ctx *c, struct lock_hold *h, int64_t until)
{
	enum lock_outcome	o;
	int64_t			end = lock_hold_lease_end(c, h);

	if (clock_left(end) == 0) {
		log_error("lock %s/%s could not be renewed within its ttl; it may be taken over",
		    c->ns, c->name);
		lock_hold_unwatch(c, h);
		return LOCK_LOST;
	}
	if (clock_left(h->next_renew) == 0) {
		if ((o = lock_hold_renew(c, h)) == LOCK_LOST)
			return o;
		if (o != LOCK_OK)
			h->next_renew = clock_deadline(LOCK_HOLD_RETRY_MS);
		else
			h->next_renew = c->ttl_ms > 0 ? clock_deadline(c->ttl_ms / 3) : CLOCK_NEVER;
		return LOCK_OK;
	}
	if (h->next_renew < until)
		until = h->next_renew;
	if (end < until)
		until = end;
	return lock_hold_watch(c, h, until);
}
