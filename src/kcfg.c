/*
 * kcfg.c: see kcfg.h. Finds the kubeconfig files as kubectl does, merges them (for
 * each key the first file that sets it wins) and resolves the context; kcfg_entry.c
 * reads the chosen cluster and user, kcfg_incluster.c the pod's service account. All
 * three use kcfg_util.c (files, messages, lookups) and nothing calls back up into here.
 *
 * Decisions where kubectl is lenient or silent:
 *  - A name defined twice in one file's clusters, users or contexts is an error
 *    (kubectl silently takes the last one).
 *  - A file in $KUBECONFIG that does not exist is skipped; one that exists but cannot
 *    be read or parsed is an error. --kubeconfig must exist.
 *  - If $KUBECONFIG names no existing file, or ~/.kube/config does not exist, or the
 *    files found define nothing at all, the in-cluster configuration is tried, as
 *    kubectl does; never after --kubeconfig.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kcfg.h"
#include "kcfg_int.h"
#include "log.h"
#include "text.h"
#include "yaml.h"

#define KCFG_MAX_FILES	64	/* entries in $KUBECONFIG */

struct kcfg_set {
	struct kcfg_file	f[KCFG_MAX_FILES];
	size_t			n;
};

/* Loads one file into f. Returns 0, 1 if it does not exist (and may be skipped), -1. */
static int
kcfg_file_load(struct kcfg_file *f, const char *path)
{
	unsigned char	*buf;
	const char	*why, *err;
	size_t		 len, errline;
	char		*slash;

	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL || (f->dir = strdup(path)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if ((slash = strrchr(f->dir, '/')) == NULL)
		strcpy(f->dir, ".");
	else if (slash == f->dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((buf = kcfg_read_file(path, &len, &why)) == NULL) {
		if (errno == ENOENT)
			return 1;
		return kcfg_err(f, 0, "%s", why);
	}
	/* The text holds tokens and keys: wipe it once parsed. */
	f->root = yaml_parse((const char *)buf, len, &err, &errline);
	buf_wipe_free(buf, len);
	if (f->root == NULL)
		return kcfg_err(f, errline, "%s", err);
	if (f->root->kind != YAML_MAP)
		return kcfg_err(f, f->root->line, "not a kubeconfig: the top level is not a mapping");
	return 0;
}

static void
kcfg_set_free(struct kcfg_set *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++) {
		free(s->f[i].path);
		free(s->f[i].dir);
		yaml_free(s->f[i].root);
	}
	s->n = 0;
}

/* Adds path to the set: 0 loaded, 1 missing (skipped), -1 error (logged). */
static int
kcfg_set_add(struct kcfg_set *s, const char *path)
{
	size_t	i;
	int	r;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->f[i].path, path) == 0)
			return 0;	/* kubectl reads a repeated entry once */
	if (s->n == KCFG_MAX_FILES) {
		log_error("$KUBECONFIG names more than %d files", KCFG_MAX_FILES);
		return -1;
	}
	r = kcfg_file_load(&s->f[s->n], path);
	s->n++;
	if (r == 1) {
		s->n--;
		free(s->f[s->n].path);
		free(s->f[s->n].dir);
		log_verbose("kubeconfig %s does not exist, skipped", path);
	}
	return r;
}

/* "/a:/b" for messages: the files of the set. */
static const char *
kcfg_set_names(const struct kcfg_set *s, char *buf, size_t n)
{
	size_t	i, o = 0;
	char	q[512];

	buf[0] = '\0';
	for (i = 0; i < s->n && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ":" : "",
		    kcfg_q(q, sizeof(q), s->f[i].path));
	return buf;
}

/*
 * Finds the entry named name in the list key ("clusters", "users", "contexts") of the
 * first file that has it. Sets *file, *inner (the "cluster:"/"user:"/"context:" value,
 * NULL if absent or null) and *line (the entry's name line). Returns 1 found, 0 not,
 * -1 on a malformed list (logged).
 */
static int
kcfg_find(const struct kcfg_set *s, const char *list, const char *inner_key,
    const char *name, const struct kcfg_file **file, const struct yaml_node **inner,
    size_t *line)
{
	const struct yaml_node	*l, *e, *nm;
	size_t			 i, j, lline, nline, iline, found_line;
	char			 q[128];

	for (i = 0; i < s->n; i++) {
		const struct kcfg_file *f = &s->f[i];

		l = yaml_get(f->root, list, &lline);
		if (l == NULL || yaml_is_null(l))
			continue;
		if (l->kind != YAML_SEQ)
			return kcfg_err(f, lline, "%s must be a list", list);
		found_line = 0;
		for (j = 0; j < l->n; j++) {
			e = l->vals[j];
			if (e->kind != YAML_MAP)
				return kcfg_err(f, e->line, "an entry of %s must be a mapping", list);
			nm = yaml_get(e, "name", &nline);
			if (nm == NULL || nm->kind != YAML_SCALAR || nm->scalar[0] == '\0')
				return kcfg_err(f, e->line, "an entry of %s has no name", list);
			if (strcmp(nm->scalar, name) != 0)
				continue;
			if (found_line != 0)
				return kcfg_err(f, nline, "%s \"%s\" is defined twice (also on line "
				    "%zu)", inner_key, kcfg_q(q, sizeof(q), name), found_line);
			found_line = nline;
			*file = f;
			*line = nline;
			*inner = yaml_get(e, inner_key, &iline);
			if (*inner != NULL && yaml_is_null(*inner))
				*inner = NULL;
			if (*inner != NULL && (*inner)->kind != YAML_MAP)
				return kcfg_err(f, iline, "%s of %s \"%s\" must be a mapping",
				    inner_key, inner_key, kcfg_q(q, sizeof(q), name));
		}
		if (found_line != 0)
			return 1;
	}
	return 0;
}

