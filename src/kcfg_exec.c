/*
 * kcfg_exec.c: a user's "exec:" entry (an exec credential plugin), and the cluster's
 * extension that a plugin may be handed, as client-go reads them.
 *
 * Required: apiVersion (client.authentication.k8s.io/v1 or v1beta1) and command; for v1
 * also interactiveMode (Never, IfAvailable or Always; v1beta1 defaults to IfAvailable).
 * Optional: args (a list of strings), env (a list of name/value pairs), installHint,
 * provideClusterInfo (a bool). A command with a '/' is relative to the directory of the
 * kubeconfig file that names it, as client-go resolves it; one without is found on PATH
 * when it is run. Other keys are ignored, as kubectl ignores them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "kcfg.h"
#include "kcfg_int.h"
#include "log.h"
#include "yaml.h"

#define KCFG_EXEC_V1		"client.authentication.k8s.io/v1"
#define KCFG_EXEC_V1BETA1	"client.authentication.k8s.io/v1beta1"
#define KCFG_EXEC_EXTENSION	"client.authentication.k8s.io/exec"
#define KCFG_EXEC_MAX_ITEMS	4096	/* args or env entries: more is not a kubeconfig */

void
kcfg_exec_free(struct kcfg_exec *x)
{
	size_t	i;

	if (x == NULL)
		return;
	free(x->command);
	free(x->path);
	for (i = 0; x->argv != NULL && x->argv[i] != NULL; i++)
		free(x->argv[i]);
	free(x->argv);
	for (i = 0; i < x->nenv; i++) {
		free(x->env[i].name);
		free(x->env[i].value);
	}
	free(x->env);
	free(x->api_version);
	free(x->install_hint);
	free(x->where);
	free(x->line_where);
	free(x);
}

/* A plain true or false, as kubectl's JSON decoding wants a bool. -1 when neither. */
static int
yaml_bool(const struct yaml_node *v)
{
	if (v->kind != YAML_SCALAR || v->quoted)
		return -1;
	if (strcmp(v->scalar, "true") == 0 || strcmp(v->scalar, "True") == 0 ||
	    strcmp(v->scalar, "TRUE") == 0)
		return 1;
	if (strcmp(v->scalar, "false") == 0 || strcmp(v->scalar, "False") == 0 ||
	    strcmp(v->scalar, "FALSE") == 0)
		return 0;
	return -1;
}

static int
exec_args(const struct kcfg_file *f, struct kcfg_exec *x, const struct yaml_node *e,
    const char *what)
{
	const struct yaml_node	*a;
	size_t			 line, i, n = 0;

	a = yaml_get(e, "args", &line);
	if (a != NULL && !yaml_is_null(a)) {
		if (a->kind != YAML_SEQ)
			return kcfg_err(f, line, "args of %s must be a list of strings", what);
		n = a->n;
		if (n > KCFG_EXEC_MAX_ITEMS)
			return kcfg_err(f, line, "args of %s: more than %d", what,
			    KCFG_EXEC_MAX_ITEMS);
	}
	if ((x->argv = calloc(n + 2, sizeof(*x->argv))) == NULL ||
	    (x->argv[0] = strdup(x->command)) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		const struct yaml_node *v = a->vals[i];

		if (v->kind != YAML_SCALAR)
			return kcfg_err(f, v->line, "args of %s must be a list of strings, "
			    "not of a %s", what, v->kind == YAML_MAP ? "mapping" : "list");
		if ((x->argv[i + 1] = strdup(v->scalar)) == NULL)
			goto oom;
	}
	return 0;
oom:
	log_error("out of memory");
	return -1;
}

