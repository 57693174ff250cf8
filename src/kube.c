/*
 * kube.c: see kube.h. Also owns who we are on the connections: before each request
 * and watch it asks cred.c for the credentials to send, renews the bearer and, when the
 * client certificate changed, the TLS context; a 401 to renewable credentials is asked
 * again once, and a watch ends by the time they are due.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cred.h"
#include "httpc.h"
#include "json.h"
#include "kcfg.h"
#include "kube.h"
#include "kube_int.h"
#include "log.h"
#include "proxy.h"
#include "timefmt.h"
#include "tls.h"

#define KUBE_WATCH_MAX_S	900	/* longest watch we ask for; the server may end it sooner
					   (bookmarks, a minute apart, keep proxies from
					   taking it for idle) */
#define KUBE_MSG_MAX		512	/* how much of a server message we print */
#define KUBE_DEFAULT_TIMEOUT_MS	30000	/* httpc's, for a credential source's run */

struct kube {
	struct httpc	*api;		/* the kept-alive connection for reads and writes */
	struct httpc	*watch;		/* a second one, held open by watches */
	const struct kcfg *k;
	struct cred	*cred;
	struct tls_ctx	*tls;		/* https: built from k's CA and cred's certificate */
	int64_t		 timeout_ms, limit;
	char		 url[600];
	char		 watch_what[512];
	char		 watch_path[768];	/* the open watch's, up to "&resourceVersion=" */
	char		 watch_rv[KUBE_RV_MAX + 1];	/* newest version it showed, or "" */
	int64_t		 watch_until, watch_opened;
	int		 watch_initial;	/* asked for the current state first, its end not seen */
	int		 watch_seen;	/* that state showed the ConfigMap */
	int		 initial_refused;	/* the server refused to send that state */
	unsigned	 retry_after;
};
_Static_assert(sizeof(((struct kube *)0)->url) > KCFG_MAX_SERVER, "a server URL fits url");

/*
 * Sends the current credentials on both connections: the bearer when it changed, and a
 * new TLS context when there is none yet or the client certificate changed (the kept-alive
 * connections, made with the old one, are dropped). rejected: the server answered 401.
 * Returns KUBE_OK, KUBE_INTR, or KUBE_ERR (logged).
 */
static enum kube_rc
kube_creds(struct kube *kb, int rejected)
{
	const struct cred_value	*v;
	struct tls_ctx		*tls;
	int64_t			 deadline = clock_deadline(kb->timeout_ms);
	int			 changed;

	if (kb->limit < deadline)
		deadline = kb->limit;
	if (cred_current(kb->cred, deadline, rejected, &v, &changed) != 0)
		return errno == EINTR ? KUBE_INTR : KUBE_ERR;
	if ((changed & CRED_CHANGED_TOKEN) && (httpc_set_bearer(kb->api, v->token) != 0 ||
	    httpc_set_bearer(kb->watch, v->token) != 0))
		return KUBE_ERR;
	if (strcmp(kb->k->scheme, "https") == 0 &&
	    (kb->tls == NULL || (changed & CRED_CHANGED_CERT))) {
		struct tls_config tc = {
			.ca_pem = kb->k->ca, .ca_pem_len = kb->k->ca_len,
			.cert_pem = v->cert, .cert_pem_len = v->cert_len,
			.key_pem = v->key, .key_pem_len = v->key_len,
			.insecure = kb->k->insecure, .where = v->where,
			.ca_where = kb->k->ca_where,
			.cert_where = v->cert_where ? v->cert_where : v->where,
			.key_where = v->key_where ? v->key_where : v->where,
		};
		if ((tls = tls_ctx_new(&tc)) == NULL)
			return KUBE_ERR;
		httpc_set_tls(kb->api, tls);
		httpc_set_tls(kb->watch, tls);
		tls_ctx_free(kb->tls);
		kb->tls = tls;
	}
	return KUBE_OK;
}

static enum kube_rc transport_failed(void);

/*
 * One request with the current credentials; a 401 to renewable ones is sent once more
 * with new ones. Returns KUBE_OK with r filled (any status), or the transport's or the
 * credentials' failure (logged).
 */
