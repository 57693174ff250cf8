/* lock_queue.c: the waiters' queue of a lock (see lock_int.h for the protocol). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ident.h"
#include "kube.h"
#include "lock_int.h"
#include "log.h"
#include "record.h"

#define QUEUE_RETRY_MS		1000	/* a failed renewal is tried again after this */
#define QUEUE_SLACK_S		2	/* both server times are whole seconds */
#define QUEUE_LABEL_KEEP	46	/* of a long name, before "-" and 16 hex digits */

void
lock_queue_label(const char *name, char *buf, size_t bufsz)
{
	uint64_t	h = UINT64_C(14695981039346656037);	/* FNV-1a */
	size_t		n = strlen(name), keep = QUEUE_LABEL_KEEP;
	const char	*p;

	if (n <= LOCK_LABEL_MAX) {
		snprintf(buf, bufsz, "%s", name);
		return;
	}
	for (p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
	/* A label value ends in a letter or digit; a DNS name has one at its start. */
	while (keep > 1 && (name[keep - 1] == '-' || name[keep - 1] == '.'))
		keep--;
	snprintf(buf, bufsz, "%.*s-%016llx", (int)keep, name, (unsigned long long)h);
}

int
lock_queue_joined(const struct lock_queue *q)
{
	return q->l.name != NULL;
}

/* Our queue's label and holderIdentity, once. */
static void
queue_names(const struct lock_ctx *c, struct lock_queue *q)
{
	lock_queue_label(c->name, q->label, sizeof(q->label));
	snprintf(q->holder, sizeof(q->holder), "%s %ld", c->me->host, c->me->pid);
}

enum kube_rc
lock_queue_join(const struct lock_ctx *c, struct lock_queue *q)
{
	char		 prefix[LOCK_LABEL_MAX + 2], *rec;
	enum kube_rc	 rc;
	int64_t		 ttl_s = (c->queue_ttl_ms + 999) / 1000;

	queue_names(c, q);
	snprintf(prefix, sizeof(prefix), "%s-", q->label);
	/* The record we would hold: the one a release hands on, with a new token. */
	if ((rec = record_build(c->me, 0, NULL, c->ttl_ms, 0, NULL, c->info)) == NULL) {
		log_error("out of memory");
		return KUBE_ERR;
	}
	rc = kube_lease_create(c->kb, c->ns, prefix, q->label, c->name, rec, ttl_s, q->holder,
	    &q->l);
	free(rec);
	if (rc != KUBE_OK)
		return rc;
	q->ever = 1;
	q->position = 0;
	q->next_renew = clock_deadline(c->queue_ttl_ms / 2);
	log_verbose("joined the queue of lock %s/%s as lease %s (ticket %llu)", c->ns, c->name,
	    q->l.name, (unsigned long long)q->l.ticket);
	return KUBE_OK;
}

enum kube_rc
lock_queue_tend(const struct lock_ctx *c, struct lock_queue *q)
{
	enum kube_rc	rc;

	if (!lock_queue_joined(q) || clock_left(q->next_renew) > 0)
		return KUBE_OK;
	rc = kube_lease_renew(c->kb, q->label, q->holder, &q->l);
	if (rc == KUBE_OK) {
		q->next_renew = clock_deadline(c->queue_ttl_ms / 2);
		log_verbose("renewed our place in the queue of lock %s/%s", c->ns, c->name);
		return KUBE_OK;
	}
	if (rc == KUBE_NOT_FOUND || rc == KUBE_CONFLICT) {
		/* Taken for dead and removed, or replaced: join again, at the end. */
		log_info("our place in the queue of lock %s/%s (lease %s) was removed; joining "
		    "it again", c->ns, c->name, q->l.name);
		kube_lease_clear(&q->l);
		return KUBE_NOT_FOUND;
	}
	q->next_renew = clock_deadline(QUEUE_RETRY_MS);
	return KUBE_OK;
}

void
lock_queue_leave(const struct lock_ctx *c, struct lock_queue *q)
{
	enum kube_rc	rc;

	if (!lock_queue_joined(q))
		return;
	rc = kube_lease_delete(c->kb, q->l.ns, q->l.name, NULL);
	if (rc == KUBE_OK || rc == KUBE_NOT_FOUND)
		log_verbose("left the queue of lock %s/%s", c->ns, c->name);
	kube_lease_clear(&q->l);
}

void
lock_queue_forget(struct lock_queue *q)
{
	kube_lease_clear(&q->l);
}

/* A Lease of this lock's queue, with what a grant needs. */
static int
is_member(const struct lock_ctx *c, const struct kube_lease *l)
{
	return l->lock != NULL && strcmp(l->lock, c->name) == 0 && l->ticket > 0 &&
	    l->record != NULL;
}

/*
 * Milliseconds until l expires by the server's clock (its last write against the list's
 * Date), negative once it has; INT64_MAX when the server gave no times.
 */
static int64_t
lease_left(const struct kube_lease *l, int64_t server_now)
{
	if (l->written <= 0 || server_now <= 0 || l->duration_s <= 0)
		return INT64_MAX;
	return (l->duration_s + QUEUE_SLACK_S - (server_now - l->written)) * 1000;
}

/* Whether a comes before b in the queue. */
static int
ahead(const struct kube_lease *a, const struct kube_lease *b)
{
	if (a->ticket != b->ticket)
		return a->ticket < b->ticket;
	return strcmp(a->name, b->name) < 0;
}

int
lock_queue_in_line(const char *name, const struct kube_lease *l, int64_t server_now)
{
	return l->lock != NULL && strcmp(l->lock, name) == 0 && l->ticket > 0 &&
	    l->record != NULL && lease_left(l, server_now) >= 0;
}

int
lock_queue_cmp(const void *a, const void *b)
{
	const struct kube_lease	*x = *(const struct kube_lease *const *)a;
	const struct kube_lease	*y = *(const struct kube_lease *const *)b;

	return ahead(x, y) ? -1 : ahead(y, x) ? 1 : 0;
}

/* Deletes an expired waiter's Lease (only that version of it: a renewal keeps it). */
static void
collect(const struct lock_ctx *c, const struct kube_lease *l)
{
	if (kube_lease_delete(c->kb, l->ns, l->name, l->rv) == KUBE_OK)
		log_verbose("removed lease %s of lock %s/%s: not renewed within its %llds",
		    l->name, c->ns, c->name, (long long)l->duration_s);
}

int
lock_queue_may_take(const struct lock_ctx *c, struct lock_queue *q, const char *skip,
    int64_t *recheck, enum kube_rc *rc)
{
	struct kube_leases	ls;
	size_t			i;
	int			before = 0;
	int64_t			first = INT64_MAX;

	*recheck = CLOCK_NEVER;
	queue_names(c, q);
	if ((*rc = kube_lease_list(c->kb, c->ns, q->label, 0, &ls)) != KUBE_OK)
		return -1;
	for (i = 0; i < ls.n; i++) {
		const struct kube_lease	*l = &ls.v[i];
		int64_t			 left;

		if (!is_member(c, l) || (skip != NULL && strcmp(l->name, skip) == 0))
			continue;
		if (lock_queue_joined(q) && strcmp(l->name, q->l.name) == 0)
			continue;
		if (lock_queue_joined(q) && !ahead(l, &q->l))
			continue;
		if ((left = lease_left(l, ls.server_now)) < 0) {
			collect(c, l);
			continue;
		}
		before++;
		if (left < first)
			first = left;
	}
	kube_leases_clear(&ls);
	if (lock_queue_joined(q))
		q->position = before + 1;
	if (before > 0 && first != INT64_MAX)
		*recheck = clock_deadline(first + 1000);
	return before == 0;
}

/* The grant for waiter l's record text: its identity and details, token, queue = l. */
static char *
grant_build(const struct kube_lease *l, uint64_t token, char *who, size_t whosz)
{
	struct record		r;
	struct record_info	info;
	struct ident		id;
	const char		*why;
	char			*out = NULL;

	if (record_parse(l->record, &r, &why) != 0)
		return NULL;
	if (!ident_host_valid(r.host) ||
	    (r.proc_start != NULL && strlen(r.proc_start) >= sizeof(id.proc_start)) ||
	    (r.boot_id != NULL && strlen(r.boot_id) >= sizeof(id.boot_id)))
		goto done;
	memset(&id, 0, sizeof(id));
	snprintf(id.host, sizeof(id.host), "%s", r.host);
	id.pid = r.pid;
	snprintf(id.proc_start, sizeof(id.proc_start), "%s", r.proc_start ? r.proc_start : "");
	snprintf(id.boot_id, sizeof(id.boot_id), "%s", r.boot_id ? r.boot_id : "");
	memset(&info, 0, sizeof(info));
	info.owner = r.owner;
	info.keeper = r.keeper;
	info.reason = r.reason;
	info.ci_url = r.ci_url;
	info.ci_job = r.ci_job;
	info.queue = l->name;
	if ((out = record_build(&id, token, NULL, LOCK_GRANT_TTL_MS, 0, NULL, &info)) == NULL)
		log_error("out of memory");
	else if (strlen(out) > RECORD_MAX_LEN) {
		free(out);
		out = NULL;
	} else
		snprintf(who, whosz, "host %s pid %ld", r.host, r.pid);
done:
	record_clear(&r);
	return out;
}

/*
 * Whether records a and b name the same holder: the same owner key when both have one
 * (acquire --owner, or a CI job's), else the same process (host, PID, its start, boot).
 * Waiters that differ only in their owner key often share the process that started them.
 */
static int
same_holder(const struct record *a, const struct record *b)
{
	if (a->owner != NULL || b->owner != NULL)
		return a->owner != NULL && b->owner != NULL && strcmp(a->owner, b->owner) == 0;
	return strcmp(a->host, b->host) == 0 && a->pid == b->pid &&
	    strcmp(a->proc_start ? a->proc_start : "", b->proc_start ? b->proc_start : "") == 0 &&
	    strcmp(a->boot_id ? a->boot_id : "", b->boot_id ? b->boot_id : "") == 0;
}

/*
 * The first live waiter in ls that the lock, held as held (or NULL), may be handed to,
 * or NULL; tried marks those looked at. Not the holder itself: its Lease is deleted
 * after it takes the lock up, so a list can still show it.
 */
static const struct kube_lease *
grant_pick(const struct lock_ctx *c, const struct kube_leases *ls, const struct record *held,
    int *tried)
{
	const struct kube_lease	*best = NULL;
	size_t			 i, bi = 0;

	for (i = 0; i < ls->n; i++) {
		const struct kube_lease	*l = &ls->v[i];
		struct record		 r;
		const char		*why;
		int			 mine;

		if (tried[i] || !is_member(c, l))
			continue;
		if (held != NULL && held->queue != NULL && strcmp(l->name, held->queue) == 0)
			continue;
		if (held != NULL && record_parse(l->record, &r, &why) == 0) {
			mine = same_holder(&r, held);
			record_clear(&r);
			if (mine)
				continue;
		}
		if (lease_left(l, ls->server_now) < 0) {
			tried[i] = 1;
			collect(c, l);
			continue;
		}
		if (best == NULL || ahead(l, best)) {
			best = l;
			bi = i;
		}
	}
	if (best != NULL)
		tried[bi] = 1;
	return best;
}

/*
 * For a release: the first live waiter, read from the API server's watch cache as it is.
 * A consistent list would wait up to 100 ms (the cache's progress-request period) for the
 * cache to catch up with our own write of the lock; the cache may instead be a little
 * behind. A Lease created since is a waiter not yet owed the lock: it takes it free. A
 * Lease deleted since is the holder's own (grant_pick skips it) or a waiter's that left,
 * the race a waiter's leaving already settles (acquire_leave hands the lock on, else the
 * grant's short ttl ends it): a lag of milliseconds widens it by as much.
 */
char *
lock_queue_grant(const struct lock_ctx *c, const struct record *held, uint64_t token,
    enum kube_rc *rc, char *who, size_t whosz, char *lease, size_t leasesz)
{
	struct kube_leases	 ls;
	struct lock_queue	 q;
	const struct kube_lease	*best;
	char			*grant = NULL;
	int			*tried;

	memset(&q, 0, sizeof(q));
	queue_names(c, &q);
	if ((*rc = kube_lease_list(c->kb, c->ns, q.label, 1, &ls)) != KUBE_OK)
		return NULL;
	if ((tried = calloc(ls.n + 1, sizeof(*tried))) == NULL) {
		log_error("out of memory");
		kube_leases_clear(&ls);
		*rc = KUBE_ERR;
		return NULL;
	}
	/* The first live waiter whose record we can hand the lock to. */
	while ((best = grant_pick(c, &ls, held, tried)) != NULL &&
	    (grant = grant_build(best, token, who, whosz)) == NULL)
		;
	if (grant != NULL)
		snprintf(lease, leasesz, "%s", best->name);
	free(tried);
	kube_leases_clear(&ls);
	*rc = KUBE_OK;
	return grant;
}

void
lock_queue_cleanup(const struct lock_ctx *c)
{
	struct kube_leases	ls;
	struct lock_queue	q;
	size_t			i;

	memset(&q, 0, sizeof(q));
	queue_names(c, &q);
	if (kube_lease_list(c->kb, c->ns, q.label, 0, &ls) != KUBE_OK)
		return;
	for (i = 0; i < ls.n; i++) {
		const struct kube_lease	*l = &ls.v[i];
		struct record		 r;
		const char		*why;

		if (!is_member(c, l) || record_parse(l->record, &r, &why) != 0)
			continue;
		if (strcmp(r.host, c->me->host) == 0 &&
		    ident_check(r.pid, r.proc_start, r.boot_id, &why) == IDENT_DEAD &&
		    kube_lease_delete(c->kb, l->ns, l->name, l->rv) == KUBE_OK)
			log_info("lock %s/%s: removed the place in its queue of pid %ld on this "
			    "host: %s", c->ns, c->name, r.pid, why);
		record_clear(&r);
	}
	kube_leases_clear(&ls);
}
