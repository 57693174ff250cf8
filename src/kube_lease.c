/* kube_lease.c: the waiters' Leases (see kube.h); requests go through kube.c's path. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "kube.h"
#include "kube_int.h"
#include "log.h"
#include "text.h"
#include "timefmt.h"

#define LEASE_API		"/apis/coordination.k8s.io/v1"
#define LEASE_ANN_LOCK		"carrier-lock.io/lock"
#define LEASE_ANN_RECORD	"carrier-lock.io/record"
#define LEASE_ANN_TICKET	"carrier-lock.io/ticket"
#define LEASE_NAME_MAX		253

void
kube_lease_clear(struct kube_lease *l)
{
	free(l->ns);
	free(l->name);
	free(l->rv);
	free(l->lock);
	free(l->record);
	memset(l, 0, sizeof(*l));
}

void
kube_leases_clear(struct kube_leases *ls)
{
	size_t	i;

	for (i = 0; i < ls->n; i++)
		kube_lease_clear(&ls->v[i]);
	free(ls->v);
	memset(ls, 0, sizeof(*ls));
}

/* An optional string annotation; -1 when present but not a string. */
static int
ann_str(const struct json *j, int ann, const char *key, char **out)
{
	int	v = json_get(j, ann, key);

	*out = NULL;
	if (v < 0)
		return 0;
	return (*out = json_str(j, v)) == NULL ? -1 : 0;
}

/* Reads Lease object obj of j into l; -1 (logged) when it is not one we can use. */
static int
lease_from_json(const char *url, const char *what, const struct json *j, int obj,
    struct kube_lease *l)
{
	int		 meta = json_get(j, obj, "metadata"), ann, v;
	char		*ticket = NULL;
	const char	*s;
	size_t		 len;
	uint64_t	 n;

	memset(l, 0, sizeof(*l));
	l->name = json_str(j, json_get(j, meta, "name"));
	l->rv = json_str(j, json_get(j, meta, "resourceVersion"));
	l->ns = json_str(j, json_get(j, meta, "namespace"));
	if (l->name == NULL || l->name[0] == '\0' || strlen(l->name) > LEASE_NAME_MAX ||
	    l->rv == NULL || l->rv[0] == '\0' || strlen(l->rv) > KUBE_RV_MAX || l->ns == NULL) {
		log_error("%s: %s: a Lease in the reply has no metadata.name, namespace or "
		    "resourceVersion of the allowed length", url, what);
		goto bad;
	}
	ann = json_get(j, meta, "annotations");
	if (ann_str(j, ann, LEASE_ANN_LOCK, &l->lock) != 0 ||
	    ann_str(j, ann, LEASE_ANN_RECORD, &l->record) != 0 ||
	    ann_str(j, ann, LEASE_ANN_TICKET, &ticket) != 0) {
		log_error("%s: %s: an annotation of lease %s is not a string", url, what,
		    l->name);
		goto bad;
	}
	/* A ticket that is not a number is no ticket: the Lease is not in the queue. */
	if (ticket != NULL && text_u64(ticket, strlen(ticket), UINT64_MAX, &n) == 0)
		l->ticket = n;
	else if (ticket == NULL && text_u64(l->rv, strlen(l->rv), UINT64_MAX, &n) == 0)
		l->ticket = n;
	free(ticket);
	v = json_get(j, json_get(j, obj, "spec"), "leaseDurationSeconds");
	if (v >= 0 && json_uint(j, v, &n) == 0 && n <= INT32_MAX)
		l->duration_s = (int64_t)n;
	l->written = kube_last_written(j, meta);
	v = json_get(j, meta, "creationTimestamp");
	if (json_type(j, v) == JSON_STRING) {
		s = json_raw(j, v, &len);
		if (timefmt_rfc3339(s, len, &l->created) != 0)
			l->created = 0;
	}
	return 0;
bad:
	free(ticket);
	kube_lease_clear(l);
	return -1;
}

/* MicroTime, as Lease times are written: "2026-12-01T20:57:16.123456Z". */
static void
micro_now(char *buf, size_t bufsz)
{
	struct timespec	ts;
	struct tm	tm;

	/* snprintf, not strftime: strftime brings musl's time-zone code (6 KiB). */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long)(ts.tv_nsec / 1000) % 1000000);
}