static enum kube_rc
kube_do(struct kube *kb, const char *method, const char *path, const char *body,
    size_t len, struct httpc_reply *r)
{
	enum kube_rc	rc;

	if ((rc = kube_creds(kb, 0)) != KUBE_OK)
		return rc;
	if (httpc_do(kb->api, method, path, body, len, r) != 0)
		return transport_failed();
	if (r->status != 401 || !cred_renewable(kb->cred))
		return KUBE_OK;
	log_verbose("%s: %s %s: 401; obtaining new credentials", kb->url, method, path);
	free(r->body);
	memset(r, 0, sizeof(*r));
	if ((rc = kube_creds(kb, 1)) != KUBE_OK)
		return rc;
	if (httpc_do(kb->api, method, path, body, len, r) != 0)
		return transport_failed();
	return KUBE_OK;
}

struct kube *
kube_new(const struct kcfg *k, int64_t timeout_ms)
{
	struct httpc_target	 t;
	struct kube		*kb;
	struct proxy		*px = NULL;

	if ((kb = calloc(1, sizeof(*kb))) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	kb->k = k;
	kb->timeout_ms = timeout_ms > 0 ? timeout_ms : KUBE_DEFAULT_TIMEOUT_MS;
	kb->limit = CLOCK_NEVER;
	snprintf(kb->url, sizeof(kb->url), "%s", k->server);
	memset(&t, 0, sizeof(t));
	t.url = kb->url;
	t.prefix = k->path;
	t.host = k->host;
	t.port = k->port;
	t.tls = strcmp(k->scheme, "https") == 0;
	t.tls_name = k->tls_server_name != NULL ? k->tls_server_name : k->host;
	t.timeout_ms = timeout_ms;
	if (proxy_select(k->proxy_url, k->scheme, k->host, k->port, &px) != 0) {
		kube_free(kb);
		return NULL;
	}
	t.proxy = px;
	if ((kb->api = httpc_new(&t)) == NULL || (kb->watch = httpc_new(&t)) == NULL ||
	    (kb->cred = cred_new(k)) == NULL) {
		log_error("out of memory");
		proxy_free(px);
		kube_free(kb);
		return NULL;
	}
	proxy_free(px);
	/* Static credentials at once: a bad certificate is reported before any request. */
	if (!cred_renewable(kb->cred) && kube_creds(kb, 0) != KUBE_OK) {
		kube_free(kb);
		return NULL;
	}
	return kb;
}

void
kube_free(struct kube *kb)
{
	if (kb == NULL)
		return;
	httpc_free(kb->api);
	httpc_free(kb->watch);
	tls_ctx_free(kb->tls);
	cred_free(kb->cred);
	free(kb);
}

void
kube_set_limit(struct kube *kb, int64_t limit)
{
	kb->limit = limit;
	httpc_set_limit(kb->api, limit);
	httpc_set_limit(kb->watch, limit);
}

unsigned
kube_retry_after(const struct kube *kb)
{
	return kb->retry_after;
}

void
kube_cm_clear(struct kube_cm *cm)
{
	free(cm->rv);
	free(cm->holder);
	free(cm->fence);
	free(cm->labels);
	free(cm->annotations);
	free(cm->list_rv);
	memset(cm, 0, sizeof(*cm));
}

/*
 * 1 when a 404's Status (kind, reason: its fields, NULL when absent) is the API's own
 * answer that the object (or its namespace) does not exist. A 404 of anything else (a
 * gateway's "404 page not found" for a wrong path prefix, a web server that is not an
 * API server) must not be read as "the lock is free".
 */
static int
status_not_found(const char *kind, const char *reason)
{
	return kind != NULL && reason != NULL && strcmp(kind, "Status") == 0 &&
	    strcmp(reason, "NotFound") == 0;
}

/* The body's Status fields (malloc'd, NULL when absent or not JSON). */
static void
status_fields(const struct httpc_reply *r, char **kind, char **reason, char **message)
{
	struct json	*j;
	const char	*err;

	*kind = *reason = NULL;
	if (message != NULL)
		*message = NULL;
	if ((j = json_parse(r->body, r->len, &err)) == NULL)
		return;
	*kind = json_str(j, json_get(j, 0, "kind"));
	*reason = json_str(j, json_get(j, 0, "reason"));
	if (message != NULL)
		*message = json_str(j, json_get(j, 0, "message"));
	json_free(j);
}

static int
is_not_found(const struct httpc_reply *r)
{
	char	*kind, *reason;
	int	 yes;

	status_fields(r, &kind, &reason, NULL);
	yes = status_not_found(kind, reason);
	free(kind);
	free(reason);
	return yes;
}

/*
 * Logs a failed reply: status, and the Status object's reason and message when the
 * body is one. "what" is e.g. "get configmaps/carrier-lock in namespace locks".
 */
static void
report_status(const struct kube *kb, const char *what, const struct httpc_reply *r)
{
	char		*kind, *reason, *message;
	char		 rs[128], ms[KUBE_MSG_MAX];
	char		 hint[320] = "";

	status_fields(r, &kind, &reason, &message);
	if (r->status == 404 && !status_not_found(kind, reason))
		snprintf(hint, sizeof(hint), " (not the API's answer for a missing object: is "
		    "the server URL right, path included?)");
	else if (r->status == 401 && !cred_renewable(kb->cred))
		snprintf(hint, sizeof(hint), " (the server did not accept the credentials of "
		    "the kubeconfig's user)");
	else if (r->status == 401)
		snprintf(hint, sizeof(hint), " (the server did not accept the credentials from "
		    "%s, also when obtained again)", cred_where(kb->cred));

	if (message != NULL) {
		log_error("%s: %s: %d %s: %s%s", kb->url, what, r->status,
		    log_sanitize(rs, sizeof(rs), reason ? reason : "", reason ? strlen(reason) : 0),
		    log_sanitize(ms, sizeof(ms), message, strlen(message)), hint);
	} else {
		log_error("%s: %s: HTTP %d: %s%s", kb->url, what, r->status,
		    log_sanitize(ms, sizeof(ms), r->body, r->len > 200 ? 200 : r->len), hint);
	}
	free(kind);
	free(reason);
	free(message);
}

/* Maps a reply status to an outcome, logging the failures. */
static enum kube_rc
classify(struct kube *kb, const char *what, const struct httpc_reply *r)
{
	kb->retry_after = r->retry_after;
	if (r->status >= 200 && r->status < 300)
		return KUBE_OK;
	if (r->status == 404 && is_not_found(r))
		return KUBE_NOT_FOUND;
	if (r->status == 409)
		return KUBE_CONFLICT;
	report_status(kb, what, r);
	if (r->status == 429 || r->status >= 500)
		return KUBE_UNAVAILABLE;
	return KUBE_ERR;
}

/*
 * A failed exchange: interrupted, permanent (EPROTO: TLS verification or protocol
 * failure, which a retry cannot cure) or worth retrying (refused, reset, timed out).
 */
static enum kube_rc
transport_failed(void)
{
	if (errno == EINTR)
		return KUBE_INTR;
	return errno == EPROTO ? KUBE_ERR : KUBE_UNAVAILABLE;
}

/* Copies the raw JSON of value i into a new string, or NULL when i is absent. */
static char *
raw_dup(const struct json *j, int i)
{
	struct jbuf	b = { 0 };

	if (i < 0)
		return NULL;
	json_compact(j, i, &b);
	return jbuf_done(&b, NULL);
}

/*
 * The newest time in managedFields (the server stamps an entry each time its manager
 * changes a field), or 0 when there is none or one is not a time.
 */
static int64_t
last_written(const struct json *j, int meta)
{
	int		mf = json_get(j, meta, "managedFields"), e, n;
	int64_t		newest = 0, t;
	size_t		len;
	const char	*s;

	if (json_type(j, mf) != JSON_ARRAY)
		return 0;
	for (n = json_size(j, mf), e = json_first(j, mf); n > 0; n--, e = json_next(j, e)) {
		int v = json_get(j, e, "time");
		if (json_type(j, v) != JSON_STRING)
			continue;
		s = json_raw(j, v, &len);
		if (timefmt_rfc3339(s, len, &t) != 0)
			return 0;
		if (t > newest)
			newest = t;
	}
	return newest;
}

/* Reads ConfigMap object obj of j into cm; -1 (logged) when it is not one. */
static int
cm_from_json(const struct kube *kb, const char *what, const struct json *j, int obj,
    struct kube_cm *cm)
{
	int	meta = json_get(j, obj, "metadata"), data = json_get(j, obj, "data"), v;

	cm->rv = json_str(j, json_get(j, meta, "resourceVersion"));
	if (cm->rv == NULL || cm->rv[0] == '\0' || strlen(cm->rv) > KUBE_RV_MAX) {
		log_error("%s: %s: reply has no metadata.resourceVersion of 1 to %d bytes",
		    kb->url, what, KUBE_RV_MAX);
		return -1;
	}
	if ((v = json_get(j, data, KUBE_KEY_HOLDER)) >= 0 && (cm->holder = json_str(j, v)) == NULL)
		goto bad;
	if ((v = json_get(j, data, KUBE_KEY_FENCE)) >= 0 && (cm->fence = json_str(j, v)) == NULL)
		goto bad;
	cm->written = last_written(j, meta);
	cm->labels = raw_dup(j, json_get(j, meta, "labels"));
	cm->annotations = raw_dup(j, json_get(j, meta, "annotations"));
	return 0;
bad:
	log_error("%s: %s: a data value of the ConfigMap is not a string", kb->url, what);
	return -1;
}

/* Reads a ConfigMap reply body into cm; -1 (logged) when it is not one. */
static int
parse_cm(const struct kube *kb, const char *what, const struct httpc_reply *r,
    struct kube_cm *cm)
{
	struct json	*j;
	const char	*err;
	int		 rc;

	if ((j = json_parse(r->body, r->len, &err)) == NULL) {
		log_error("%s: %s: reply is not JSON: %s", kb->url, what, err);
		return -1;
	}
	rc = cm_from_json(kb, what, j, 0, cm);
	json_free(j);
	return rc;
}

enum kube_rc
kube_cm_get(struct kube *kb, const char *ns, const char *name, struct kube_cm *cm)
{
	struct httpc_reply	r = { 0 };
	char			path[512], what[512];
	enum kube_rc		rc;

	memset(cm, 0, sizeof(*cm));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s", ns, name);
	snprintf(what, sizeof(what), "get configmaps/%s in namespace %s", name, ns);
	if ((rc = kube_do(kb, "GET", path, NULL, 0, &r)) != KUBE_OK)
		return rc;
	if ((rc = classify(kb, what, &r)) == KUBE_OK && parse_cm(kb, what, &r, cm) != 0) {
		kube_cm_clear(cm);
		rc = KUBE_ERR;
	}
	cm->server_now = r.date;
	free(r.body);
	return rc;
}

enum kube_rc
kube_cm_list(struct kube *kb, const char *ns, const char *name, struct kube_cm *cm)
{
	struct httpc_reply	 r = { 0 };
	struct json		*j = NULL;
	const char		*err;
	char			 path[640], what[512], *list_rv = NULL;
	enum kube_rc		 rc;
	int			 items;

	memset(cm, 0, sizeof(*cm));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps?fieldSelector="
	    "metadata.name%%3D%s", ns, name);
	snprintf(what, sizeof(what), "list configmaps/%s in namespace %s", name, ns);
	if ((rc = kube_do(kb, "GET", path, NULL, 0, &r)) != KUBE_OK)
		return rc;
	if ((rc = classify(kb, what, &r)) != KUBE_OK)
		goto done;
	rc = KUBE_ERR;
	if ((j = json_parse(r.body, r.len, &err)) == NULL) {
		log_error("%s: %s: reply is not JSON: %s", kb->url, what, err);
		goto done;
	}
	list_rv = json_str(j, json_get(j, json_get(j, 0, "metadata"), "resourceVersion"));
	items = json_get(j, 0, "items");
	if (list_rv == NULL || list_rv[0] == '\0' || strlen(list_rv) > KUBE_RV_MAX) {
		log_error("%s: %s: reply has no metadata.resourceVersion of 1 to %d bytes",
		    kb->url, what, KUBE_RV_MAX);
		goto done;
	}
	if (json_type(j, items) != JSON_ARRAY || json_size(j, items) > 1) {
		log_error("%s: %s: reply is not a list of at most one ConfigMap", kb->url, what);
		goto done;
	}
	if (json_size(j, items) == 0)
		rc = KUBE_NOT_FOUND;
	else if (cm_from_json(kb, what, j, json_first(j, items), cm) == 0)
		rc = KUBE_OK;
	else
		kube_cm_clear(cm);
	if (rc != KUBE_ERR) {
		cm->list_rv = list_rv;
		cm->server_now = r.date;
		list_rv = NULL;
	}
done:
	free(list_rv);
	json_free(j);
	free(r.body);
	return rc;
}

