/*
 * kube_int.h: what kube.c shares with the other API calls of the kube module
 * (kube_lease.c), so that they go the same way: one request path, one mapping of
 * statuses to outcomes (logged as kube.h says), one reading of the server's time stamps.
 */
#ifndef CL_KUBE_INT_H
#define CL_KUBE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "httpc.h"
#include "kube.h"

struct json;

/*
 * Sends one request on the kept-alive connection (body may be NULL) with the current
 * credentials (a 401 to renewable ones is sent once more, as every call) and maps the reply
 * as kube.h says (failures logged with "what"). r is filled when a reply came (any
 * status); free r->body after. KUBE_INTR/KUBE_UNAVAILABLE/KUBE_ERR on transport failure.
 */
enum kube_rc	 kube_call(struct kube *, const char *method, const char *path,
		    const char *body, size_t len, const char *what, struct httpc_reply *r);
/* The server's URL, for messages. */
const char	*kube_url(const struct kube *);
/* The newest metadata.managedFields[].time of object metadata meta (epoch s), 0 unknown. */
int64_t		 kube_last_written(const struct json *, int meta);

/*
 * Parses a LeaseList body (at most KUBE_LEASE_MAX items) into *out (clear it after);
 * 0, or -1 with the error logged ("url: what: ..."). Pure: the fuzz target calls it.
 */
int		 kube_leases_parse(const char *url, const char *what, const char *body,
		    size_t len, struct kube_leases *out);

#endif