/* The Lease body for create (l->name NULL: generateName prefix) or renew. */
static char *
lease_body(const char *ns, const char *prefix, const struct kube_lease *l,
    const char *label, const char *lock, const char *record, int64_t duration_s,
    const char *holder, size_t *len)
{
	struct jbuf	b = { 0 };
	char		num[32], now[64];

	micro_now(now, sizeof(now));
	jbuf_cstr(&b, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\","
	    "\"metadata\":{");
	if (l != NULL && l->name != NULL) {
		jbuf_cstr(&b, "\"name\":");
		jbuf_quotez(&b, l->name);
		jbuf_cstr(&b, ",\"resourceVersion\":");
		jbuf_quotez(&b, l->rv);
	} else {
		jbuf_cstr(&b, "\"generateName\":");
		jbuf_quotez(&b, prefix);
	}
	jbuf_cstr(&b, ",\"namespace\":");
	jbuf_quotez(&b, ns);
	jbuf_cstr(&b, ",\"labels\":{\"" KUBE_LEASE_LABEL "\":");
	jbuf_quotez(&b, label);
	jbuf_cstr(&b, "},\"annotations\":{\"" LEASE_ANN_LOCK "\":");
	jbuf_quotez(&b, lock);
	jbuf_cstr(&b, ",\"" LEASE_ANN_RECORD "\":");
	jbuf_quotez(&b, record);
	if (l != NULL && l->ticket > 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)l->ticket);
		jbuf_cstr(&b, ",\"" LEASE_ANN_TICKET "\":");
		jbuf_quotez(&b, num);
	}
	jbuf_cstr(&b, "}},\"spec\":{\"holderIdentity\":");
	jbuf_quotez(&b, holder);
	snprintf(num, sizeof(num), "%lld", (long long)duration_s);
	jbuf_cstr(&b, ",\"leaseDurationSeconds\":");
	jbuf_cstr(&b, num);
	jbuf_cstr(&b, ",\"renewTime\":");
	jbuf_quotez(&b, now);
	jbuf_cstr(&b, "}}");
	return jbuf_done(&b, len);
}

/* Sends a Lease body (create or renew) and reads the Lease written into *out. */
static enum kube_rc
lease_write(struct kube *kb, const char *method, const char *path, const char *what,
    char *body, size_t len, struct kube_lease *out)
{
	struct httpc_reply	 r;
	struct json		*j;
	const char		*err;
	enum kube_rc		 rc;

	if (body == NULL) {
		log_error("out of memory");
		return KUBE_ERR;
	}
	rc = kube_call(kb, method, path, body, len, what, &r);
	free(body);
	if (rc == KUBE_OK) {
		if ((j = json_parse(r.body, r.len, &err)) == NULL) {
			log_error("%s: %s: reply is not JSON: %s", kube_url(kb), what, err);
			rc = KUBE_ERR;
		} else {
			if (lease_from_json(kube_url(kb), what, j, 0, out) != 0)
				rc = KUBE_ERR;
			json_free(j);
		}
	} else if (rc == KUBE_NOT_FOUND && strcmp(method, "POST") == 0) {
		log_error("%s: %s: 404 Not Found (no such namespace?)", kube_url(kb), what);
		rc = KUBE_ERR;
	}
	free(r.body);
	return rc;
}

enum kube_rc
kube_lease_create(struct kube *kb, const char *ns, const char *prefix, const char *label,
    const char *lock, const char *record, int64_t duration_s, const char *holder,
    struct kube_lease *out)
{
	char	path[512], what[512];
	size_t	len = 0;
	char	*body = lease_body(ns, prefix, NULL, label, lock, record, duration_s, holder,
	    &len);

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), LEASE_API "/namespaces/%s/leases", ns);
	snprintf(what, sizeof(what), "create leases/%s... in namespace %s", prefix, ns);
	return lease_write(kb, "POST", path, what, body, len, out);
}

enum kube_rc
kube_lease_renew(struct kube *kb, const char *label, const char *holder,
    struct kube_lease *l)
{
	struct kube_lease	now;
	char			path[640], what[640];
	size_t			len = 0;
	char			*body = lease_body(l->ns, NULL, l, label, l->lock, l->record,
				    l->duration_s, holder, &len);
	enum kube_rc		rc;