void
kube_cms_clear(struct kube_cms *cs)
{
	size_t	i;

	for (i = 0; i < cs->n; i++) {
		free(cs->v[i].ns);
		free(cs->v[i].name);
		kube_cm_clear(&cs->v[i].cm);
	}
	free(cs->v);
	memset(cs, 0, sizeof(*cs));
}

enum kube_rc
kube_cm_list_all(struct kube *kb, const char *ns, struct kube_cms *out)
{
	struct httpc_reply	 r = { 0 };
	struct json		*j = NULL;
	const char		*err;
	char			 path[512], what[512];
	enum kube_rc		 rc;
	int			 items, e;
	size_t			 n, i;

	memset(out, 0, sizeof(*out));
	if (ns != NULL) {
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps", ns);
		snprintf(what, sizeof(what), "list configmaps in namespace %s", ns);
	} else {
		snprintf(path, sizeof(path), "/api/v1/configmaps");
		snprintf(what, sizeof(what), "list configmaps in all namespaces");
	}
	if ((rc = kube_do(kb, "GET", path, NULL, 0, &r)) != KUBE_OK)
		return rc;
	if ((rc = classify(kb, what, &r)) != KUBE_OK)
		goto done;
	rc = KUBE_ERR;
	if ((j = json_parse(r.body, r.len, &err)) == NULL) {
		log_error("%s: %s: reply is not JSON: %s", kb->url, what, err);
		goto done;
	}
	items = json_get(j, 0, "items");
	if (json_type(j, items) != JSON_ARRAY || (n = (size_t)json_size(j, items)) >
	    KUBE_CM_LIST_MAX) {
		log_error("%s: %s: reply is not a list of at most %d ConfigMaps", kb->url, what,
		    KUBE_CM_LIST_MAX);
		goto done;
	}
	if (n > 0 && (out->v = calloc(n, sizeof(*out->v))) == NULL) {
		log_error("out of memory");
		goto done;
	}
	for (i = 0, e = json_first(j, items); i < n; i++, e = json_next(j, e)) {
		int meta = json_get(j, e, "metadata");

		out->n = i + 1;
		out->v[i].ns = json_str(j, json_get(j, meta, "namespace"));
		out->v[i].name = json_str(j, json_get(j, meta, "name"));
		if (out->v[i].ns == NULL || out->v[i].name == NULL) {
			log_error("%s: %s: a ConfigMap in the reply has no name or namespace",
			    kb->url, what);
			kube_cms_clear(out);
			goto done;
		}
		if (cm_from_json(kb, what, j, e, &out->v[i].cm) != 0) {
			kube_cms_clear(out);
			goto done;
		}
	}
	out->server_now = r.date;
	rc = KUBE_OK;
done:
	json_free(j);
	free(r.body);
	return rc;
}

