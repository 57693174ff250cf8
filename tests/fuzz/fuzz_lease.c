/*
 * fuzz_lease.c: a list of the waiters' Leases as the lock reads it (kube_leases_parse:
 * names, versions, the annotations lock/record/ticket, leaseDurationSeconds, the
 * server's time stamps), then as lock_queue.c uses it: which are live places in the
 * queue of a lock, their order (lock_queue_cmp), and each waiter's record.
 *
 * Checks, beyond the sanitizers: a parsed list has at most KUBE_LEASE_MAX items, each
 * with a name of 1 to 253 bytes, a namespace, and a resourceVersion of 1 to KUBE_RV_MAX
 * bytes; a failure leaves the list empty; the order is a strict weak order on what was
 * read (irreflexive, antisymmetric, and sorting puts every pair in order).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube.h"
#include "kube_int.h"
#include "lock_int.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_leases	 ls;
	struct kube_lease	**v;
	size_t			 i, n = 0;

	if (kube_leases_parse("https://fuzz", "list leases", (const char *)data, size,
	    &ls) != 0) {
		if (ls.n != 0 || ls.v != NULL)
			abort();
		return 0;
	}
	if (ls.n > KUBE_LEASE_MAX)
		abort();
	if (ls.n == 0)
		return 0;
	if ((v = calloc(ls.n, sizeof(*v))) == NULL)
		abort();
	for (i = 0; i < ls.n; i++) {
		const struct kube_lease	*l = &ls.v[i];
		struct record		 r;
		const char		*why;

		if (l->name == NULL || l->name[0] == '\0' || strlen(l->name) > 253 ||
		    l->ns == NULL || l->rv == NULL || l->rv[0] == '\0' ||
		    strlen(l->rv) > KUBE_RV_MAX)
			abort();
		if (l->record != NULL && record_parse(l->record, &r, &why) == 0)
			record_clear(&r);
		if (l->lock != NULL && lock_queue_in_line(l->lock, l, 1700000000))
			v[n++] = &ls.v[i];
	}
	for (i = 0; i < n; i++)
		if (lock_queue_cmp(&v[i], &v[i]) != 0)
			abort();
	qsort(v, n, sizeof(*v), lock_queue_cmp);
	for (i = 0; i + 1 < n; i++)
		if (lock_queue_cmp(&v[i], &v[i + 1]) > 0 || lock_queue_cmp(&v[i + 1], &v[i]) < 0)
			abort();
	free(v);
	kube_leases_clear(&ls);
	return 0;
}
