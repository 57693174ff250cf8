/*
 * lock_int.h: the lock module's own seam between lock.c (the lock record) and
 * lock_queue.c (the waiters' queue). Nothing outside src/lock*.c includes it.
 *
 * The queue: a waiter that finds the lock held creates a coordination.k8s.io/v1 Lease
 * (labelled with the lock's name, carrying its would-be record) and renews it while it
 * waits. Its ticket is the Lease's creation revision (etcd's, strictly increasing across
 * the cluster, also across a deleted ConfigMap), so the order needs no counter and no
 * write that could conflict. A release (also force-release, cleanup) that finds live
 * Leases hands the lock to the lowest ticket: it writes that waiter's record, with the
 * next token, a short ttl (LOCK_GRANT_TTL_MS) and "queue" naming the Lease: a grant.
 * The waiter, watching the ConfigMap as before, sees its grant, writes its own record
 * (the same token; its own ttl or none) and deletes its Lease. A grant that is not so
 * confirmed (the waiter died) expires like any lease and the next in line takes over.
 * Only when the lock is found free or expired does a waiter read the queue, and only
 * the first in line then takes it.
 */
#ifndef CL_LOCK_INT_H
#define CL_LOCK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ident.h"
#include "kube.h"
#include "lock.h"

#define LOCK_GRANT_TTL_MS	10000	/* how long a grant waits for its waiter to confirm */
#define LOCK_LABEL_MAX		63	/* a label value */

struct lock_queue {
	struct kube_lease	l;		/* ours while l.name != NULL */
	char			label[LOCK_LABEL_MAX + 1];
	char			holder[IDENT_MAX_HOST + 32];	/* holderIdentity: "host pid" */
	int64_t			next_renew;	/* clock_ms() when our Lease is due again */
	int			position;	/* 1 = first in line; 0 unknown */
	int			ever;		/* we joined during this acquire */
};

/* 1 while we are in the queue. */
int	lock_queue_joined(const struct lock_queue *);
/* Creates our Lease. KUBE_OK, or the failure (logged as kube.h says). */
enum kube_rc lock_queue_join(const struct lock_ctx *, struct lock_queue *);
/*
 * Renews our Lease when due (a failure is tried again a second later). KUBE_NOT_FOUND:
 * someone removed it (we were taken for dead, or it was deleted by hand): we are out
 * of the queue and may join again at its end. Else KUBE_OK (also after a failed try).
 */
enum kube_rc lock_queue_tend(const struct lock_ctx *, struct lock_queue *);
/* Deletes our Lease, if any (errors logged, not returned: it expires anyway). */
void	lock_queue_leave(const struct lock_ctx *, struct lock_queue *);
/*
 * May we take a free or expired lock now? Reads the queue: 1 when no live Lease other
 * than skip (an unconfirmed grant's, NULL: none) is ahead of ours (or, not queued, when
 * none is live at all); 0 when one is, with *recheck the clock_ms() when the first of
 * those would expire if not renewed (CLOCK_NEVER: unknown); -1 on failure (*rc says
 * which, logged). Updates q->position.
 */
int	lock_queue_may_take(const struct lock_ctx *, struct lock_queue *, const char *skip,
	    int64_t *recheck, enum kube_rc *rc);
/*
 * For a release: the grant record, with token, for the first live waiter (other than
 * skip), malloc'd; NULL when nobody waits (*rc KUBE_OK) or on failure (*rc). who gets
 * "host H pid P" of that waiter. Deletes Leases it finds expired.
 */
char	*lock_queue_grant(const struct lock_ctx *, const char *skip, uint64_t token,
	    enum kube_rc *rc, char *who, size_t whosz);
/* cleanup: deletes the Leases of this host's waiters whose process is gone (logged). */
void	lock_queue_cleanup(const struct lock_ctx *);
/* For list: 1 when l is a live place in the queue of lock name (server_now: its list's Date). */
int	lock_queue_in_line(const char *name, const struct kube_lease *l, int64_t server_now);
/* For qsort of struct kube_lease *: queue order (ticket, then name). */
int	lock_queue_cmp(const void *a, const void *b);
/* The lock's label value: its name, or (longer than 63) a prefix and a hash of it. */
void	lock_queue_label(const char *name, char *buf, size_t bufsz);

#endif