/* Builds the ConfigMap body for create (old NULL) or update. NULL on out of memory. */
static char *
cm_body(const char *ns, const char *name, const struct kube_cm *old,
    const char *holder, const char *fence, size_t *len)
{
	struct jbuf	b = { 0 };

	jbuf_cstr(&b, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":");
	jbuf_quotez(&b, name);
	jbuf_cstr(&b, ",\"namespace\":");
	jbuf_quotez(&b, ns);
	if (old != NULL) {
		jbuf_cstr(&b, ",\"resourceVersion\":");
		jbuf_quotez(&b, old->rv);
		if (old->labels != NULL) {
			jbuf_cstr(&b, ",\"labels\":");
			jbuf_cstr(&b, old->labels);
		}
		if (old->annotations != NULL) {
			jbuf_cstr(&b, ",\"annotations\":");
			jbuf_cstr(&b, old->annotations);
		}
	}
	jbuf_cstr(&b, "},\"data\":{\"" KUBE_KEY_FENCE "\":");
	jbuf_quotez(&b, fence);
	if (holder != NULL) {
		jbuf_cstr(&b, ",\"" KUBE_KEY_HOLDER "\":");
		jbuf_quotez(&b, holder);
	}
	jbuf_cstr(&b, "}}");
	return jbuf_done(&b, len);
}

