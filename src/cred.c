/* cred.c: see cred.h. The static source lives here; the others in their own files. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "clock.h"
#include "cred.h"
#include "exec.h"
#include "kcfg.h"
#include "log.h"
#include "oidc.h"

enum cred_kind {
	CRED_STATIC,	/* the kubeconfig's own token, token file or client certificate */
	CRED_EXEC,	/* an exec credential plugin */
	CRED_OIDC,	/* the oidc auth-provider (oidc.c) */
};

struct cred {
	const struct kcfg	*k;
	enum cred_kind		 kind;
	struct cred_value	 v;
	int			 have;		/* v holds what was last returned */
	int64_t			 due;		/* clock_ms() when v is to be obtained again */
};

void
cred_value_clear(struct cred_value *v)
{
	if (v->token != NULL)
		buf_wipe_free(v->token, strlen(v->token));
	free(v->cert);
	if (v->key != NULL)
		buf_wipe_free(v->key, v->key_len);
	v->token = NULL;
	v->cert = v->key = NULL;
	v->cert_len = v->key_len = 0;
	v->expires = 0;
}

void *
cred_dup(const void *p, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, p, n);
	d[n] = '\0';
	return d;
}

/* The kubeconfig's own credentials, copied so that every source's are freed alike. */
static int
static_cred_get(const struct kcfg *k, int64_t deadline, int rejected, struct cred_value *out)
{
	(void)deadline;
	if (rejected)
		return -1;	/* kube.c does not ask: cred_renewable() is 0 */
	out->where = k->source;
	out->cert_where = k->cert_where;
	out->key_where = k->key_where;
	if ((k->token != NULL && (out->token = cred_dup(k->token, strlen(k->token))) == NULL) ||
	    (k->cert != NULL && (out->cert = cred_dup(k->cert, k->cert_len)) == NULL) ||
	    (k->key != NULL && (out->key = cred_dup(k->key, k->key_len)) == NULL)) {
		cred_value_clear(out);
		log_error("out of memory");
		return -1;
	}
	out->cert_len = k->cert != NULL ? k->cert_len : 0;
	out->key_len = k->key != NULL ? k->key_len : 0;
	return 0;
}

static cred_get_fn *
cred_source(enum cred_kind kind)
{
	switch (kind) {
	case CRED_EXEC:		return exec_cred_get;
	case CRED_OIDC:		return oidc_cred_get;
	default:		return static_cred_get;
	}
}

struct cred *
cred_new(const struct kcfg *k)
{
	struct cred	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	c->k = k;
	c->kind = k->exec != NULL ? CRED_EXEC : k->oidc != NULL ? CRED_OIDC : CRED_STATIC;
	c->due = clock_ms();
	return c;
}

void
cred_free(struct cred *c)
{
	if (c == NULL)
		return;
	cred_value_clear(&c->v);
	free(c);
}

int
cred_renewable(const struct cred *c)
{
	return c->kind != CRED_STATIC;
}

const char *
cred_where(const struct cred *c)
{
	return c->kind == CRED_EXEC ? c->k->exec->where : c->k->source;
}

int64_t
cred_due(const struct cred *c)
{
	return c->have ? c->due : clock_ms();
}

/* 1 when a and b hold different bytes (either may be NULL). */
static int
bytes_differ(const void *a, size_t alen, const void *b, size_t blen)
{
	if ((a == NULL) != (b == NULL) || alen != blen)
		return 1;
	return a != NULL && memcmp(a, b, alen) != 0;
}

/* When new ones are due: early before the expiry, by the monotonic clock. */
static int64_t
due_for(int64_t expires)
{
	int64_t	life, early;

	if (expires <= 0)
		return CLOCK_NEVER;
	life = expires - clock_wall_ms();
	if (life <= 0)
		return clock_ms();	/* handed out expired: asked again for each request */
	early = life / 2 < CRED_EARLY_MS ? life / 2 : CRED_EARLY_MS;
	return clock_deadline(life - early);
}

int
cred_current(struct cred *c, int64_t deadline, int rejected, const struct cred_value **out,
    int *changed)
{
	struct cred_value	nv;
	int			mask = 0;

	*changed = 0;
	if (c->have && !rejected && clock_left(c->due) > 0) {
		*out = &c->v;
		return 0;
	}
	if (rejected && c->kind == CRED_STATIC) {
		errno = EACCES;
		return -1;	/* the 401 was reported; there is nothing new to try */
	}
	memset(&nv, 0, sizeof(nv));
	if (cred_source(c->kind)(c->k, deadline, rejected, &nv) != 0)
		return -1;
	if (!c->have || bytes_differ(c->v.token, c->v.token ? strlen(c->v.token) : 0,
	    nv.token, nv.token ? strlen(nv.token) : 0))
		mask |= CRED_CHANGED_TOKEN;
	if (!c->have || bytes_differ(c->v.cert, c->v.cert_len, nv.cert, nv.cert_len) ||
	    bytes_differ(c->v.key, c->v.key_len, nv.key, nv.key_len))
		mask |= CRED_CHANGED_CERT;
	cred_value_clear(&c->v);
	c->v = nv;
	c->have = 1;
	c->due = due_for(nv.expires);
	if (nv.expires > 0)
		log_verbose("%s: credentials valid for %llds", nv.where,
		    (long long)((nv.expires - clock_wall_ms()) / 1000));
	*changed = mask;
	*out = &c->v;
	return 0;
}