static int
exec_env(const struct kcfg_file *f, struct kcfg_exec *x, const struct yaml_node *e,
    const char *what)
{
	const struct yaml_node	*l;
	const char		*name, *value;
	size_t			 line, i, nl, vl;
	char			 q[128];

	l = yaml_get(e, "env", &line);
	if (l == NULL || yaml_is_null(l))
		return 0;
	if (l->kind != YAML_SEQ)
		return kcfg_err(f, line, "env of %s must be a list of name/value pairs", what);
	if (l->n > KCFG_EXEC_MAX_ITEMS)
		return kcfg_err(f, line, "env of %s: more than %d", what, KCFG_EXEC_MAX_ITEMS);
	if (l->n > 0 && (x->env = calloc(l->n, sizeof(*x->env))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	for (i = 0; i < l->n; i++) {
		const struct yaml_node *v = l->vals[i];

		if (v->kind != YAML_MAP)
			return kcfg_err(f, v->line, "env of %s: each entry must be a mapping "
			    "with name and value", what);
		if (kcfg_get_str(f, v, "name", "an env entry", &name, &nl) != 0 ||
		    kcfg_get_str(f, v, "value", "an env entry", &value, &vl) != 0)
			return -1;
		if (name == NULL || strchr(name, '=') != NULL)
			return kcfg_err(f, nl ? nl : v->line, "env of %s: an entry's name must "
			    "be set and hold no '=' (%s)", what,
			    name ? kcfg_q(q, sizeof(q), name) : "none");
		x->env[x->nenv].name = strdup(name);
		x->env[x->nenv].value = strdup(value ? value : "");
		x->nenv++;
		if (x->env[x->nenv - 1].name == NULL || x->env[x->nenv - 1].value == NULL) {
			log_error("out of memory");
			return -1;
		}
	}
	return 0;
}

int
kcfg_exec_parse(struct kcfg *k, const struct kcfg_file *f, const char *user,
    const struct yaml_node *e, size_t line)
{
	struct kcfg_exec	*x;
	const struct yaml_node	*v;
	const char		*api, *cmd, *hint, *mode;
	size_t			 aline, cline, hline, mline, vline;
	char			 what[320], qu[128], qc[128], qv[128], full[4096], lw[1200];
	int			 r, b;

	kcfg_q(qu, sizeof(qu), user);
	if (e->kind != YAML_MAP)
		return kcfg_err(f, line, "exec of user \"%s\" must be a mapping", qu);
	if (kcfg_get_str(f, e, "command", "exec", &cmd, &cline) != 0)
		return -1;
	if (cmd == NULL)
		return kcfg_err(f, cline ? cline : line, "exec of user \"%s\" has no command", qu);
	snprintf(what, sizeof(what), "exec plugin \"%s\" of user \"%s\"",
	    kcfg_q(qc, sizeof(qc), cmd), qu);
	if (kcfg_get_str(f, e, "apiVersion", what, &api, &aline) != 0)
		return -1;
	if (api == NULL)
		return kcfg_err(f, line, "%s has no apiVersion (%s or %s)", what, KCFG_EXEC_V1,
		    KCFG_EXEC_V1BETA1);
	if (strcmp(api, KCFG_EXEC_V1) != 0 && strcmp(api, KCFG_EXEC_V1BETA1) != 0)
		return kcfg_err(f, aline, "%s: apiVersion \"%s\" is not %s or %s", what,
		    kcfg_q(qv, sizeof(qv), api), KCFG_EXEC_V1, KCFG_EXEC_V1BETA1);
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	k->exec = x;
	snprintf(lw, sizeof(lw), "kubeconfig %s:%zu", kcfg_q(full, sizeof(full), f->path), line);
	if ((x->command = strdup(cmd)) == NULL || (x->api_version = strdup(api)) == NULL ||
	    (x->where = strdup(what)) == NULL || (x->line_where = strdup(lw)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (strchr(cmd, '/') != NULL) {
		r = cmd[0] == '/' ? snprintf(full, sizeof(full), "%s", cmd) :
		    snprintf(full, sizeof(full), "%s/%s", f->dir, cmd);
		if (r < 0 || (size_t)r >= sizeof(full))
			return kcfg_err(f, cline, "%s: path too long", what);
		if ((x->path = strdup(full)) == NULL) {
			log_error("out of memory");
			return -1;
		}
	}
	if (exec_args(f, x, e, what) != 0 || exec_env(f, x, e, what) != 0)
		return -1;
	if (kcfg_get_str(f, e, "installHint", what, &hint, &hline) != 0 ||
	    kcfg_get_str(f, e, "interactiveMode", what, &mode, &mline) != 0)
		return -1;
	if (hint != NULL && (x->install_hint = strdup(hint)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (mode == NULL && strcmp(api, KCFG_EXEC_V1) == 0)
		return kcfg_err(f, line, "%s: interactiveMode must be set for %s (Never, "
		    "IfAvailable or Always)", what, KCFG_EXEC_V1);
	if (mode == NULL || strcmp(mode, "IfAvailable") == 0)
		x->mode = KCFG_EXEC_IF_AVAILABLE;
	else if (strcmp(mode, "Never") == 0)
		x->mode = KCFG_EXEC_NEVER;
	else if (strcmp(mode, "Always") == 0)
		x->mode = KCFG_EXEC_ALWAYS;
	else
		return kcfg_err(f, mline, "%s: interactiveMode \"%s\" is not Never, IfAvailable "
		    "or Always", what, kcfg_q(qv, sizeof(qv), mode));
	v = yaml_get(e, "provideClusterInfo", &vline);
	if (v != NULL && !yaml_is_null(v)) {
		if ((b = yaml_bool(v)) < 0)
			return kcfg_err(f, vline, "provideClusterInfo of %s must be true or "
			    "false", what);
		x->provide_cluster_info = b;
	}
	return 0;
}

int
kcfg_exec_extension(struct kcfg *k, const struct kcfg_file *f, const char *what,
    const struct yaml_node *c)
{
	const struct yaml_node	*l, *e, *ext;
	const char		*name;
	size_t			 line, nline, i;
	struct jbuf		 b = { 0 };

	l = yaml_get(c, "extensions", &line);
	if (l == NULL || yaml_is_null(l))
		return 0;
	if (l->kind != YAML_SEQ)
		return kcfg_err(f, line, "extensions of %s must be a list", what);
	for (i = 0; i < l->n; i++) {
		e = l->vals[i];
		if (e->kind != YAML_MAP)
			return kcfg_err(f, e->line, "extensions of %s: each entry must be a "
			    "mapping with name and extension", what);
		if (kcfg_get_str(f, e, "name", "an extension", &name, &nline) != 0)
			return -1;
		if (name == NULL || strcmp(name, KCFG_EXEC_EXTENSION) != 0)
			continue;
		if (k->exec_config != NULL)
			return kcfg_err(f, nline, "extensions of %s: %s is named twice", what,
			    KCFG_EXEC_EXTENSION);
		ext = yaml_get(e, "extension", &line);
		if (ext == NULL)
			return kcfg_err(f, nline, "extensions of %s: %s has no extension", what,
			    KCFG_EXEC_EXTENSION);
		json_from_yaml(&b, ext);
		if ((k->exec_config = jbuf_done(&b, NULL)) == NULL) {
			log_error("out of memory");
			return -1;
		}
	}
	return 0;
}