static enum kube_rc
cm_write(struct kube *kb, const char *method, const char *path, const char *what,
    char *body, size_t len, struct kube_cm *now)
{
	struct httpc_reply	r = { 0 };
	enum kube_rc		rc;

	if (body == NULL) {
		log_error("out of memory");
		return KUBE_ERR;
	}
	if ((rc = kube_do(kb, method, path, body, len, &r)) != KUBE_OK) {
		free(body);
		return rc;
	}
	free(body);
	rc = classify(kb, what, &r);
	if (rc == KUBE_NOT_FOUND && strcmp(method, "POST") == 0) {
		/* A create finds no collection: the namespace does not exist. */
		report_status(kb, what, &r);
		rc = KUBE_ERR;
	}
	if (rc == KUBE_OK && now != NULL && parse_cm(kb, what, &r, now) != 0)
		kube_cm_clear(now);	/* written all the same; now says nothing */
	free(r.body);
	return rc;
}

enum kube_rc
kube_cm_create(struct kube *kb, const char *ns, const char *name,
    const char *holder, const char *fence, struct kube_cm *now)
{
	char	path[512], what[512];
	size_t	len = 0;
	char	*body = cm_body(ns, name, NULL, holder, fence, &len);

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps", ns);
	snprintf(what, sizeof(what), "create configmaps/%s in namespace %s", name, ns);
	if (now != NULL)
		memset(now, 0, sizeof(*now));
	return cm_write(kb, "POST", path, what, body, len, now);
}