	snprintf(path, sizeof(path), LEASE_API "/namespaces/%s/leases/%s", l->ns, l->name);
	snprintf(what, sizeof(what), "update leases/%s in namespace %s", l->name, l->ns);
	if ((rc = lease_write(kb, "PUT", path, what, body, len, &now)) != KUBE_OK)
		return rc;
	free(l->rv);
	l->rv = now.rv;
	now.rv = NULL;
	l->written = now.written;
	kube_lease_clear(&now);
	return KUBE_OK;
}

int
kube_leases_parse(const char *url, const char *what, const char *body, size_t len,
    struct kube_leases *out)
{
	struct json	*j;
	const char	*err;
	int		 items, e, rc = -1;
	size_t		 n, i;

	memset(out, 0, sizeof(*out));
	if ((j = json_parse(body, len, &err)) == NULL) {
		log_error("%s: %s: reply is not JSON: %s", url, what, err);
		return -1;
	}
	items = json_get(j, 0, "items");
	if (json_type(j, items) != JSON_ARRAY) {
		log_error("%s: %s: reply is not a list", url, what);
		goto done;
	}
	n = (size_t)json_size(j, items);
	if (n > KUBE_LEASE_MAX) {
		log_error("%s: %s: more than %d Leases", url, what, KUBE_LEASE_MAX);
		goto done;
	}
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL) {
		log_error("out of memory");
		goto done;
	}
	for (i = 0, e = json_first(j, items); i < n; i++, e = json_next(j, e)) {
		if (lease_from_json(url, what, j, e, &out->v[i]) != 0) {
			kube_leases_clear(out);
			goto done;
		}
		out->n = i + 1;
	}
	rc = 0;
done:
	json_free(j);
	return rc;
}

enum kube_rc
kube_lease_list(struct kube *kb, const char *ns, const char *label, int cached,
    struct kube_leases *out)
{
	struct httpc_reply	 r;
	char			 path[768], what[640];
	enum kube_rc		 rc;

	memset(out, 0, sizeof(*out));
	if (ns != NULL)
		snprintf(path, sizeof(path), LEASE_API "/namespaces/%s/leases?labelSelector="
		    "carrier-lock.io%%2Flock%s%s%s", ns, label != NULL ? "%3D" : "",
		    label != NULL ? label : "", cached ? "&resourceVersion=0" : "");
	else
		snprintf(path, sizeof(path), LEASE_API "/leases?labelSelector="
		    "carrier-lock.io%%2Flock%s%s%s", label != NULL ? "%3D" : "",
		    label != NULL ? label : "", cached ? "&resourceVersion=0" : "");
	snprintf(what, sizeof(what), "list leases%s%s in %s%s", label != NULL ? " of lock " : "",
	    label != NULL ? label : "", ns != NULL ? "namespace " : "all namespaces",
	    ns != NULL ? ns : "");
	if ((rc = kube_call(kb, "GET", path, NULL, 0, what, &r)) == KUBE_OK) {
		if (kube_leases_parse(kube_url(kb), what, r.body, r.len, out) != 0)
			rc = KUBE_ERR;
		else
			out->server_now = r.date;
	}
	free(r.body);
	return rc;
}

enum kube_rc
kube_lease_delete(struct kube *kb, const char *ns, const char *name, const char *rv)
{
	struct httpc_reply	 r;
	struct jbuf		 b = { 0 };
	char			 path[640], what[640], *body;
	size_t			 len = 0;
	enum kube_rc		 rc;

	snprintf(path, sizeof(path), LEASE_API "/namespaces/%s/leases/%s", ns, name);
	snprintf(what, sizeof(what), "delete leases/%s in namespace %s", name, ns);
	jbuf_cstr(&b, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\"");
	if (rv != NULL) {
		jbuf_cstr(&b, ",\"preconditions\":{\"resourceVersion\":");
		jbuf_quotez(&b, rv);
		jbuf_cstr(&b, "}");
	}
	jbuf_cstr(&b, "}");
	if ((body = jbuf_done(&b, &len)) == NULL) {
		log_error("out of memory");
		return KUBE_ERR;
	}
	rc = kube_call(kb, "DELETE", path, body, len, what, &r);
	free(body);
	free(r.body);
	return rc;
}
