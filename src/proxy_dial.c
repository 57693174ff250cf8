/*
 * proxy_dial.c: see proxy.h. Opens a tunnel through an HTTP proxy (CONNECT, RFC 9110
 * 9.3.6) or a SOCKS5 proxy (socks5.h) on a net.h socket, every step bounded by the
 * caller's deadline. The tunnel is handed over before the API server has sent a byte
 * (a TLS client speaks first), so any byte after the proxy's reply is an error.
 *
 * Each failure is logged once, here, as "WHERE: proxy SHOWN: what the proxy did".
 * The proxy's user info goes into the request bytes only, which are wiped after use.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "net.h"
#include "proxy.h"
#include "socks5.h"

#define PROXY_REASON_MAX	128	/* of a reason phrase, in messages */

/* RFC 4648 base64 of src[0..n) into out (at least 4 * ((n + 2) / 3) + 1 bytes). */
static void
b64_encode(const unsigned char *src, size_t n, char *out)
{
	static const char	 al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			 i, o = 0;
	uint32_t		 v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		out[o++] = al[v >> 18];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = al[(v >> 6) & 63];
		out[o++] = al[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)src[i] << 16;
		out[o++] = al[v >> 18];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		out[o++] = al[v >> 18];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = al[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

long
proxy_connect_reply(const char *buf, size_t len, int *status, char *reason, size_t rsz,
    const char **why)
{
	struct http_head	 hd;
	long			 n;
	const char		*sp, *eol;

	reason[0] = '\0';
	if ((n = http_head_parse(buf, len, &hd, why)) <= 0)
		return n;
	*status = hd.status;
	/* "HTTP/1.1 407 Proxy Authentication Required\r\n": the reason follows the code. */
	eol = memchr(buf, '\r', (size_t)n);
	sp = memchr(buf, ' ', (size_t)n);
	if (sp != NULL && eol != NULL && eol - sp > 4)
		log_sanitize(reason, rsz, sp + 5, (size_t)(eol - sp - 5));
	return n;
}

/* Records a failed read or write (errno e) while "doing", logs it, keeps errno. */
static int
dial_fail_io(const char *pwhere, int e, const char *doing)
{
	if (e == EINTR) {
		errno = EINTR;
		return -1;
	}
	if (e == ETIMEDOUT)
		log_error("%s: timed out %s (--request-timeout)", pwhere, doing);
	else if (e == 0)
		log_error("%s: closed the connection while %s", pwhere, doing);
	else
		log_error("%s: %s: %s", pwhere, doing, strerror(e));
	errno = e == 0 ? ECONNRESET : e;
	return -1;
}

static int
dial_connect(int fd, const struct proxy *p, const char *host, const char *port,
    int64_t deadline, const char *pwhere)
{
	char		*req = NULL, *buf = NULL, *cred = NULL, *b64 = NULL;
	char		 reason[PROXY_REASON_MAX], hp[600];
	const char	*why;
	size_t		 have = 0, clen = 0, reqlen = 0;
	ssize_t		 r;
	long		 n;
	int		 status = 0, rc = -1, e, v6 = strchr(host, ':') != NULL;

	if (strpbrk(host, "\r\n") != NULL || strpbrk(port, "\r\n") != NULL ||
	    (size_t)snprintf(hp, sizeof(hp), "%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
	    port) >= sizeof(hp)) {
		log_error("%s: cannot ask for a tunnel to that host", pwhere);
		errno = EINVAL;
		return -1;
	}
	if (p->user != NULL) {
		/* RFC 7617: base64 of "user:password". */
		clen = strlen(p->user) + 1 + (p->pass != NULL ? strlen(p->pass) : 0);
		if ((cred = malloc(clen + 1)) == NULL || (b64 = malloc(4 * (clen / 3 + 1) + 1)) ==
		    NULL)
			goto oom;
		snprintf(cred, clen + 1, "%s:%s", p->user, p->pass != NULL ? p->pass : "");
		b64_encode((unsigned char *)cred, clen, b64);
	}
	reqlen = 2 * strlen(hp) + (b64 != NULL ? strlen(b64) : 0) + 128;
	if ((req = malloc(reqlen)) == NULL || (buf = malloc(HTTP_MAX_HEAD)) == NULL)
		goto oom;
	reqlen = (size_t)snprintf(req, reqlen, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s"
	    "User-Agent: carrier-lock\r\n\r\n", hp, hp, b64 != NULL ?
	    "Proxy-Authorization: Basic " : "", b64 != NULL ? b64 : "", b64 != NULL ? "\r\n" : "");
	if (net_write_all(fd, req, reqlen, deadline) != 0) {
		dial_fail_io(pwhere, errno, "sending CONNECT");
		goto done;
	}
	for (;;) {
		n = proxy_connect_reply(buf, have, &status, reason, sizeof(reason), &why);
		if (n < 0) {
			char	sane[80];
			size_t	l = 0;

			while (l < have && buf[l] != '\r' && buf[l] != '\n')
				l++;
			log_error("%s: answered CONNECT with garbage: %s (starts \"%s\")", pwhere,
			    why, log_sanitize(sane, sizeof(sane), buf, l));
			errno = EPROTO;
			goto done;
		}
		if (n > 0)
			break;
		if ((r = net_read(fd, buf + have, HTTP_MAX_HEAD - have, deadline)) <= 0) {
			dial_fail_io(pwhere, r == 0 ? 0 : errno, have == 0 ?
			    "waiting for its reply to CONNECT" : "in the middle of its reply to "
			    "CONNECT");
			goto done;
		}
		have += (size_t)r;
	}
	if (status != 200) {
		e = status == 502 || status == 503 || status == 504 ? ECONNREFUSED : EPROTO;
		log_error("%s: refused CONNECT to %s: %d %s%s", pwhere, hp, status, reason,
		    status != 407 ? "" : p->user != NULL ?
		    " (it did not accept the user info of the proxy URL)" :
		    " (the proxy URL has no user:password@)");
		errno = e;
		goto done;
	}
	if ((size_t)n != have) {
		log_error("%s: sent %zu bytes after its 200 reply to CONNECT, before the API "
		    "server could have spoken", pwhere, have - (size_t)n);
		errno = EPROTO;
		goto done;
	}
	rc = 0;
	goto done;
oom:
	log_error("%s: out of memory", pwhere);
	errno = ENOMEM;
done:
	e = errno;
	if (cred != NULL)
		buf_wipe_free(cred, clen + 1);
	if (b64 != NULL)
		buf_wipe_free(b64, strlen(b64));
	if (req != NULL)
		buf_wipe_free(req, reqlen);
	free(buf);
	errno = e;
	return rc;
}

/* Reads exactly n bytes. 0, or -1 (logged as failing while "doing"). */
static int
read_exact(int fd, unsigned char *b, size_t n, int64_t deadline, const char *pwhere,
    const char *doing)
{
	ssize_t	r;

	while (n > 0) {
		if ((r = net_read(fd, b, n, deadline)) <= 0)
			return dial_fail_io(pwhere, r == 0 ? 0 : errno, doing);
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
dial_socks5(int fd, const struct proxy *p, const char *host, const char *port,
    int64_t deadline, const char *pwhere)
{
	unsigned char	 msg[SOCKS5_MAX_MSG], rep[SOCKS5_MAX_REPLY];
	const char	*why;
	size_t		 n, have = 0;
	long		 got;
	int		 method, code = 0, auth = p->user != NULL;

	n = socks5_greeting(msg, auth);
	if (net_write_all(fd, msg, n, deadline) != 0)
		return dial_fail_io(pwhere, errno, "sending the SOCKS5 greeting");
	if (read_exact(fd, rep, 2, deadline, pwhere, "waiting for its SOCKS5 method choice") != 0)
		return -1;
	if ((method = socks5_method_check(rep, auth, &why)) < 0) {
		log_error("%s: %s", pwhere, why);
		errno = EPROTO;
		return -1;
	}
	if (method == 2) {
		n = socks5_auth_build(msg, p->user, p->pass);
		if (n == 0 || net_write_all(fd, msg, n, deadline) != 0) {
			buf_wipe(msg, sizeof(msg));
			return dial_fail_io(pwhere, n == 0 ? EINVAL : errno,
			    "sending the SOCKS5 user and password");
		}
		buf_wipe(msg, sizeof(msg));
		if (read_exact(fd, rep, 2, deadline, pwhere,
		    "waiting for its SOCKS5 authentication reply") != 0)
			return -1;
		if (socks5_auth_check(rep, &why) != 0) {
			log_error("%s: %s", pwhere, why);
			errno = EPROTO;
			return -1;
		}
	}
	if ((n = socks5_request_build(msg, host, port)) == 0) {
		log_error("%s: cannot ask for a tunnel to \"%s\" (a SOCKS5 name is at most 255 "
		    "bytes)", pwhere, host);
		errno = EINVAL;
		return -1;
	}
	if (net_write_all(fd, msg, n, deadline) != 0)
		return dial_fail_io(pwhere, errno, "sending the SOCKS5 CONNECT request");
	/* One byte at a time: the reply's length shows only as it arrives (<= 262 bytes). */
	while ((got = socks5_reply_parse(rep, have, &code, &why)) == 0) {
		if (read_exact(fd, rep + have, 1, deadline, pwhere, have == 0 ?
		    "waiting for its SOCKS5 CONNECT reply" :
		    "in the middle of its SOCKS5 CONNECT reply") != 0)
			return -1;
		have++;
	}
	if (got < 0) {
		log_error("%s: %s", pwhere, why);
		errno = EPROTO;
		return -1;
	}
	if (code != 0) {
		log_error("%s: SOCKS5 CONNECT to %s port %s failed: %s (reply code %d)", pwhere,
		    host, port, socks5_rep_str(code), code);
		errno = code >= 3 && code <= 5 ? ECONNREFUSED : EPROTO;
		return -1;
	}
	return 0;
}

int
proxy_dial(const struct proxy *p, const char *host, const char *port, int64_t deadline,
    const char *where)
{
	char	 pwhere[1400];
	int	 fd, e;
	int64_t	 start = clock_ms();

	snprintf(pwhere, sizeof(pwhere), "%s: proxy %s", where, p->shown);
	if (p->kind == PROXY_HTTPS) {
		/* proxy_select() and kcfg refuse these; plain CONNECT to one would be wrong. */
		log_error("%s: https:// proxies are not supported", pwhere);
		errno = EPROTO;
		return -1;
	}
	if ((fd = net_connect(p->host, p->port, deadline, pwhere)) < 0)
		return -1;
	if ((p->kind == PROXY_SOCKS5 ? dial_socks5(fd, p, host, port, deadline, pwhere) :
	    dial_connect(fd, p, host, port, deadline, pwhere)) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	log_verbose("%s: tunnel open (%lld ms)", pwhere, (long long)(clock_ms() - start));
	return fd;
}
