/*
 * oidc.c: see oidc.h. The refresh, as client-go's oidc plugin does it through
 * golang.org/x/oauth2: GET idp-issuer-url + /.well-known/openid-configuration for the
 * token_endpoint, then POST grant_type=refresh_token there. The client authenticates as
 * x/oauth2's AuthStyleAutoDetect ends up doing: HTTP Basic with the URL-escaped
 * client-id and client-secret first (RFC 6749 2.3.1, which every issuer must take), and
 * when that is refused, once more with both in the form (client_secret_post).
 *
 * The issuer is trusted with idp-certificate-authority(-data) only: carrier-lock has no
 * system trust store (it runs from an empty root), where kubectl would fall back to the
 * system's, so an https issuer without one is a clear error naming the key to set.
 *
 * Each failure is one line naming the issuer and what it did; its bytes are sanitised,
 * and no token, refresh token or secret is ever printed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "cred.h"
#include "httpc.h"
#include "kcfg.h"
#include "kcfg_write.h"
#include "log.h"
#include "oidc.h"
#include "tls.h"

#define OIDC_WELL_KNOWN	"/.well-known/openid-configuration"

static void
wipe_free(char *s)
{
	if (s != NULL)
		buf_wipe_free(s, strlen(s));
}

/* One issuer conversation: the TLS context and the error prefix. */
struct talk {
	struct kcfg_oidc	*o;
	struct tls_ctx		*tls;
	int64_t			 deadline;
	char			 iss[300];	/* the issuer URL, sanitised */
};

