/*
 * kcfg_entry.c: one cluster entry (server URL, CA, TLS options) and one user entry
 * (client certificate and key, token) of a kubeconfig, as kubectl reads them.
 *
 * Precedence as kubectl: *-data over the path variant, token over tokenFile. An exec
 * plugin (kcfg_exec.c) is the user's only credentials; the oidc auth-provider is
 * kcfg_oidc.c's. Refused with a message that names them: username/password,
 * impersonation (as, as-groups, as-uid, as-user-extra), an https:// or malformed
 * proxy-url (proxy.h), a server URL with a
 * path, query, fragment or user info, and insecure-skip-tls-verify together with a CA
 * (kubectl refuses that too). A CA, certificate or key must hold a PEM block.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hostport.h"
#include "kcfg.h"
#include "kcfg_int.h"
#include "log.h"
#include "pem.h"
#include "proxy.h"
#include "text.h"
#include "yaml.h"

static char *
kcfg_strndup(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * Why the path p[0..len) of a server URL (its trailing '/' removed) cannot prefix the
 * API's paths, or NULL when it can: empty, or '/'-separated segments of RFC 3986 pchars,
 * each '%' followed by two hex digits, and no segment empty, "." or "..", which a server
 * would resolve to another path than the one written (client-go cleans them; we refuse
 * rather than guess).
 */
static const char *
server_path_bad(const char *p, size_t len)
{
	static const char	hex[] = "0123456789abcdefABCDEF";
	size_t			i, seg = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == '/') {
			if (i > 0 && (i == seg || (i - seg == 1 && p[seg] == '.') ||
			    (i - seg == 2 && p[seg] == '.' && p[seg + 1] == '.')))
				return "has an empty, \".\" or \"..\" segment";
			seg = i + 1;
		} else if (p[i] == '%') {
			if (i + 2 >= len || strchr(hex, p[i + 1]) == NULL ||
			    strchr(hex, p[i + 2]) == NULL)
				return "has a \"%\" that is not followed by two hex digits";
		} else if (!text_host_char(p[i]) && (p[i] == '\0' ||
		    strchr("~!$&'()*+,;=:@", p[i]) == NULL))
			return "has a character that must be percent-encoded";
	}
	return NULL;
}

int
kcfg_server_parse(struct kcfg *k, const struct kcfg_file *f, size_t line,
    const char *cluster, const char *url)
{
	struct hostport	 hp;
	const char	*rest, *auth_end, *why;
	size_t		 pathlen;
	char		 q[256], qc[128], qp[256];

	kcfg_q(q, sizeof(q), url);
	kcfg_q(qc, sizeof(qc), cluster);
	if (strncasecmp(url, "https://", 8) == 0) {
		k->scheme = kcfg_strndup("https", 5);
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		k->scheme = kcfg_strndup("http", 4);
		rest = url + 7;
	} else {
		return kcfg_err(f, line, "server \"%s\" of cluster \"%s\" must start with https:// "
		    "or http://", q, qc);
	}
	if (k->scheme == NULL)
		return -1;
	if (strlen(url) > KCFG_MAX_SERVER)
		return kcfg_err(f, line, "server \"%s\" of cluster \"%s\" is longer than %d "
		    "bytes", q, qc, KCFG_MAX_SERVER);
	auth_end = rest + strcspn(rest, "/?#");
	if (strpbrk(auth_end, "?#") != NULL)
		return kcfg_err(f, line, "server \"%s\" of cluster \"%s\" has a query or "
		    "fragment (%s); an API server URL is scheme://host[:port][/path]", q, qc,
		    kcfg_q(qp, sizeof(qp), strpbrk(auth_end, "?#")));
	/* A path prefix (Rancher's /k8s/clusters/ID) goes before every request's path. */
	pathlen = strlen(auth_end);
	while (pathlen > 0 && auth_end[pathlen - 1] == '/')
		pathlen--;
	if ((why = server_path_bad(auth_end, pathlen)) != NULL)
		return kcfg_err(f, line, "server \"%s\" of cluster \"%s\": its path %s", q, qc,
		    why);
	if (memchr(rest, '@', (size_t)(auth_end - rest)) != NULL)
		return kcfg_err(f, line, "server \"%s\" of cluster \"%s\" has user info (\"@\"), "
		    "which is not supported", q, qc);
	if (hostport_split(rest, (size_t)(auth_end - rest), 0, &hp, &why) != 0)
		return kcfg_err(f, line, "server \"%s\" of cluster \"%s\": %s", q, qc, why);
	if ((k->host = kcfg_strndup(hp.host, hp.host_len)) == NULL ||
	    (k->server = kcfg_strndup(url, (size_t)(auth_end - url) + pathlen)) == NULL ||
	    (k->path = kcfg_strndup(auth_end, pathlen)) == NULL)
		return -1;
	if (hp.port != NULL)
		k->port = kcfg_strndup(hp.port, hp.port_len);
	else
		k->port = kcfg_strndup(k->scheme[4] == 's' ? "443" : "80",
		    k->scheme[4] == 's' ? 3 : 2);
	return k->port == NULL ? -1 : 0;
}

