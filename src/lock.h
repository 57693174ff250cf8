/*
 * lock.h: the lock's actions, built on kube.h. Outcomes are an enum; only main.c turns
 * them into exit codes. Each action says what it did on stderr (one line) and reports
 * its own errors; stdout carries only data (query's record, acquire's token).
 */
#ifndef CL_LOCK_H
#define CL_LOCK_H

#include <stdint.h>

struct kube;
struct kube_cm;
struct ident;
struct record_info;

/* Holds any resourceVersion kube.h lets through (KUBE_RV_MAX + 1; lock.c checks). */
#define LOCK_RV_SIZE	64

enum lock_outcome {
	LOCK_OK,
	LOCK_TIMEOUT,		/* acquire: still held when --max-wait-time ran out */
	LOCK_NOT_OWNER,		/* release: held by someone else, left untouched */
	LOCK_ERR,		/* anything else; already reported */
	LOCK_INTERRUPTED,	/* a signal arrived; sig_pending() says which */
	LOCK_LOST,		/* a held lock is no longer ours (freed, taken over, deleted) */
};

struct lock_ctx {
	struct kube		*kb;
	const char		*ns;
	const char		*name;
	const struct ident	*me;
	int64_t			 max_wait_ms;	/* acquire: < 0 waits for ever */
	int64_t			 ttl_ms;	/* acquire: lease length, 0 for none */
	int			 print_token;	/* acquire: print the fencing token on stdout */
	int64_t			 call_deadline;	/* clock_ms() by which the action gives up
						   retrying (CLOCK_NEVER: after its tries) */
	int			 pid_given;	/* me->pid came from --pid: match it alone */
	const char		*owner;		/* our owner key (--owner, the CI job's), or NULL */
	const struct record_info *info;		/* what a record we write says, or NULL */
	int64_t			 queue_ttl_ms;	/* acquire: a waiter's place in the queue lasts
						   this long unless renewed (every half) */
};

/*
 * Ownership: a record is ours when it names our owner key (both have one), or else when
 * it names our host and, with --pid, that PID; without, this process or one of its
 * ancestors (a shell that exec'd into us, the script around a subshell), by PID and
 * start time. Never a sibling or an unrelated process of the same host.
 */

/*
 * Takes the lock. *token gets the fencing token; *sent (may be NULL) the clock_ms() at
 * which the winning write was sent: a lease runs from then, never from its reply;
 * *written (may be NULL; clear it after) the lock as that write left it, or nothing (rv
 * NULL) when it was held already without a write or the reply did not say.
 */
enum lock_outcome	lock_acquire(const struct lock_ctx *, uint64_t *token, int64_t *sent,
			    struct kube_cm *written);
/* With stdout data: the token printed (--print-token) or the record (query). */
enum lock_outcome	lock_release(const struct lock_ctx *);
enum lock_outcome	lock_force_release(const struct lock_ctx *);
enum lock_outcome	lock_query(const struct lock_ctx *);
enum lock_outcome	lock_cleanup(const struct lock_ctx *);
/*
 * Every lock in c->ns (all namespaces when all is set) with its holder and queue: one
 * line of JSON per lock on stdout, or, when stdout is a terminal, an aligned table
 * (cluster text sanitised). Needs list on configmaps and leases.
 */
enum lock_outcome	lock_list(const struct lock_ctx *, int all);

/*
 * Holding the lock for a while (run): take it, then keep checking that it is still ours,
 * renew its lease and watch it, on one version of the record at a time. The caller owns
 * the struct, sets cmd and may set next_renew; everything else is lock.c's.
 */
struct lock_hold {
	uint64_t		 token;
	const struct ident	*cmd;		/* the command run for the holder, or NULL */
	int64_t			 last_renewed;	/* clock_ms() when our last write was sent */
	int64_t			 next_renew;	/* when to write the record again (the caller may
						   bring it forward); CLOCK_NEVER: not again */
	uint64_t		 renewals;
	char			 rv[LOCK_RV_SIZE];	/* our record's last known version */
	char			 watch_rv[LOCK_RV_SIZE];	/* where to watch from */
	char			 start_time[64];
	int			 watching;
	int64_t			 opened;	/* clock_ms() when the watch was opened */
};

/* lock_acquire, then a read of the record it wrote. LOCK_LOST when gone at once. */
enum lock_outcome	lock_hold_acquire(const struct lock_ctx *, struct lock_hold *);
/*
 * Keeps the lock held until clock_ms() deadline "until": rewrites the record when
 * h->next_renew comes (renewals + 1, h->cmd in it; then every ttl/3, or never without a
 * ttl; a failed write is tried again a second later), and watches it in between.
 * LOCK_OK: nothing that matters happened (call again); LOCK_LOST: the lock is not ours
 * any more, or could not be renewed before our own end of the lease, a tenth of the ttl
 * before anyone may take it over (logged); LOCK_INTERRUPTED: a signal; LOCK_ERR: the
 * watch could not be kept open (logged; pause, then call again).
 */
enum lock_outcome	lock_hold_tend(const struct lock_ctx *, struct lock_hold *, int64_t until);
void			lock_hold_unwatch(const struct lock_ctx *, struct lock_hold *);

#endif