static struct httpc *
talk_client(struct talk *t, const struct oidc_url *u, const char *basic, const char *ctype)
{
	struct httpc_target	 tg;
	struct httpc		*h;

	if (u->tls && t->tls == NULL) {
		log_error("%s: the issuer %s is https, but neither idp-certificate-authority "
		    "nor idp-certificate-authority-data is set (carrier-lock has no system "
		    "trust store)", t->o->where, t->iss);
		return NULL;
	}
	memset(&tg, 0, sizeof(tg));
	tg.url = u->origin;
	tg.host = u->host;
	tg.port = u->port;
	tg.tls = u->tls;
	tg.tls_ctx = t->tls;
	tg.tls_name = u->host;
	tg.basic = basic;
	tg.ctype = ctype;
	/* Each request is bounded by the caller's deadline (--request-timeout). */
	tg.timeout_ms = clock_left(t->deadline) > 0 ? clock_left(t->deadline) : 1;
	if ((h = httpc_new(&tg)) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	httpc_set_limit(h, t->deadline);
	return h;
}

/* The token endpoint from the issuer's discovery document, or NULL (logged). */
static char *
discover(struct talk *t, const struct oidc_url *iss)
{
	struct httpc		*h;
	struct httpc_reply	 r;
	struct buf		 p = { 0 };
	const char		*why;
	char			*path, *te = NULL, sane[256];
	size_t			 n = strlen(iss->path);

	/* As go-oidc: a trailing slash of the issuer is not doubled. */
	while (n > 0 && iss->path[n - 1] == '/')
		n--;
	buf_add(&p, iss->path, n);
	buf_add(&p, OIDC_WELL_KNOWN, strlen(OIDC_WELL_KNOWN));
	if ((path = buf_take(&p, NULL)) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	if ((h = talk_client(t, iss, NULL, NULL)) == NULL) {
		free(path);
		return NULL;
	}
	/* httpc's one line names the issuer's URL, the request and what failed. */
	if (httpc_do(h, "GET", path, NULL, 0, &r) != 0)
		goto out;
	if (r.status != 200) {
		log_error("%s: the issuer %s answered %d to GET %s", t->o->where, t->iss,
		    r.status, log_sanitize(sane, sizeof(sane), path, strlen(path)));
	} else if (oidc_discovery_parse(r.body, r.len, &te, &why) != 0) {
		log_error("%s: the issuer %s: bad discovery document: %s", t->o->where, t->iss,
		    why);
	}
	free(r.body);
out:
	httpc_free(h);
	free(path);
	return te;
}

/* "user:password" URL-escaped (as x/oauth2's SetBasicAuth argument), base64'd. */
static char *
basic_cred(const char *id, const char *secret)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct buf		 in = { .wipe = 1 }, out = { .wipe = 1 };
	const unsigned char	*s;
	size_t			 i, n;
	char			 q[4];

	oidc_form_escape(&in, id);
	buf_add(&in, ":", 1);
	oidc_form_escape(&in, secret != NULL ? secret : "");
	if (in.err != 0 || in.p == NULL) {
		buf_free(&in);
		return NULL;
	}
	s = (const unsigned char *)in.p;
	n = in.len;
	for (i = 0; i + 2 < n; i += 3) {
		q[0] = b64[s[i] >> 2];
		q[1] = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		q[3] = b64[s[i + 2] & 63];
		buf_add(&out, q, 4);
	}
	if (n - i == 1) {
		q[0] = b64[s[i] >> 2];
		q[1] = b64[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		buf_add(&out, q, 4);
	} else if (n - i == 2) {
		q[0] = b64[s[i] >> 2];
		q[1] = b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = b64[(s[i + 1] & 15) << 2];
		q[3] = '=';
		buf_add(&out, q, 4);
	}
	buf_free(&in);
	return buf_take(&out, NULL);
}

/*
 * One POST to the token endpoint. Returns 0 with the reply in *r (any status), or -1
 * (logged). in_params: the client's id and secret go in the form instead of Basic.
 */
static int
token_post(struct talk *t, const struct oidc_url *te, int in_params, struct httpc_reply *r)
{
	struct kcfg_oidc	*o = t->o;
	struct buf		 f = { .wipe = 1 };
	struct httpc		*h = NULL;
	char			*form, *basic = NULL;
	size_t			 flen = 0;
	int			 rc = -1;

	buf_add(&f, "grant_type=refresh_token&refresh_token=", 39);
	oidc_form_escape(&f, o->refresh_token);
	if (in_params) {
		buf_add(&f, "&client_id=", 11);
		oidc_form_escape(&f, o->client_id);
		if (o->client_secret != NULL) {
			buf_add(&f, "&client_secret=", 15);
			oidc_form_escape(&f, o->client_secret);
		}
	}
	if ((form = buf_take(&f, &flen)) == NULL ||
	    (!in_params && (basic = basic_cred(o->client_id, o->client_secret)) == NULL)) {
		log_error("out of memory");
		goto out;
	}
	if ((h = talk_client(t, te, basic, "application/x-www-form-urlencoded")) == NULL)
		goto out;
	if (httpc_do(h, "POST", te->path[0] != '\0' ? te->path : "/", form, flen, r) != 0)
		goto out;
	rc = 0;
out:
	httpc_free(h);
	if (form != NULL)
		buf_wipe_free(form, flen);
	wipe_free(basic);
	return rc;
}

/* Is o's id-token a JWT whose exp is more than CRED_EARLY_MS ahead? */
static int
id_fresh(const struct kcfg_oidc *o)
{
	const char	*why;
	int64_t		 exp;

	return o->id_token != NULL && jwt_exp(o->id_token, strlen(o->id_token), &exp,
	    &why) == 0 && exp > 0 && exp * 1000 > clock_wall_ms() + CRED_EARLY_MS;
}

/*
 * The token endpoint's reply to o's refresh token: HTTP Basic first, then the form when
 * that is refused (x/oauth2's auto-detection). Returns 0 with *r (any status) or -1.
 */
static int
token_ask(struct talk *t, const struct oidc_url *te, struct httpc_reply *r)
{
	int	attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		if (r->body != NULL)
			buf_wipe_free(r->body, r->len);
		r->body = NULL;
		if (token_post(t, te, attempt, r) != 0)
			return -1;
		if (r->status == 200)
			break;
		log_verbose("%s: the token endpoint answered %d to client authentication %s",
		    t->o->where, r->status, attempt == 0 ? "by HTTP Basic" : "in the form");
	}
	return 0;
}

/*
 * Refreshes the tokens in o. Another carrier-lock (or kubectl) on the same kubeconfig
 * may have refreshed first: an issuer that rotates refresh tokens then refuses ours. So
 * the file is read again first, and again after a 400: newer tokens there are taken
 * (their id-token used as it is when it is fresh and was not the one refused).
 * Returns 0 or -1 (logged).
 */
static int
refresh(struct kcfg_oidc *o, int rejected, int64_t deadline)
{
	struct talk		 t = { .o = o, .deadline = deadline };
	struct tls_config	 tc;
	struct oidc_url		 iss = { 0 }, te = { 0 };
	struct httpc_reply	 r = { 0 };
	const char		*why;
	char			*tep = NULL, *id = NULL, *rt = NULL, msg[512], sane[300];
	int64_t			 exp;
	int			 rc = -1, round, rotated, e;

	log_sanitize(t.iss, sizeof(t.iss), o->issuer, strlen(o->issuer));
	if (kcfg_oidc_reload(o)) {
		log_verbose("%s: the kubeconfig holds newer tokens (refreshed by another "
		    "process)", o->where);
		if (!rejected && id_fresh(o))
			return 0;
	}
	if (o->refresh_token == NULL) {
		log_error("%s: the id-token has expired (or is missing) and there is no "
		    "refresh-token to renew it; log in again", o->where);
		return -1;
	}
	if (oidc_url_parse(o->issuer, &iss, &why) != 0) {
		log_error("%s: idp-issuer-url %s: %s", o->where, t.iss, why);
		goto out;
	}
	if (o->ca != NULL) {
		memset(&tc, 0, sizeof(tc));
		tc.ca_pem = o->ca;
		tc.ca_pem_len = o->ca_len;
		tc.where = o->where;
		tc.ca_where = o->ca_where;
		if ((t.tls = tls_ctx_new(&tc)) == NULL)
			goto out;
	}
	log_verbose("%s: refreshing the id-token at the issuer %s", o->where, t.iss);
	if ((tep = discover(&t, &iss)) == NULL)
		goto out;
	if (oidc_url_parse(tep, &te, &why) != 0) {
		log_error("%s: the issuer %s names a bad token_endpoint \"%s\": %s", o->where,
		    t.iss, log_sanitize(sane, sizeof(sane), tep, strlen(tep)), why);
		goto out;
	}
	for (round = 0; round < 2; round++) {
		if (token_ask(&t, &te, &r) != 0)
			goto out;
		if (r.status != 400 || round > 0 || !kcfg_oidc_reload(o))
			break;
		log_verbose("%s: the issuer refused the refresh-token, and the kubeconfig "
		    "now holds another (refreshed by another process)", o->where);
		if (!rejected && id_fresh(o)) {
			rc = 0;
			goto out;
		}
	}
	if (r.status != 200) {
		oidc_error_text(r.body, r.len, msg, sizeof(msg));
		log_error("%s: the issuer %s refused the refresh: %d%s%s", o->where, t.iss,
		    r.status, msg[0] ? ": " : "", msg);
		goto out;
	}
	if (oidc_token_parse(r.body, r.len, &id, &rt, &why) != 0) {
		log_error("%s: the issuer %s: bad token reply: %s", o->where, t.iss, why);
		goto out;
	}
	/* Checked before it is kept or written back, where the next run would refuse it. */
	if (jwt_exp(id, strlen(id), &exp, &why) != 0) {
		log_error("%s: the issuer %s: bad token reply: its id_token is %s", o->where,
		    t.iss, why);
		goto out;
	}
	/* A reply without a refresh_token keeps the old one, as x/oauth2 does. */
	wipe_free(o->id_token);
	o->id_token = id;
	id = NULL;
	rotated = rt != NULL;
	if (rotated) {
		wipe_free(o->refresh_token);
		o->refresh_token = rt;
		rt = NULL;
	}
	(void)kcfg_oidc_write(o, o->id_token, rotated ? o->refresh_token : NULL);
	rc = 0;
out:
	/* A signal's EINTR (not logged by httpc) must reach kube.c through the cleanup. */
	e = errno;
	if (r.body != NULL)
		buf_wipe_free(r.body, r.len);
	wipe_free(id);
	wipe_free(rt);
	free(tep);
	oidc_url_free(&iss);
	oidc_url_free(&te);
	tls_ctx_free(t.tls);
	errno = e;
	return rc;
}

/* The id-token's exp in epoch ms (0: none); -1 when it is not a JWT (logged). */
static int
token_exp(const struct kcfg_oidc *o, int64_t *exp_ms)
{
	const char	*why;
	int64_t		 exp;

	if (jwt_exp(o->id_token, strlen(o->id_token), &exp, &why) != 0) {
		log_error("%s: the id-token is %s", o->where, why);
		return -1;
	}
	*exp_ms = exp > 0 ? exp * 1000 : 0;
	return 0;
}

int
oidc_cred_get(const struct kcfg *k, int64_t deadline, int rejected, struct cred_value *out)
{
	struct kcfg_oidc	*o = k->oidc;
	int64_t			 exp_ms = 0;
	int			 fresh = 0;

	out->where = o->where;
	if (o->id_token != NULL && !rejected) {
		if (token_exp(o, &exp_ms) != 0)
			return -1;
		fresh = exp_ms > clock_wall_ms() + CRED_EARLY_MS;
		if (!fresh)
			log_verbose("%s: the id-token %s", o->where, exp_ms == 0 ?
			    "has no exp" : "has expired or expires within a minute");
	} else if (rejected) {
		log_verbose("%s: the API server refused the id-token; refreshing it", o->where);
	}
	if (!fresh) {
		if (refresh(o, rejected, deadline) != 0)
			return -1;
		/* A new token's exp only schedules the next refresh; it is used regardless. */
		if (token_exp(o, &exp_ms) != 0)
			return -1;
		if (exp_ms <= clock_wall_ms())
			exp_ms = 0;
	}
	/* A client certificate of the same user is sent along, as client-go does. */
	out->cert_where = k->cert_where;
	out->key_where = k->key_where;
	if ((out->token = cred_dup(o->id_token, strlen(o->id_token))) == NULL ||
	    (k->cert != NULL && (out->cert = cred_dup(k->cert, k->cert_len)) == NULL) ||
	    (k->key != NULL && (out->key = cred_dup(k->key, k->key_len)) == NULL)) {
		cred_value_clear(out);
		log_error("out of memory");
		return -1;
	}
	out->cert_len = k->cert != NULL ? k->cert_len : 0;
	out->key_len = k->key != NULL ? k->key_len : 0;
	out->expires = exp_ms;
	return 0;
}