/* An absolute path, or one relative to the directory of the file that named it. */
static int
kcfg_path(const struct kcfg_file *f, const char *p, char *out, size_t n)
{
	int	r;

	if (p[0] == '/')
		r = snprintf(out, n, "%s", p);
	else
		r = snprintf(out, n, "%s/%s", f->dir, p);
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

static int
has_pem(const unsigned char *b, size_t n)
{
	static const char	m[] = "-----BEGIN ";
	size_t			i;

	for (i = 0; n >= sizeof(m) - 1 && i <= n - (sizeof(m) - 1); i++)
		if (memcmp(b + i, m, sizeof(m) - 1) == 0)
			return 1;
	return 0;
}

/*
 * Describes where a PEM field came from (for messages about its contents) into a
 * malloc'd string: "kubeconfig PATH:LINE: KEY of WHAT", plus "(FILE)" for a path.
 */
static char *
pem_where(const struct kcfg_file *f, size_t line, const char *key, const char *what,
    const char *file)
{
	char	buf[2048], q[512], fq[512];

	if (f->incluster)
		snprintf(buf, sizeof(buf), "in-cluster config: %s", kcfg_q(fq, sizeof(fq), file));
	else
		snprintf(buf, sizeof(buf), "kubeconfig %s:%zu: %s of %s%s%s%s",
		    kcfg_q(q, sizeof(q), f->path), line, key, what, file ? " (" : "",
		    file ? kcfg_q(fq, sizeof(fq), file) : "", file ? ")" : "");
	return strdup(buf);
}

int
kcfg_pem_field(const struct kcfg_file *f, const struct yaml_node *m, const char *key,
    const char *what, unsigned char **out, size_t *outlen, char **where)
{
	const char	*data, *path, *why;
	size_t		 dline, pline;
	char		 dkey[64], full[4096], q[512];

	*out = NULL;
	*outlen = 0;
	free(*where);
	*where = NULL;
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	if (kcfg_get_str(f, m, dkey, what, &data, &dline) != 0 ||
	    kcfg_get_str(f, m, key, what, &path, &pline) != 0)
		return -1;
	if (data != NULL) {
		if ((*out = b64_decode(data, strlen(data), outlen, &why)) == NULL)
			return kcfg_err(f, dline, "%s of %s: not valid base64 (%s)", dkey, what, why);
		if (!has_pem(*out, *outlen))
			return kcfg_err(f, dline, "%s of %s does not hold a PEM block "
			    "(\"-----BEGIN ...\")", dkey, what);
		*where = pem_where(f, dline, dkey, what, NULL);
		return 0;
	}
	if (path == NULL)
		return 0;
	if (kcfg_path(f, path, full, sizeof(full)) != 0)
		return kcfg_err(f, pline, "%s of %s: path too long", key, what);
	if ((*out = kcfg_read_file(full, outlen, &why)) == NULL)
		return kcfg_err(f, pline, "%s of %s: %s: %s", key, what,
		    kcfg_q(q, sizeof(q), full), why);
	if (!has_pem(*out, *outlen))
		return kcfg_err(f, pline, "%s of %s: %s does not hold a PEM block "
		    "(\"-----BEGIN ...\")", key, what, kcfg_q(q, sizeof(q), full));
	*where = pem_where(f, pline, key, what, full);
	return 0;
}

/* Checks the cluster's proxy-url and keeps it in k->proxy_url (see proxy.h). */
static int
kcfg_proxy_parse(struct kcfg *k, const struct kcfg_file *f, size_t line, const char *what,
    const char *url)
{
	struct proxy	 p = { 0 };
	const char	*why;
	char		 shown[512];
	int		 rc;

	if (proxy_parse(url, 0, &p, &why) != 0)
		rc = kcfg_err(f, line, "proxy-url \"%s\" of %s: %s",
		    proxy_redact(url, shown, sizeof(shown)), what, why);
	else if (p.kind == PROXY_HTTPS)
		rc = kcfg_err(f, line, "proxy-url \"%s\" of %s: https:// proxies (TLS to the "
		    "proxy, then TLS to the API server inside it) are not supported; use an "
		    "http:// or socks5:// proxy", p.shown, what);
	else
		rc = (k->proxy_url = kcfg_strndup(url, strlen(url))) == NULL ? -1 : 0;
	proxy_clear(&p);
	return rc;
}

int
kcfg_cluster_parse(struct kcfg *k, const struct kcfg_file *f, const char *name,
    const struct yaml_node *c, size_t line)
{
	const struct yaml_node	*v;
	const char		*server, *sni, *proxy;
	size_t			 sline, vline, l;
	char			 what[160], q[128];

	snprintf(what, sizeof(what), "cluster \"%s\"", kcfg_q(q, sizeof(q), name));
	if (c == NULL)
		return kcfg_err(f, line, "%s has no \"cluster:\" settings", what);
	if (kcfg_get_str(f, c, "server", what, &server, &sline) != 0)
		return -1;
	if (server == NULL)
		return kcfg_err(f, sline ? sline : line, "%s has no server", what);
	if (kcfg_server_parse(k, f, sline, name, server) != 0)
		return -1;
	if (kcfg_get_str(f, c, "proxy-url", what, &proxy, &l) != 0)
		return -1;
	if (proxy != NULL && kcfg_proxy_parse(k, f, l, what, proxy) != 0)
		return -1;
	if (kcfg_get_str(f, c, "tls-server-name", what, &sni, &l) != 0)
		return -1;
	if (sni != NULL && (k->tls_server_name = kcfg_strndup(sni, strlen(sni))) == NULL)
		return -1;
	v = yaml_get(c, "insecure-skip-tls-verify", &vline);
	if (v != NULL && !yaml_is_null(v)) {
		/* As kubectl's JSON decoding: a bool, not the string "true". */
		if (v->kind != YAML_SCALAR || v->quoted)
			return kcfg_err(f, vline, "insecure-skip-tls-verify of %s must be true "
			    "or false", what);
		if (strcmp(v->scalar, "true") == 0 || strcmp(v->scalar, "True") == 0 ||
		    strcmp(v->scalar, "TRUE") == 0)
			k->insecure = 1;
		else if (strcmp(v->scalar, "false") != 0 && strcmp(v->scalar, "False") != 0 &&
		    strcmp(v->scalar, "FALSE") != 0)
			return kcfg_err(f, vline, "insecure-skip-tls-verify of %s must be true "
			    "or false", what);
	}
	if (kcfg_pem_field(f, c, "certificate-authority", what, &k->ca, &k->ca_len,
	    &k->ca_where) != 0 || kcfg_exec_extension(k, f, what, c) != 0)
		return -1;
	if (k->insecure && k->ca != NULL)
		return kcfg_err(f, vline, "%s sets both a certificate authority and "
		    "insecure-skip-tls-verify; kubectl refuses that too", what);
	return 0;
}

/* Refuses credentials that carrier-lock cannot use, naming them. */
static int
kcfg_user_unsupported(const struct kcfg_file *f, const struct yaml_node *u,
    const char *what)
{
	static const char	*imp[] = { "as", "as-uid", "as-groups", "as-user-extra" };
	const struct yaml_node	*v;
	size_t			 line, i;

	if (((v = yaml_get(u, "username", &line)) != NULL && !yaml_is_null(v)) ||
	    ((v = yaml_get(u, "password", &line)) != NULL && !yaml_is_null(v)))
		return kcfg_err(f, line, "%s uses basic authentication (username/password), "
		    "which carrier-lock does not support", what);
	for (i = 0; i < sizeof(imp) / sizeof(imp[0]); i++)
		if ((v = yaml_get(u, imp[i], &line)) != NULL && !yaml_is_null(v))
			return kcfg_err(f, line, "%s sets impersonation (%s), which "
			    "carrier-lock does not support", what, imp[i]);
	return 0;
}

/*
 * An exec plugin, when the user has one. Together with the user's own token or client
 * certificate it is refused: which of them client-go sends depends on the kind of each,
 * and a lock's credentials must not be a guess.
 */
static int
kcfg_user_exec(struct kcfg *k, const struct kcfg_file *f, const char *name,
    const struct yaml_node *u)
{
	static const char	*own[] = { "token", "tokenFile", "client-certificate",
	    "client-certificate-data", "client-key", "client-key-data" };
	const struct yaml_node	*e, *v;
	size_t			 line, l, i;
	char			 q[128];

	e = yaml_get(u, "exec", &line);
	if (e == NULL || yaml_is_null(e))
		return 0;
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if ((v = yaml_get(u, own[i], &l)) != NULL && !yaml_is_null(v))
			return kcfg_err(f, l, "user \"%s\" sets both exec and %s; carrier-lock "
			    "takes the credentials from one of them only (remove one)",
			    kcfg_q(q, sizeof(q), name), own[i]);
	return kcfg_exec_parse(k, f, name, e, line);
}

int
kcfg_user_parse(struct kcfg *k, const struct kcfg_file *f, const char *name,
    const struct yaml_node *u)
{
	const struct yaml_node *v;
	const char	*tok, *tokfile, *why;
	unsigned char	*buf;
	size_t		 tline, fline, len, certline, keyline, apline;
	char		 what[160], q[128], full[4096], qp[512];

	snprintf(what, sizeof(what), "user \"%s\"", kcfg_q(q, sizeof(q), name));
	if (u == NULL)
		return 0;
	if (kcfg_user_unsupported(f, u, what) != 0 || kcfg_user_exec(k, f, name, u) != 0)
		return -1;
	v = yaml_get(u, "auth-provider", &apline);
	if (v != NULL && !yaml_is_null(v)) {
		if (k->exec != NULL)
			return kcfg_err(f, apline, "%s sets both exec and auth-provider; use one",
			    what);
		if (kcfg_oidc_parse(k, f, name, v, apline) != 0)
			return -1;
	}
	if (k->exec != NULL)
		return 0;
	if (kcfg_pem_field(f, u, "client-certificate", what, &k->cert, &k->cert_len,
	    &k->cert_where) != 0 ||
	    kcfg_pem_field(f, u, "client-key", what, &k->key, &k->key_len, &k->key_where) != 0)
		return -1;
	if ((k->cert == NULL) != (k->key == NULL)) {
		yaml_get(u, "client-certificate-data", &certline);
		if (certline == 0)
			yaml_get(u, "client-certificate", &certline);
		yaml_get(u, "client-key-data", &keyline);
		if (keyline == 0)
			yaml_get(u, "client-key", &keyline);
		return kcfg_err(f, certline ? certline : keyline, "%s has a client %s but no "
		    "client %s", what, k->cert ? "certificate" : "key",
		    k->cert ? "key" : "certificate");
	}
	if (kcfg_get_str(f, u, "token", what, &tok, &tline) != 0 ||
	    kcfg_get_str(f, u, "tokenFile", what, &tokfile, &fline) != 0)
		return -1;
	if (k->oidc != NULL && (tok != NULL || tokfile != NULL))
		return kcfg_err(f, tok != NULL ? tline : fline, "%s sets both %s and an "
		    "auth-provider; use one", what, tok != NULL ? "token" : "tokenFile");
	if (tok != NULL) {
		if (!text_token_ok(tok))
			return kcfg_err(f, tline, "token of %s holds spaces or control characters",
			    what);
		return (k->token = kcfg_strndup(tok, strlen(tok))) == NULL ? -1 : 0;
	}
	if (tokfile == NULL)
		return 0;
	if (kcfg_path(f, tokfile, full, sizeof(full)) != 0)
		return kcfg_err(f, fline, "tokenFile of %s: path too long", what);
	if ((buf = kcfg_read_file(full, &len, &why)) == NULL)
		return kcfg_err(f, fline, "tokenFile of %s: %s: %s", what,
		    kcfg_q(qp, sizeof(qp), full), why);
	k->token = (char *)buf;
	kcfg_trim(k->token, &len);
	if (len == 0 || !text_token_ok(k->token) || strlen(k->token) != len)
		return kcfg_err(f, fline, "tokenFile of %s: %s is empty or holds spaces or "
		    "control characters", what, kcfg_q(qp, sizeof(qp), full));
	return 0;
}
