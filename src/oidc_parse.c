/*
 * oidc_parse.c: the pure parts of the oidc auth-provider (oidc.h): URLs, a JWT's exp,
 * the discovery document, the token reply and its errors, form escaping. No I/O, no
 * logging: fuzzed by tests/fuzz/fuzz_oidc.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hostport.h"
#include "json.h"
#include "log.h"
#include "oidc.h"
#include "pem.h"

#define JWT_MAX_PAYLOAD	(64 * 1024)
#define OIDC_MAX_KEYS	1024	/* claims of a JWT, keys of a reply object */

static char *
dupn(const char *s, size_t n)
{
	char	*d;

	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
oidc_url_free(struct oidc_url *u)
{
	free(u->origin);
	free(u->host);
	free(u->port);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

int
oidc_url_parse(const char *url, struct oidc_url *u, const char **why)
{
	struct hostport	 hp;
	const char	*rest, *auth_end, *c;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, "https://", 8) == 0) {
		u->tls = 1;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else {
		*why = "must start with https:// or http://";
		return -1;
	}
	for (c = url; *c != '\0'; c++)
		if (*c <= 0x20 || *c >= 0x7f) {
			*why = "holds spaces or control characters";
			return -1;
		}
	if (strchr(url, '#') != NULL) {
		*why = "has a fragment (\"#\")";
		return -1;
	}
	auth_end = rest + strcspn(rest, "/?");
	if (memchr(rest, '@', (size_t)(auth_end - rest)) != NULL) {
		*why = "has user info (\"@\")";
		return -1;
	}
	if (hostport_split(rest, (size_t)(auth_end - rest), 0, &hp, why) != 0)
		return -1;
	u->origin = dupn(url, (size_t)(auth_end - url));
	u->host = dupn(hp.host, hp.host_len);
	u->port = hp.port != NULL ? dupn(hp.port, hp.port_len) :
	    dupn(u->tls ? "443" : "80", u->tls ? 3 : 2);
	u->path = dupn(auth_end, strlen(auth_end));
	if (u->origin == NULL || u->host == NULL || u->port == NULL || u->path == NULL) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}

/* base64url with or without padding, as JWTs write it (RFC 7515 uses none). */
static unsigned char *
b64url_decode(const char *s, size_t n, size_t *outlen, const char **why)
{
	unsigned char	*out;
	char		*t;
	size_t		 i, m;

	if (n > JWT_MAX_PAYLOAD) {
		*why = "payload too large";
		return NULL;
	}
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1) {
		*why = "payload is not base64url";
		return NULL;
	}
	m = n + (4 - n % 4) % 4;
	if ((t = malloc(m + 1)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+' || c == '/' || c == '=' || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n') {
			free(t);
			*why = "payload is not base64url";
			return NULL;
		}
		t[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	for (; i < m; i++)
		t[i] = '=';
	t[m] = '\0';
	out = b64_decode(t, m, outlen, why);
	free(t);
	if (out == NULL)
		*why = "payload is not base64url";
	return out;
}

/*
 * A JSON number (Go's json.Number) as whole seconds, the fraction cut (towards zero) and
 * the value clamped to +-1e15 (beyond any real exp; ms arithmetic cannot overflow);
 * -1 if not one. Done on the digits, without floating point: the static binary's
 * printf and scanf have none (fmt.h), and strtod alone would bring musl's 8 KiB of it.
 */
#define JSON_SECONDS_MAX	1000000000000000LL	/* 1e15 */

static int
json_seconds(const char *s, size_t n, int64_t *v)
{
	char	 digits[64];
	size_t	 i = 0, nd = 0, k;
	long	 e = 0, frac = 0, whole;
	int	 neg = 0, eneg = 0;
	int64_t	 acc = 0;

	if (n == 0 || n >= sizeof(digits))
		return -1;
	/* JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
	if (s[i] == '-') {
		neg = 1;
		i++;
	}
	if (i >= n || s[i] < '0' || s[i] > '9' || (s[i] == '0' && i + 1 < n &&
	    s[i + 1] >= '0' && s[i + 1] <= '9'))
		return -1;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		digits[nd++] = s[i++];
	if (i < n && s[i] == '.') {
		if (++i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			digits[nd++] = s[i++];
			frac++;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
			i++;
		}
	}
	if (i != n)
		return -1;
	/* The value is digits x 10^(e - frac): its first "whole" digits are the integer part. */
	whole = (long)nd + (eneg ? -e : e) - frac;
	for (k = 0; whole > 0 && acc <= JSON_SECONDS_MAX; k++, whole--)
		acc = acc * 10 + (k < nd ? digits[k] - '0' : 0);
	if (acc > JSON_SECONDS_MAX)
		acc = JSON_SECONDS_MAX;
	*v = neg ? -acc : acc;
	return 0;
}

int
jwt_exp(const char *tok, size_t len, int64_t *exp, const char **why)
{
	const char	*d1, *d2;
	unsigned char	*pl;
	size_t		 pl_len;
	struct json	*j;
	const char	*raw, *jerr;
	size_t		 rlen;
	int		 v, rc = -1;

	*exp = 0;
	if ((d1 = memchr(tok, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL) {
		*why = "not a JWT (three parts separated by '.')";
		return -1;
	}
	if ((pl = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pl_len, why)) == NULL)
		return -1;
	if ((j = json_parse((const char *)pl, pl_len, &jerr)) == NULL) {
		*why = "payload is not JSON";
		goto out;
	}
	if (json_type(j, 0) != JSON_OBJECT) {
		*why = "payload is not a JSON object";
		goto out;
	}
	/* Go's decoder takes the last of two, jsmn's reader the first: neither is right.
	 * The check is quadratic, hence the bound on the number of keys first. */
	if (json_size(j, 0) > OIDC_MAX_KEYS || json_dup_keys(j, 0)) {
		*why = "payload has a claim twice, or too many claims";
		goto out;
	}
	if ((v = json_get(j, 0, "exp")) < 0) {
		rc = 0;
		goto out;
	}
	if (json_type(j, v) == JSON_STRING || json_type(j, v) == JSON_PRIMITIVE) {
		raw = json_raw(j, v, &rlen);
		if ((rlen == 4 && memcmp(raw, "null", 4) == 0) ||
		    json_seconds(raw, rlen, exp) == 0) {
			rc = 0;
			goto out;
		}
	}
	*why = "its exp claim is not a number";
out:
	json_free(j);
	buf_wipe_free(pl, pl_len);
	return rc;
}

static int
is_null(const struct json *j, int i)
{
	size_t		 n;
	const char	*raw;

	if (json_type(j, i) != JSON_PRIMITIVE)
		return 0;
	raw = json_raw(j, i, &n);
	return n == 4 && memcmp(raw, "null", 4) == 0;
}

static struct json *
reply_object(const char *body, size_t len, const char **why)
{
	struct json	*j;
	const char	*jerr;

	if (len > OIDC_MAX_REPLY) {
		*why = "reply too large";
		return NULL;
	}
	if ((j = json_parse(body, len, &jerr)) == NULL) {
		*why = "reply is not JSON";
		return NULL;
	}
	if (json_type(j, 0) != JSON_OBJECT) {
		json_free(j);
		*why = "reply is not a JSON object";
		return NULL;
	}
	if (json_size(j, 0) > OIDC_MAX_KEYS || json_dup_keys(j, 0)) {
		json_free(j);
		*why = "reply has a key twice, or too many keys";
		return NULL;
	}
	return j;
}

int
oidc_discovery_parse(const char *body, size_t len, char **token_endpoint, const char **why)
{
	struct json	*j;
	int		 v;

	*token_endpoint = NULL;
	if ((j = reply_object(body, len, why)) == NULL)
		return -1;
	if ((v = json_get(j, 0, "token_endpoint")) < 0 || json_type(j, v) != JSON_STRING) {
		*why = v < 0 ? "no token_endpoint in the discovery document" :
		    "token_endpoint of the discovery document is not a string";
		json_free(j);
		return -1;
	}
	*token_endpoint = json_str(j, v);
	json_free(j);
	if (*token_endpoint == NULL || (*token_endpoint)[0] == '\0') {
		free(*token_endpoint);
		*token_endpoint = NULL;
		*why = "token_endpoint of the discovery document is empty or badly escaped";
		return -1;
	}
	return 0;
}

/* A token goes into an HTTP header and a YAML scalar: printable ASCII, no spaces. */
static int
token_ok(const char *t)
{
	size_t	n = 0;

	for (; *t != '\0'; t++, n++)
		if (*t <= 0x20 || *t >= 0x7f)
			return 0;
	return n > 0 && n <= OIDC_MAX_TOKEN;
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		buf_wipe_free(s, strlen(s));
}

int
oidc_token_parse(const char *body, size_t len, char **id_token, char **refresh_token,
    const char **why)
{
	struct json	*j;
	int		 v, r;

	*id_token = *refresh_token = NULL;
	if ((j = reply_object(body, len, why)) == NULL)
		return -1;
	v = json_get(j, 0, "id_token");
	r = json_get(j, 0, "refresh_token");
	if (v < 0 || json_type(j, v) != JSON_STRING) {
		*why = v < 0 ? "reply has no id_token (was the scope \"openid\" requested at "
		    "login? does the issuer return id_tokens on refresh?)" :
		    "id_token of the reply is not a string";
		goto fail;
	}
	if (r >= 0 && json_type(j, r) != JSON_STRING && !is_null(j, r)) {
		*why = "refresh_token of the reply is not a string";
		goto fail;
	}
	if ((*id_token = json_str(j, v)) == NULL || !token_ok(*id_token)) {
		*why = "id_token of the reply is empty, too long or holds spaces or control "
		    "characters";
		goto fail;
	}
	if (r >= 0 && json_type(j, r) == JSON_STRING) {
		if ((*refresh_token = json_str(j, r)) == NULL) {
			*why = "refresh_token of the reply is badly escaped";
			goto fail;
		}
		if ((*refresh_token)[0] == '\0') {
			free(*refresh_token);
			*refresh_token = NULL;
		} else if (!token_ok(*refresh_token)) {
			*why = "refresh_token of the reply is too long or holds spaces or "
			    "control characters";
			goto fail;
		}
	}
	json_free(j);
	return 0;
fail:
	json_free(j);
	wipe_free(*id_token);
	wipe_free(*refresh_token);
	*id_token = *refresh_token = NULL;
	return -1;
}

void
oidc_error_text(const char *body, size_t len, char *out, size_t outsz)
{
	struct json	*j;
	const char	*why;
	char		*e = NULL, *d = NULL, se[128], sd[256];
	int		 v;

	out[0] = '\0';
	if (outsz == 0 || (j = reply_object(body, len, &why)) == NULL)
		return;
	if ((v = json_get(j, 0, "error")) >= 0)
		e = json_str(j, v);
	if ((v = json_get(j, 0, "error_description")) >= 0)
		d = json_str(j, v);
	json_free(j);
	if (e != NULL && e[0] != '\0') {
		log_sanitize(se, sizeof(se), e, strlen(e));
		if (d != NULL && d[0] != '\0')
			snprintf(out, outsz, "%s: %s", se,
			    log_sanitize(sd, sizeof(sd), d, strlen(d)));
		else
			snprintf(out, outsz, "%s", se);
	}
	free(e);
	free(d);
}

void
oidc_form_escape(struct buf *b, const char *s)
{
	static const char	hex[] = "0123456789ABCDEF";
	char			e[3];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			buf_add(b, s, 1);
		} else if (c == ' ') {
			buf_add(b, "+", 1);
		} else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			buf_add(b, e, 3);
		}
	}
}