enum kube_rc
kube_cm_update(struct kube *kb, const char *ns, const char *name,
    const struct kube_cm *old, const char *holder, const char *fence, struct kube_cm *now)
{
	char	path[512], what[512];
	size_t	len = 0;
	char	*body = cm_body(ns, name, old, holder, fence, &len);

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/configmaps/%s", ns, name);
	snprintf(what, sizeof(what), "update configmaps/%s in namespace %s", name, ns);
	if (now != NULL)
		memset(now, 0, sizeof(*now));
	return cm_write(kb, "PUT", path, what, body, len, now);
}

/* Keeps rv (NULL or empty: kept as it was) as where a resumed watch starts. */
static void
watch_note_rv(struct kube *kb, const char *rv)
{
	if (rv != NULL && rv[0] != '\0' && strlen(rv) <= KUBE_RV_MAX)
		memmove(kb->watch_rv, rv, strlen(rv) + 1);
}

/* Whether a bookmark's metadata (meta) marks the end of the state a watch began with. */
static int
initial_events_end(const struct json *j, int meta)
{
	char	*v = json_str(j, json_get(j, json_get(j, meta, "annotations"),
		    "k8s.io/initial-events-end"));
	int	 end = v != NULL && strcmp(v, "true") == 0;

	free(v);
	return end;
}

/*
 * Reads one watch event line. ADDED/MODIFIED fill cm from the event's object (the caller
 * clears it); BOOKMARK is KUBE_WATCH_DEADLINE (nothing happened); DELETED, ERROR (usually
 * 410 Gone: our resourceVersion is too old) and anything unreadable end the watch.
 */
static enum kube_watch_rc
watch_event(struct kube *kb, const char *what, const char *line, size_t len,
    struct kube_cm *cm)
{
	struct json		*j;
	const char		*err;
	char			*type;
	enum kube_watch_rc	 rc = KUBE_WATCH_RESTART;
	char			*rv;

	if ((j = json_parse(line, len, &err)) == NULL) {
		log_error("%s: %s: watch event is not JSON: %s", kb->url, what, err);
		return KUBE_WATCH_RESTART;
	}
	type = json_str(j, json_get(j, 0, "type"));
	log_verbose("%s: %s: event %s", kb->url, what, type ? type : "(none)");
	if (type != NULL && strcmp(type, "BOOKMARK") == 0) {
		int	meta = json_get(j, json_get(j, 0, "object"), "metadata");

		rc = KUBE_WATCH_DEADLINE;
		rv = json_str(j, json_get(j, meta, "resourceVersion"));
		watch_note_rv(kb, rv);
		free(rv);
		if (kb->watch_initial && initial_events_end(j, meta)) {
			kb->watch_initial = 0;
			if (!kb->watch_seen) {
				log_verbose("%s: %s: the ConfigMap is gone", kb->url, what);
				rc = KUBE_WATCH_RESTART;	/* deleted: read it again */
			}
		}
	} else if (type != NULL && (strcmp(type, "ADDED") == 0 ||
	    strcmp(type, "MODIFIED") == 0)) {
		if (cm_from_json(kb, what, j, json_get(j, 0, "object"), cm) == 0) {
			rc = KUBE_WATCH_CHANGED;
			kb->watch_seen = 1;
			watch_note_rv(kb, cm->rv);
		} else
			kube_cm_clear(cm);
	}
	free(type);
	json_free(j);
	return rc;
}

