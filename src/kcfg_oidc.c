/*
 * kcfg_oidc.c: a user's "auth-provider:" entry. Only oidc is used (as client-go's
 * plugin reads its config: id-token, refresh-token, client-id, client-secret,
 * idp-issuer-url, idp-certificate-authority(-data), extra-scopes); gcp and azure were
 * removed from kubectl in 1.26 and their refusal names the exec plugin that replaced
 * them. Keys client-go does not read are ignored, as it does (named with -v).
 *
 * idp-certificate-authority is a path relative to the kubeconfig's directory, as every
 * other path in it (client-go resolves this one against the working directory; an
 * absolute path means the same to both).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kcfg.h"
#include "kcfg_int.h"
#include "kcfg_write.h"
#include "log.h"
#include "oidc.h"
#include "yaml.h"
#include "text.h"

static void
wipe_free(char *s)
{
	if (s != NULL)
		buf_wipe_free(s, strlen(s));
}

void
kcfg_oidc_free(struct kcfg_oidc *o)
{
	if (o == NULL)
		return;
	free(o->where);
	free(o->user);
	free(o->issuer);
	free(o->client_id);
	wipe_free(o->client_secret);
	wipe_free(o->id_token);
	wipe_free(o->refresh_token);
	free(o->ca);
	free(o->ca_where);
	free(o->path);
	if (o->text != NULL)
		buf_wipe_free(o->text, o->text_len);
	free(o);
}

static int
dup_to(char **dst, const char *s)
{
	if (s == NULL)
		return 0;
	if ((*dst = strdup(s)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	return 0;
}

/* Keeps the file's bytes for the write-back, when the entry can be edited in them. */
static int
keep_text(struct kcfg_oidc *o, const struct kcfg_file *f)
{
	unsigned char	*t;
	size_t		 len, elen;
	char		*e;

	if (f->incluster)
		return 0;
	if ((o->path = strdup(f->path)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if ((t = kcfg_read_file(f->path, &len, &o->nowrite)) == NULL)
		return 0;
	/* A dry run of the edit: the values can be replaced in these bytes. */
	e = kcfg_oidc_edit((const char *)t, len, o->user, "x.y.z", o->refresh_token ?
	    "x" : NULL, &elen, &o->nowrite);
	if (e == NULL) {
		buf_wipe_free(t, len);
		return 0;
	}
	buf_wipe_free(e, elen);
	o->text = (char *)t;
	o->text_len = len;
	return 0;
}

static int
refuse(const struct kcfg_file *f, size_t line, const char *what, const char *name)
{
	char	q[128];

	if (strcmp(name, "gcp") == 0)
		return kcfg_err(f, line, "%s uses the gcp auth-provider, which kubectl removed "
		    "in 1.26; use the exec plugin gke-gcloud-auth-plugin instead (gcloud "
		    "components install gke-gcloud-auth-plugin; gcloud container clusters "
		    "get-credentials rewrites the kubeconfig)", what);
	if (strcmp(name, "azure") == 0)
		return kcfg_err(f, line, "%s uses the azure auth-provider, which kubectl "
		    "removed in 1.26; use the exec plugin kubelogin instead (kubelogin "
		    "convert-kubeconfig rewrites the kubeconfig)", what);
	return kcfg_err(f, line, "%s uses the auth-provider \"%s\", which carrier-lock does "
	    "not support (only oidc)", what, kcfg_q(q, sizeof(q), name));
}

int
kcfg_oidc_parse(struct kcfg *k, const struct kcfg_file *f, const char *name,
    const struct yaml_node *ap, size_t line)
{
	static const char	*known[] = { "id-token", "refresh-token", "client-id",
				    "client-secret", "idp-issuer-url", "idp-certificate-authority",
				    "idp-certificate-authority-data", "extra-scopes" };
	const struct yaml_node	*cfg;
	struct kcfg_oidc	*o;
	const char		*pname, *issuer, *cid, *csec, *idt, *rt, *why, *xs;
	struct oidc_url		 u;
	int64_t			 exp;
	size_t			 l, il, cl, tl, rl, i, j;
	char			 what[160], where[200], q[128], qi[256];

	snprintf(what, sizeof(what), "user \"%s\"", kcfg_q(q, sizeof(q), name));
	if (ap->kind != YAML_MAP)
		return kcfg_err(f, line, "auth-provider of %s must be a mapping", what);
	if (kcfg_get_str(f, ap, "name", "auth-provider", &pname, &l) != 0)
		return -1;
	if (pname == NULL)
		return kcfg_err(f, line, "auth-provider of %s has no name", what);
	if (strcmp(pname, "oidc") != 0)
		return refuse(f, line, what, pname);
	if ((cfg = yaml_get(ap, "config", &l)) == NULL || yaml_is_null(cfg))
		return kcfg_err(f, line, "auth-provider oidc of %s has no config", what);
	if (cfg->kind != YAML_MAP)
		return kcfg_err(f, l, "config of the auth-provider oidc of %s must be a "
		    "mapping", what);
	snprintf(where, sizeof(where), "the oidc auth-provider of %s", what);
	if (kcfg_get_str(f, cfg, "idp-issuer-url", where, &issuer, &il) != 0 ||
	    kcfg_get_str(f, cfg, "client-id", where, &cid, &cl) != 0 ||
	    kcfg_get_str(f, cfg, "client-secret", where, &csec, &l) != 0 ||
	    kcfg_get_str(f, cfg, "id-token", where, &idt, &tl) != 0 ||
	    kcfg_get_str(f, cfg, "refresh-token", where, &rt, &rl) != 0 ||
	    kcfg_get_str(f, cfg, "extra-scopes", where, &xs, &l) != 0)
		return -1;
	for (i = 0; i < cfg->n; i++) {
		for (j = 0; j < sizeof(known) / sizeof(known[0]); j++)
			if (strcmp(cfg->keys[i], known[j]) == 0)
				break;
		if (j == sizeof(known) / sizeof(known[0]))
			log_verbose("kubeconfig: %s: config key \"%s\" ignored, as kubectl does",
			    where, kcfg_q(q, sizeof(q), cfg->keys[i]));
	}
	/* What client-go's plugin requires when it is created. */
	if (issuer == NULL)
		return kcfg_err(f, line, "%s has no idp-issuer-url", where);
	if (cid == NULL)
		return kcfg_err(f, line, "%s has no client-id", where);
	if (oidc_url_parse(issuer, &u, &why) != 0) {
		oidc_url_free(&u);
		return kcfg_err(f, il, "idp-issuer-url \"%s\" of %s: %s",
		    kcfg_q(qi, sizeof(qi), issuer), where, why);
	}
	oidc_url_free(&u);
	if (idt != NULL && !text_token_ok(idt))
		return kcfg_err(f, tl, "id-token of %s holds spaces or control characters", where);
	if (idt != NULL && jwt_exp(idt, strlen(idt), &exp, &why) != 0)
		return kcfg_err(f, tl, "id-token of %s is %s", where, why);
	if (rt != NULL && !text_token_ok(rt))
		return kcfg_err(f, rl, "refresh-token of %s holds spaces or control characters",
		    where);
	if (idt == NULL && rt == NULL)
		return kcfg_err(f, line, "%s has neither an id-token nor a refresh-token", where);
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	k->oidc = o;
	if (dup_to(&o->where, where) != 0 || dup_to(&o->user, name) != 0 ||
	    dup_to(&o->issuer, issuer) != 0 || dup_to(&o->client_id, cid) != 0 ||
	    dup_to(&o->client_secret, csec) != 0 || dup_to(&o->id_token, idt) != 0 ||
	    dup_to(&o->refresh_token, rt) != 0)
		return -1;
	if (kcfg_pem_field(f, cfg, "idp-certificate-authority", where, &o->ca, &o->ca_len,
	    &o->ca_where) != 0)
		return -1;
	return keep_text(o, f);
}
