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
 * and then deletes that Lease. The waiter, watching the ConfigMap as before, sees its
 * grant and writes its own record (the same token; its own ttl or none). A grant not so
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
#define LOCK_LEASE_NAME_MAX	253	/* an object's name */
#define LOCK_WATCH_MIN_MS	1000	/* a watch that ends sooner is backed off from */
#define LOCK_SHOW_MAX		200	/* how much of a corrupt record we print */
#define LOCK_DETAILS_MAX	2200	/* lock_holder_details(): four values of CI_TEXT_MAX */

struct kube_cm;
struct record;

/* lock.c's helpers that lock_free.c shares (the record and its writes). */

/* See lock.h on ownership: 1 when record r is ours. */
int	lock_is_me(const struct lock_ctx *, const struct record *r);
/* " (owner K; reason R; URL)" of r, or "", into buf (bufsz: LOCK_DETAILS_MAX). */
const char *lock_holder_details(const struct record *r, char *buf, size_t bufsz);
/* Says (error) that the record holder is corrupt and why, and that it was left. */
void	lock_report_corrupt(const struct lock_ctx *, const char *holder, const char *why);
/* What a failed call means: retry (LOCK_OK, after backoff) or give up with an outcome. */
enum lock_outcome lock_on_failure(const struct lock_ctx *, enum kube_rc rc, int *fails,
	    int64_t deadline);
/* The fencing counter s (0 when NULL) into *v; -1 when not a number below 10^19. */
int	lock_fence_parse(const char *s, uint64_t *v);
/* Where tokens go on from without a counter: resourceVersion rv as a number, else 0. */
uint64_t lock_fence_floor(const char *rv);
/*
 * Frees the lock read as cm (conditional on its version), held as held (NULL: by no one
 * readable), the counter at least its token; with waiters, hands it to the first of
 * them other than held's own (a grant). kube.h's rc.
 */
enum kube_rc lock_free_held(const struct lock_ctx *, const struct kube_cm *cm,
	    const struct record *held);

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
/* Forgets our Lease without a request: the release that handed us the lock deletes it. */
void	lock_queue_forget(struct lock_queue *);
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
 * For a release of the lock held as held (or NULL): the grant record, with token, for
 * the first live waiter other than held's own, malloc'd; NULL when nobody waits (*rc KUBE_OK) or on failure (*rc). who gets
 * "host H pid P" of that waiter, lease the name of its Lease (which the caller deletes
 * once the grant is written). Deletes Leases it finds expired.
 */
char	*lock_queue_grant(const struct lock_ctx *, const struct record *held,
	    uint64_t token, enum kube_rc *rc, char *who, size_t whosz, char *lease,
	    size_t leasesz);
/* cleanup: deletes the Leases of this host's waiters whose process is gone (logged). */
void	lock_queue_cleanup(const struct lock_ctx *);
/* For list: 1 when l is a live place in the queue of lock name (server_now: its list's Date). */
int	lock_queue_in_line(const char *name, const struct kube_lease *l, int64_t server_now);
/* For qsort of struct kube_lease *: queue order (ticket, then name). */
int	lock_queue_cmp(const void *a, const void *b);
/* The lock's label value: its name, or (longer than 63) a prefix and a hash of it. */
void	lock_queue_label(const char *name, char *buf, size_t bufsz);

#endif