/*
 * Sends the watch request path on kb->watch; the reply's status and body in r (0 when it
 * was not sent). -1 on a transport failure or interruption (errno), else 0.
 */
static int
watch_request(struct kube *kb, const char *path, struct httpc_reply *r, enum kube_rc *c)
{
	int	attempt;

	for (attempt = 0;; attempt++) {
		if ((*c = kube_creds(kb, attempt)) != KUBE_OK)
			return -1;
		if (httpc_stream_open(kb->watch, path, r) != 0)
			return -1;
		if (r->status != 401 || attempt > 0 || !cred_renewable(kb->cred))
			return 0;
		log_verbose("%s: %s: 401; obtaining new credentials", kb->url, kb->watch_what);
		free(r->body);
		memset(r, 0, sizeof(*r));
		httpc_stream_close(kb->watch);
	}
}

/*
 * Whether a watch that asked for the current state first was refused for asking: a
 * server before WatchList (Kubernetes 1.27; on by default since 1.32) answers 422 (400
 * from some proxies), one without a watch cache may answer 500 or 501. Not 401, 403,
 * 404, 429 or 502 to 504: those say nothing of the parameters. Such a server is watched
 * from the version as before (a 410 then means a read).
 */
static int
refuses_initial_events(int status)
{
	return status >= 400 && status <= 501 && status != 401 && status != 403 &&
	    status != 404 && status != 429;
}

/* Opens the watch of kb->watch_path from version rv (kube_watch_open's results). */
static enum kube_watch_rc
watch_start(struct kube *kb, const char *rv)
{
	struct httpc_reply	 r = { 0 };
	char			 path[sizeof(kb->watch_path) + KUBE_RV_MAX + 96];
	int64_t			 left_s = clock_left(kb->watch_until) / 1000 + 1;
	enum kube_rc		 c = KUBE_OK;

	if (left_s > KUBE_WATCH_MAX_S)
		left_s = KUBE_WATCH_MAX_S;
	/* Until it shows a newer one, the version it starts from is where it is. */
	if (rv != kb->watch_rv) {
		kb->watch_rv[0] = '\0';
		watch_note_rv(kb, rv);
	}
	kb->watch_opened = clock_ms();
	for (;;) {
		snprintf(path, sizeof(path), "%s%s&timeoutSeconds=%lld%s", kb->watch_path, rv,
		    (long long)left_s, kb->watch_initial ?
		    "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan" : "");
		if (watch_request(kb, path, &r, &c) != 0) {
			if (c != KUBE_OK)
				return c == KUBE_INTR ? KUBE_WATCH_INTR : KUBE_WATCH_ERR;
			return errno == EINTR ? KUBE_WATCH_INTR : KUBE_WATCH_UNAVAILABLE;
		}
		if (!kb->watch_initial || !refuses_initial_events(r.status))
			break;
		log_verbose("%s: %s: %d to a watch that starts with the current state; "
		    "watching from version %s instead", kb->url, kb->watch_what, r.status, rv);
		kb->watch_initial = 0;
		kb->initial_refused = 1;
		free(r.body);
		memset(&r, 0, sizeof(r));
		httpc_stream_close(kb->watch);
	}
	if (r.status == 200) {
		free(r.body);
		return KUBE_WATCH_CHANGED;	/* open: the caller reads events next */
	}
	c = classify(kb, kb->watch_what, &r);
	free(r.body);
	httpc_stream_close(kb->watch);
	if (r.status == 410 || c == KUBE_NOT_FOUND || c == KUBE_CONFLICT)
		return KUBE_WATCH_RESTART;
	return c == KUBE_UNAVAILABLE ? KUBE_WATCH_UNAVAILABLE : KUBE_WATCH_ERR;
}

