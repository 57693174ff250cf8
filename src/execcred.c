/* execcred.c: see execcred.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cred.h"
#include "execcred.h"
#include "json.h"
#include "kcfg.h"
#include "log.h"
#include "timefmt.h"
#include "text.h"

char *
execcred_request(const struct kcfg *k, int interactive)
{
	struct jbuf	b = { 0 };

	jbuf_cstr(&b, "{\"kind\":\"ExecCredential\",\"apiVersion\":");
	jbuf_quotez(&b, k->exec->api_version);
	jbuf_cstr(&b, ",\"spec\":{");
	if (k->exec->provide_cluster_info) {
		jbuf_cstr(&b, "\"cluster\":{\"server\":");
		jbuf_quotez(&b, k->server);
		if (k->tls_server_name != NULL) {
			jbuf_cstr(&b, ",\"tls-server-name\":");
			jbuf_quotez(&b, k->tls_server_name);
		}
		if (k->insecure)
			jbuf_cstr(&b, ",\"insecure-skip-tls-verify\":true");
		if (k->ca != NULL) {
			jbuf_cstr(&b, ",\"certificate-authority-data\":");
			jbuf_base64(&b, k->ca, k->ca_len);
		}
		if (k->proxy_url != NULL) {
			jbuf_cstr(&b, ",\"proxy-url\":");
			jbuf_quotez(&b, k->proxy_url);
		}
		if (k->exec_config != NULL && strcmp(k->exec_config, "null") != 0) {
			jbuf_cstr(&b, ",\"config\":");
			jbuf_cstr(&b, k->exec_config);
		}
		jbuf_cstr(&b, "},");
	}
	jbuf_cstr(&b, interactive ? "\"interactive\":true}}" : "\"interactive\":false}}");
	return jbuf_done(&b, NULL);
}

static int
fail(char *why, size_t whysz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t whysz, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -1;
}

static int
has_pem(const char *s)
{
	return strstr(s, "-----BEGIN ") != NULL;
}

/*
 * The string at key of obj into *out (NULL when absent, null or ""), or -1 when it is
 * another type or holds an invalid escape or a NUL. The caller wipes what it gets.
 */
static int
opt_str(const struct json *j, int obj, const char *key, char **out)
{
	int		v = json_get(j, obj, key);
	size_t		len;
	const char	*raw;

	*out = NULL;
	if (v < 0)
		return 0;
	if (json_type(j, v) == JSON_PRIMITIVE) {
		raw = json_raw(j, v, &len);
		return len == 4 && memcmp(raw, "null", 4) == 0 ? 0 : -1;
	}
	if (json_type(j, v) != JSON_STRING || (*out = json_str(j, v)) == NULL)
		return -1;
	if ((*out)[0] == '\0') {
		free(*out);
		*out = NULL;
	}
	return 0;
}

static void
wipe_str(char *s)
{
	if (s != NULL)
		buf_wipe_free(s, strlen(s));
}

int
execcred_parse(const char *buf, size_t len, const char *api_version,
    struct cred_value *out, char *why, size_t whysz)
{
	struct json	*j;
	const char	*err;
	char		*kind = NULL, *api = NULL, *tok = NULL, *cert = NULL, *key = NULL;
	char		*exp = NULL, q[128];
	int		 st, rc = -1;
	int64_t		 t;

	if ((j = json_parse(buf, len, &err)) == NULL)
		return fail(why, whysz, "output is not JSON (%s)", err);
	if (json_type(j, 0) != JSON_OBJECT) {
		fail(why, whysz, "output is not a JSON object");
		goto done;
	}
	if (json_dup_keys(j, 0)) {
		fail(why, whysz, "output has a key twice");
		goto done;
	}
	if (opt_str(j, 0, "kind", &kind) != 0 || kind == NULL ||
	    strcmp(kind, "ExecCredential") != 0) {
		fail(why, whysz, "output is not an ExecCredential (kind \"%s\")",
		    kind ? log_sanitize(q, sizeof(q), kind, strlen(kind)) : "");
		goto done;
	}
	if (opt_str(j, 0, "apiVersion", &api) != 0 || api == NULL ||
	    strcmp(api, api_version) != 0) {
		fail(why, whysz, "replied with apiVersion \"%s\" to a request of %s",
		    api ? log_sanitize(q, sizeof(q), api, strlen(api)) : "", api_version);
		goto done;
	}
	st = json_get(j, 0, "status");
	if (json_type(j, st) != JSON_OBJECT) {
		fail(why, whysz, "reply has no status");
		goto done;
	}
	if (json_dup_keys(j, st)) {
		fail(why, whysz, "reply's status has a key twice");
		goto done;
	}
	if (opt_str(j, st, "token", &tok) != 0 ||
	    opt_str(j, st, "clientCertificateData", &cert) != 0 ||
	    opt_str(j, st, "clientKeyData", &key) != 0 ||
	    opt_str(j, st, "expirationTimestamp", &exp) != 0) {
		fail(why, whysz, "reply's status.token, clientCertificateData, clientKeyData "
		    "and expirationTimestamp must be strings");
		goto done;
	}
	if (tok == NULL && cert == NULL && key == NULL) {
		fail(why, whysz, "reply has no credentials (neither status.token nor "
		    "status.clientCertificateData and clientKeyData)");
		goto done;
	}
	if ((cert == NULL) != (key == NULL)) {
		fail(why, whysz, "reply has status.%s but no status.%s",
		    cert ? "clientCertificateData" : "clientKeyData",
		    cert ? "clientKeyData" : "clientCertificateData");
		goto done;
	}
	if (tok != NULL && !text_token_ok(tok)) {
		fail(why, whysz, "reply's status.token holds spaces or control characters");
		goto done;
	}
	if (cert != NULL && (!has_pem(cert) || !has_pem(key))) {
		fail(why, whysz, "reply's status.%s does not hold a PEM block "
		    "(\"-----BEGIN ...\")", has_pem(cert) ? "clientKeyData" :
		    "clientCertificateData");
		goto done;
	}
	out->expires = 0;
	if (exp != NULL) {
		if (timefmt_rfc3339(exp, strlen(exp), &t) != 0) {
			fail(why, whysz, "reply's status.expirationTimestamp \"%s\" is not an "
			    "RFC 3339 time", log_sanitize(q, sizeof(q), exp, strlen(exp)));
			goto done;
		}
		out->expires = t * 1000;
		if (out->expires <= 0)
			out->expires = 1;	/* 1970: expired, not "never" */
	}
	out->token = tok;
	out->cert = (unsigned char *)cert;
	out->cert_len = cert ? strlen(cert) : 0;
	out->key = (unsigned char *)key;
	out->key_len = key ? strlen(key) : 0;
	tok = cert = key = NULL;
	rc = 0;
done:
	wipe_str(tok);
	free(cert);
	wipe_str(key);
	free(kind);
	free(api);
	free(exp);
	json_free(j);
	return rc;
}
