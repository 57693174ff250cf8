/*
 * proxy.c: see proxy.h. Parsing proxy URLs and choosing the proxy; the dialing is in
 * proxy_dial.c and the SOCKS5 codec in socks5.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hostport.h"
#include "log.h"
#include "noproxy.h"
#include "proxy.h"

static const struct {
	const char	*scheme;
	enum proxy_kind	 kind;
	const char	*port;
} proxy_schemes[] = {
	{ "http", PROXY_HTTP, "80" },
	{ "https", PROXY_HTTPS, "443" },
	{ "socks5", PROXY_SOCKS5, "1080" },
	{ "socks5h", PROXY_SOCKS5, "1080" },
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decodes s[0..n) into a new string. Returns NULL with *why set: a bad escape,
 * a control byte, NUL, or more than PROXY_MAX_CRED bytes.
 */
static char *
pct_decode(const char *s, size_t n, const char **why)
{
	char	*d;
	size_t	 i, o = 0;
	int	 hi, lo;

	if ((d = malloc(n + 1)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0) {
				*why = "bad %-escape in the user info";
				goto fail;
			}
			c = (unsigned char)(hi * 16 + lo);
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			*why = "the user info holds a space or control character (escape it as %XX)";
			goto fail;
		}
		if (c == '\0' || c == '\r' || c == '\n') {
			*why = "the user info holds an escaped NUL, CR or LF";
			goto fail;
		}
		d[o++] = (char)c;
	}
	d[o] = '\0';
	if (o > PROXY_MAX_CRED) {
		*why = "user name or password longer than 255 bytes";
		goto fail;
	}
	return d;
fail:
	buf_wipe_free(d, n + 1);
	return NULL;
}

static char *
dupn(const char *s, size_t n, const char **why)
{
	char	*d = malloc(n + 1);

	if (d == NULL) {
		*why = "out of memory";
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int
proxy_parse(const char *url, int lenient, struct proxy *p, const char **why)
{
	struct hostport	 hp;
	const char	*rest, *auth_end, *at = NULL, *h, *q;
	size_t		 i, n, sl = 0;
	int		 si = -1;

	if (strlen(url) > PROXY_MAX_URL) {
		*why = "longer than 2048 bytes";
		return -1;
	}
	if ((q = strstr(url, "://")) == NULL) {
		if (!lenient) {
			*why = "has no scheme (http://, socks5://)";
			return -1;
		}
		si = 0;
		rest = url;
	} else {
		sl = (size_t)(q - url);
		for (i = 0; i < sizeof(proxy_schemes) / sizeof(proxy_schemes[0]); i++)
			if (strlen(proxy_schemes[i].scheme) == sl &&
			    strncasecmp(url, proxy_schemes[i].scheme, sl) == 0)
				si = (int)i;
		if (si < 0) {
			*why = "scheme must be http://, https://, socks5:// or socks5h://";
			return -1;
		}
		rest = q + 3;
	}
	p->kind = proxy_schemes[si].kind;
	auth_end = rest + strcspn(rest, "/?#");
	if (*auth_end == '?' || *auth_end == '#' || (*auth_end == '/' && auth_end[1] != '\0')) {
		*why = "has a path, query or fragment (a proxy URL is scheme://[user:password@]host[:port])";
		return -1;
	}
	for (h = rest; h < auth_end; h++)
		if (*h == '@')
			at = h;
	if (at != NULL) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));
		const char *uend = colon != NULL ? colon : at;

		if ((p->user = pct_decode(rest, (size_t)(uend - rest), why)) == NULL)
			return -1;
		if (colon != NULL &&
		    (p->pass = pct_decode(colon + 1, (size_t)(at - colon - 1), why)) == NULL)
			return -1;
		if (p->user[0] == '\0') {
			*why = "user info has an empty user name";
			return -1;
		}
		rest = at + 1;
	}
	if (hostport_split(rest, (size_t)(auth_end - rest), HOSTPORT_EMPTY_PORT, &hp, why) != 0)
		return -1;
	if (hp.port == NULL) {
		hp.port = proxy_schemes[si].port;
		hp.port_len = strlen(hp.port);
	}
	if ((p->host = dupn(hp.host, hp.host_len, why)) == NULL ||
	    (p->port = dupn(hp.port, hp.port_len, why)) == NULL)
		return -1;
	n = strlen(proxy_schemes[si].scheme) + hp.host_len + hp.port_len + 8;
	if ((p->shown = malloc(n)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	snprintf(p->shown, n, "%s://%s%s%s:%s", proxy_schemes[si].scheme,
	    hp.bracketed ? "[" : "", p->host, hp.bracketed ? "]" : "", p->port);
	return 0;
}

void
proxy_clear(struct proxy *p)
{
	if (p->user != NULL)
		buf_wipe_free(p->user, strlen(p->user));
	if (p->pass != NULL)
		buf_wipe_free(p->pass, strlen(p->pass));
	free(p->host);
	free(p->port);
	free(p->shown);
	memset(p, 0, sizeof(*p));
}

void
proxy_free(struct proxy *p)
{
	if (p == NULL)
		return;
	proxy_clear(p);
	free(p);
}

const char *
proxy_redact(const char *text, char *buf, size_t n)
{
	const char	*q = strstr(text, "://"), *start, *end, *at = NULL, *s;
	size_t		 pre;
	char		 tmp[PROXY_MAX_URL + 1];

	/* The last '@' anywhere: an unescaped '/' or '#' in a password must not show it. */
	start = q != NULL ? q + 3 : text;
	end = start + strlen(start);
	for (s = start; s < end; s++)
		if (*s == '@')
			at = s;
	pre = (size_t)(start - text);
	if (at == NULL || pre + strlen(at + 1) >= sizeof(tmp))
		return log_sanitize(buf, n, at == NULL ? text : "(a proxy URL with user info)",
		    strlen(at == NULL ? text : "(a proxy URL with user info)"));
	memcpy(tmp, text, pre);
	snprintf(tmp + pre, sizeof(tmp) - pre, "%s", at + 1);
	return log_sanitize(buf, n, tmp, strlen(tmp));
}

struct proxy *
proxy_dup(const struct proxy *p)
{
	struct proxy	*d;
	int		 ok;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_error("out of memory");
		return NULL;
	}
	d->kind = p->kind;
	d->host = strdup(p->host);
	d->port = strdup(p->port);
	d->shown = strdup(p->shown);
	d->user = p->user != NULL ? strdup(p->user) : NULL;
	d->pass = p->pass != NULL ? strdup(p->pass) : NULL;
	ok = d->host != NULL && d->port != NULL && d->shown != NULL &&
	    (p->user == NULL || d->user != NULL) && (p->pass == NULL || d->pass != NULL);
	if (!ok) {
		proxy_free(d);
		log_error("out of memory");
		return NULL;
	}
	return d;
}