enum kube_watch_rc
kube_watch_open(struct kube *kb, const char *ns, const char *name, const char *rv,
    int from_object, int64_t until)
{
	snprintf(kb->watch_path, sizeof(kb->watch_path), "/api/v1/namespaces/%s/configmaps?"
	    "watch=1&fieldSelector=metadata.name%%3D%s&allowWatchBookmarks=true"
	    "&resourceVersion=", ns, name);
	snprintf(kb->watch_what, sizeof(kb->watch_what),
	    "watch configmaps/%s in namespace %s", name, ns);
	kb->watch_until = until;
	kb->watch_initial = from_object && !kb->initial_refused;
	kb->watch_seen = 0;
	return watch_start(kb, rv);
}

/*
 * After a watch ended cleanly (its time was up, or the credentials were due), opens it
 * again from the newest version it showed (an event's, or a bookmark's: the server sends
 * one a minute, well inside the 75 s its cache keeps; else the one it started from): no
 * change is missed, and no read of the lock is needed; a version too old for the server
 * is answered 410, and the caller reads the lock as before. Not for a watch that ended within a second (that must not
 * become a loop), showed no version, or was asked to end by now. KUBE_WATCH_CHANGED
 * when open again.
 */
static enum kube_watch_rc
watch_resume(struct kube *kb)
{
	if (kb->watch_rv[0] == '\0' || clock_ms() - kb->watch_opened < 1000 ||
	    clock_left(kb->watch_until) == 0)
		return KUBE_WATCH_RESTART;
	log_verbose("%s: %s: resuming it from version %s", kb->url, kb->watch_what,
	    kb->watch_rv);
	kb->watch_initial = 0;
	return watch_start(kb, kb->watch_rv);
}

enum kube_watch_rc
kube_watch_next(struct kube *kb, int64_t deadline, struct kube_cm *cm)
{
	enum kube_watch_rc	rc;
	int64_t			due = cred_due(kb->cred);

	memset(cm, 0, sizeof(*cm));
	for (;;) {
		char	*line;
		size_t	 len;
		enum httpc_line	n = httpc_stream_line(kb->watch, &line, &len,
		    due < deadline ? due : deadline);

		if (n == HTTPC_LINE) {
			if (len == 0)
				continue;
			rc = watch_event(kb, kb->watch_what, line, len, cm);
			if (rc == KUBE_WATCH_DEADLINE)
				continue;	/* a bookmark */
			if (rc == KUBE_WATCH_CHANGED)
				return rc;	/* the stream stays open */
			break;
		}
		if (n == HTTPC_LINE_DEADLINE && due < deadline) {
			/* The next watch opens with the credentials that replace these. */
			log_verbose("%s: %s: ending it as the credentials are due", kb->url,
			    kb->watch_what);
			rc = KUBE_WATCH_RESTART;
		} else if (n == HTTPC_LINE_DEADLINE)
			return KUBE_WATCH_DEADLINE;	/* the stream stays open */
		else if (n == HTTPC_LINE_END)
			rc = KUBE_WATCH_RESTART;
		else {
			rc = errno == EINTR ? KUBE_WATCH_INTR : KUBE_WATCH_UNAVAILABLE;
			break;
		}
		/* A clean end: go on where it ended, if we can. */
		httpc_stream_close(kb->watch);
		if ((rc = watch_resume(kb)) != KUBE_WATCH_CHANGED)
			return rc;
		due = cred_due(kb->cred);
	}
	httpc_stream_close(kb->watch);
	return rc;
}

void
kube_watch_close(struct kube *kb)
{
	httpc_stream_close(kb->watch);
}

/* For kube_lease.c (kube_int.h): the same request path, outcomes and time stamps. */
enum kube_rc
kube_call(struct kube *kb, const char *method, const char *path, const char *body,
    size_t len, const char *what, struct httpc_reply *r)
{
	enum kube_rc	rc;

	memset(r, 0, sizeof(*r));
	if ((rc = kube_do(kb, method, path, body, len, r)) != KUBE_OK)
		return rc;
	return classify(kb, what, r);
}

const char *
kube_url(const struct kube *kb)
{
	return kb->url;
}

int64_t
kube_last_written(const struct json *j, int meta)
{
	return last_written(j, meta);
}