/* Does no file set anything kubectl would use? Then in-cluster may be tried. */
static int
kcfg_set_empty(const struct kcfg_set *s)
{
	static const char	*keys[] = { "current-context", "clusters", "users", "contexts" };
	const struct yaml_node	*v;
	size_t			 i, j, line;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
			v = yaml_get(s->f[i].root, keys[j], &line);
			if (v != NULL && !yaml_is_null(v) && !(v->kind != YAML_SCALAR && v->n == 0) &&
			    !(v->kind == YAML_SCALAR && v->scalar[0] == '\0'))
				return 0;
		}
	return 1;
}

/* Resolves context -> cluster and user from the merged files. */
static int
kcfg_resolve(struct kcfg *k, const struct kcfg_set *s, const char *context)
{
	const struct kcfg_file	*cf = NULL, *ctxf = NULL, *clf = NULL, *uf = NULL;
	const struct yaml_node	*ctx = NULL, *cl = NULL, *u = NULL;
	const char		*name = context, *cluster, *user, *ns;
	size_t			 i, cline = 0, ctxline, clline, uline, line, nsline;
	char			 q1[128], q2[128], names[1024];
	int			 r;

	/* current-context: the first file that sets it. */
	for (i = 0; name == NULL && i < s->n; i++) {
		if (kcfg_get_str(&s->f[i], s->f[i].root, "current-context", "the kubeconfig",
		    &name, &cline) != 0)
			return -1;
		cf = &s->f[i];
	}
	if (name == NULL) {
		log_error("no current-context in kubeconfig %s and no --context given",
		    kcfg_set_names(s, names, sizeof(names)));
		return -1;
	}
	if ((r = kcfg_find(s, "contexts", "context", name, &ctxf, &ctx, &ctxline)) < 0)
		return -1;
	if (r == 0) {
		if (context != NULL)
			log_error("kubeconfig %s: context \"%s\" (from --context) is not defined",
			    kcfg_set_names(s, names, sizeof(names)), kcfg_q(q1, sizeof(q1), name));
		else
			kcfg_err(cf, cline, "current-context \"%s\" is not defined",
			    kcfg_q(q1, sizeof(q1), name));
		return -1;
	}
	if (ctx == NULL)
		return kcfg_err(ctxf, ctxline, "context \"%s\" is empty",
		    kcfg_q(q1, sizeof(q1), name));
	if (kcfg_get_str(ctxf, ctx, "cluster", "a context", &cluster, &line) != 0)
		return -1;
	if (cluster == NULL)
		return kcfg_err(ctxf, ctxline, "context \"%s\" names no cluster",
		    kcfg_q(q1, sizeof(q1), name));
	if ((r = kcfg_find(s, "clusters", "cluster", cluster, &clf, &cl, &clline)) < 0)
		return -1;
	if (r == 0)
		return kcfg_err(ctxf, line, "context \"%s\" names cluster \"%s\", which is not "
		    "defined", kcfg_q(q1, sizeof(q1), name), kcfg_q(q2, sizeof(q2), cluster));
	if (kcfg_get_str(ctxf, ctx, "user", "a context", &user, &line) != 0)
		return -1;
	if (user != NULL) {
		if ((r = kcfg_find(s, "users", "user", user, &uf, &u, &uline)) < 0)
			return -1;
		if (r == 0)
			return kcfg_err(ctxf, line, "context \"%s\" names user \"%s\", which is "
			    "not defined", kcfg_q(q1, sizeof(q1), name),
			    kcfg_q(q2, sizeof(q2), user));
	}
	if (kcfg_get_str(ctxf, ctx, "namespace", "a context", &ns, &nsline) != 0)
		return -1;
	if (ns == NULL)
		ns = "default";
	else if (!text_dns_name(ns, 63, 0))
		return kcfg_err(ctxf, nsline, "namespace \"%s\" of context \"%s\" is not a valid "
		    "namespace name", kcfg_q(q1, sizeof(q1), ns), kcfg_q(q2, sizeof(q2), name));
	if ((k->namespace = strdup(ns)) == NULL || (k->context = strdup(name)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (kcfg_cluster_parse(k, clf, cluster, cl, clline) != 0)
		return -1;
	if (user != NULL && kcfg_user_parse(k, uf, user, u) != 0)
		return -1;
	log_verbose("kubeconfig: context \"%s\" from %s, cluster \"%s\" from %s",
	    kcfg_q(q1, sizeof(q1), name), kcfg_q(names, 512, ctxf->path),
	    kcfg_q(q2, sizeof(q2), cluster), kcfg_q(names + 512, 512, clf->path));
	if (user != NULL)
		log_verbose("kubeconfig: user \"%s\" from %s", kcfg_q(q1, sizeof(q1), user),
		    kcfg_q(names, sizeof(names), uf->path));
	else
		log_verbose("kubeconfig: context \"%s\" names no user: anonymous requests",
		    kcfg_q(q1, sizeof(q1), name));
	return 0;
}

int
kcfg_load(struct kcfg *k, const char *explicit_path, const char *context)
{
	struct kcfg_set	 s;
	const char	*env, *home, *nic;
	char		 tried[1536] = "", names[1024], path[4096], *list = NULL, *tok, *save;
	size_t		 o = 0;
	int		 r = -1, from_default = 0;

	memset(k, 0, sizeof(*k));
	memset(&s, 0, sizeof(s));
	if (context != NULL && context[0] == '\0')
		context = NULL;		/* kubectl's --context "": the current-context */
	if (explicit_path != NULL) {
		if (kcfg_set_add(&s, explicit_path) != 0) {
			if (s.n == 0)
				log_error("kubeconfig %s (from --kubeconfig): %s",
				    kcfg_q(names, sizeof(names), explicit_path), strerror(ENOENT));
			goto done;
		}
	} else if ((env = getenv("KUBECONFIG")) != NULL && env[0] != '\0') {
		if ((list = strdup(env)) == NULL) {
			log_error("out of memory");
			goto done;
		}
		/* Empty entries ("a::b", a trailing ':') are skipped, as kubectl does. */
		for (tok = strtok_r(list, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save))
			if (kcfg_set_add(&s, tok) < 0)
				goto done;
		if (s.n == 0)
			o += (size_t)snprintf(tried + o, sizeof(tried) - o,
			    "$KUBECONFIG (%s: no such file), ", kcfg_q(names, sizeof(names), env));
		from_default = 1;
	} else {
		home = getenv("HOME");
		if (home == NULL || home[0] == '\0') {
			o += (size_t)snprintf(tried + o, sizeof(tried) - o,
			    "~/.kube/config ($HOME not set), ");
		} else {
			snprintf(path, sizeof(path), "%s/.kube/config", home);
			if (kcfg_set_add(&s, path) < 0)
				goto done;
			if (s.n == 0)
				o += (size_t)snprintf(tried + o, sizeof(tried) - o,
				    "%s (no such file), ", kcfg_q(names, sizeof(names), path));
		}
		from_default = 1;
	}
	if (s.n > 0 && !(from_default && kcfg_set_empty(&s))) {
		snprintf(path, sizeof(path), "kubeconfig %s", kcfg_set_names(&s, names,
		    sizeof(names)));
		if ((k->source = strdup(path)) == NULL)
			log_error("out of memory");
		else
			r = kcfg_resolve(k, &s, context);
		goto done;
	}
	if (s.n > 0)
		o += (size_t)snprintf(tried + o, sizeof(tried) - o, "%s (defines nothing), ",
		    kcfg_set_names(&s, names, sizeof(names)));
	if (!kcfg_incluster_possible(&nic)) {
		log_error("no kubeconfig found: tried %sand in-cluster config (%s)", tried, nic);
		goto done;
	}
	if (context != NULL) {
		log_error("--context \"%s\" given, but no kubeconfig was found (tried %s"
		    "and in-cluster config has no contexts)", kcfg_q(names, sizeof(names), context),
		    tried);
		goto done;
	}
	log_verbose("no kubeconfig found (tried %s), using in-cluster config", tried);
	r = kcfg_incluster_load(k);
done:
	free(list);
	kcfg_set_free(&s);
	return r;
}

void
kcfg_free(struct kcfg *k)
{
	if (k == NULL)
		return;
	free(k->server);
	free(k->path);
	free(k->scheme);
	free(k->host);
	free(k->port);
	free(k->tls_server_name);
	if (k->proxy_url != NULL)	/* may hold a proxy password */
		buf_wipe_free(k->proxy_url, strlen(k->proxy_url));
	free(k->ca_where);
	free(k->cert_where);
	free(k->key_where);
	free(k->ca);
	free(k->cert);
	buf_wipe_free(k->key, k->key_len);
	if (k->token != NULL)
		buf_wipe_free(k->token, strlen(k->token));
	kcfg_oidc_free(k->oidc);
	free(k->namespace);
	free(k->context);
	free(k->source);
	kcfg_exec_free(k->exec);
	free(k->exec_config);
	memset(k, 0, sizeof(*k));
}
