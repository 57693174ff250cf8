/*
 * lock.h: the lock's actions, built on kube.h. Outcomes are an enum; only main.c turns
 * them into exit codes. Each action says what it did on stderr (one line) and reports
 * its own errors; stdout carries only data (query's record, acquire's token).
 */
#ifndef CL_LOCK_H
#define CL_LOCK_H

#include <stdint.h>

struct kube;
struct ident;

enum lock_outcome {
	LOCK_OK,
	LOCK_TIMEOUT,		/* acquire: still held when --max-wait-time ran out */
	LOCK_NOT_OWNER,		/* release: held by someone else, left untouched */
	LOCK_ERR,		/* anything else; already reported */
	LOCK_INTERRUPTED,	/* a signal arrived; sig_pending() says which */
};

struct lock_ctx {
	struct kube		*kb;
	const char		*ns;
	const char		*name;
	const struct ident	*me;
	int64_t			 max_wait_ms;	/* acquire: < 0 waits for ever */
	int64_t			 ttl_ms;	/* acquire: lease length, 0 for none */
	int			 print_token;	/* acquire: print the fencing token on stdout */
};

/*
 * Takes the lock. *token gets the fencing token; *sent (may be NULL) the clock_ms() at
 * which the winning write was sent: a lease runs from then, never from its reply.
 */
enum lock_outcome	lock_acquire(const struct lock_ctx *, uint64_t *token, int64_t *sent);
enum lock_outcome	lock_release(const struct lock_ctx *);
enum lock_outcome	lock_force_release(const struct lock_ctx *);
enum lock_outcome	lock_query(const struct lock_ctx *);
enum lock_outcome	lock_cleanup(const struct lock_ctx *);

#endif