/* Go's getEnvAny: the first of the names that is set and not empty, else NULL. */
static const char *
env_any(const char *upper, const char *lower, const char **name)
{
	const char	*v;

	if ((v = getenv(upper)) != NULL && v[0] != '\0') {
		*name = upper;
		return v;
	}
	if ((v = getenv(lower)) != NULL && v[0] != '\0') {
		*name = lower;
		return v;
	}
	return NULL;
}

int
proxy_select(const char *proxy_url, const char *scheme, const char *host,
    const char *port, struct proxy **out)
{
	struct proxy	*p;
	const char	*v, *name = NULL, *np_name = NULL, *np, *why;
	int		 https = strcmp(scheme, "https") == 0;
	char		 shown[512], what[64];

	*out = NULL;
	if (proxy_url != NULL)
		v = proxy_url;
	else if ((v = https ? env_any("HTTPS_PROXY", "https_proxy", &name) :
	    env_any("HTTP_PROXY", "http_proxy", &name)) == NULL)
		return 0;
	if (proxy_url == NULL) {
		np = env_any("NO_PROXY", "no_proxy", &np_name);
		if (noproxy_bypass(np, host, port)) {
			log_verbose("%s://%s:%s: not through the proxy of %s (%s)", scheme, host,
			    port, name, np != NULL && !noproxy_bypass(NULL, host, port) ?
			    np_name : "loopback is never proxied");
			return 0;
		}
	}
	if (proxy_url == NULL)
		snprintf(what, sizeof(what), "environment variable %s", name);
	else
		snprintf(what, sizeof(what), "the cluster's proxy-url");
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (proxy_parse(v, proxy_url == NULL, p, &why) != 0) {
		log_error("%s: bad proxy URL \"%s\": %s", what,
		    proxy_redact(v, shown, sizeof(shown)), why);
		proxy_free(p);
		return -1;
	}
	if (p->kind == PROXY_HTTPS) {
		log_error("%s: proxy %s: https:// proxies (TLS to the proxy) are not "
		    "supported; use an http:// or socks5:// proxy", what, p->shown);
		proxy_free(p);
		return -1;
	}
	log_verbose("%s://%s:%s: through proxy %s (%s)", scheme, host, port, p->shown, what);
	*out = p;
	return 0;
}
