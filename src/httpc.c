/*
 * httpc.c: see httpc.h. One connection per client, reused while the server keeps it.
 *
 * Retry rule: a request is sent again (once, on a new connection) only when it is a
 * GET, the connection was reused from an earlier reply, and not one byte of the new
 * reply arrived: the server closed the idle connection as we wrote. Other requests are
 * not resent (the server may have acted on them); their error goes to the caller.
 * Before a reused connection is written to, it is polled: anything readable there
 * (EOF, a TLS alert, stray bytes) means it is no use, and it is replaced up front.
 *
 * Errors are logged here, once, as "<url>: <METHOD> <path>: <what>", except for what
 * net_connect() and tls_conn_new() already logged (they get the same prefix as their
 * "where") and for interruption by a signal (errno EINTR), which the caller reports.
 * Neither the bearer token nor the request bytes are ever logged.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "http.h"
#include "httpc.h"
#include "log.h"
#include "net.h"
#include "proxy.h"
#include "tls.h"

#define HTTPC_DEFAULT_TIMEOUT_MS	30000
#define HTTPC_RBUF			HTTP_MAX_HEAD	/* raw bytes; a head must fit */
#define HTTPC_BODY_START		(16 * 1024)	/* first size of a body of unknown length */
#define HTTPC_LINE_START		(64 * 1024)	/* first size of a stream's line buffer */

enum body_mode {
	BODY_NONE,	/* no body (204, 304, 1xx) */
	BODY_LENGTH,	/* Content-Length */
	BODY_CHUNKED,
	BODY_CLOSE,	/* until the server closes */
};

struct httpc {
	char			*url, *prefix, *host, *port, *hosthdr, *tls_name, *bearer;
	char			*basic, *ctype;
	int			 tls;
	struct tls_ctx		*tls_ctx;
	struct proxy		*proxy;		/* or NULL */
	int64_t			 timeout_ms;
	int64_t			 limit;		/* no request runs past it (clock_ms()) */

	int			 fd;
	struct tls_conn		*tc;
	int			 reused;	/* a reply was completed on fd */

	char			*rbuf;		/* raw bytes read, [rpos, rlen) unconsumed */
	size_t			 rpos, rlen;

	enum body_mode		 mode;		/* framing of the reply being read */
	uint64_t		 left;		/* BODY_LENGTH: bytes to come */
	struct http_chunked	 ck;
	int			 ended;		/* body complete */
	int			 keep;		/* connection reusable after the body */

	int			 streaming;	/* httpc_stream_open() succeeded with 200 */
	char			*spath;		/* its path, for messages */
	struct buf		 lb;		/* decoded stream bytes, [lstart, lb.len) unread */
	size_t			 lstart, lscan;	/* lscan: no newline before it */

	char			 err[512];	/* what failed, for the one log line */
	int			 err_logged;	/* already logged below us, or EINTR */
};

/* Copies s, or returns NULL in *ok=0 on failure; NULL in, NULL out. */
static char *
httpc_strdup(const char *s, int *ok)
{
	char	*d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = 0;
	return d;
}

struct httpc *
httpc_new(const struct httpc_target *t)
{
	struct httpc	*h;
	int		 ok = 1;
	size_t		 n;
	const char	*defport = t->tls ? "443" : "80";
	const char	*port = t->port != NULL ? t->port : defport;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->fd = -1;
	h->tls = t->tls;
	h->tls_ctx = t->tls_ctx;
	h->timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;
	h->limit = CLOCK_NEVER;
	/* One byte over the longest line: room to notice that the limit was passed. */
	h->lb.max = HTTP_MAX_LINE + 1;
	h->url = httpc_strdup(t->url, &ok);
	h->prefix = httpc_strdup(t->prefix != NULL ? t->prefix : "", &ok);
	h->host = httpc_strdup(t->host, &ok);
	h->port = httpc_strdup(port, &ok);
	h->tls_name = httpc_strdup(t->tls_name != NULL ? t->tls_name : t->host, &ok);
	h->bearer = httpc_strdup(t->bearer, &ok);
	h->basic = httpc_strdup(t->basic, &ok);
	h->ctype = httpc_strdup(t->ctype, &ok);
	h->rbuf = malloc(HTTPC_RBUF);
	if (t->proxy != NULL && (h->proxy = proxy_dup(t->proxy)) == NULL)
		ok = 0;
	/* Host: an IPv6 literal goes in brackets; the scheme's default port is left out. */
	n = strlen(t->host) + strlen(port) + 4;
	if ((h->hosthdr = malloc(n)) != NULL) {
		int v6 = strchr(t->host, ':') != NULL;

		snprintf(h->hosthdr, n, "%s%s%s%s%s", v6 ? "[" : "", t->host, v6 ? "]" : "",
		    strcmp(port, defport) == 0 ? "" : ":",
		    strcmp(port, defport) == 0 ? "" : port);
	}
	if (!ok || h->url == NULL || h->rbuf == NULL || h->hosthdr == NULL) {
		httpc_free(h);
		return NULL;
	}
	return h;
}

static void
httpc_drop(struct httpc *h)
{
	if (h->tc != NULL)
		tls_conn_free(h->tc);
	h->tc = NULL;
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->reused = 0;
	h->rpos = h->rlen = 0;
	h->streaming = 0;
	free(h->spath);
	h->spath = NULL;
}

void
httpc_set_limit(struct httpc *h, int64_t limit)
{
	h->limit = limit;
}

int
httpc_set_bearer(struct httpc *h, const char *bearer)
{
	if (h->bearer != NULL)
		buf_wipe_free(h->bearer, strlen(h->bearer));
	h->bearer = NULL;
	if (bearer != NULL && (h->bearer = strdup(bearer)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	return 0;
}

void
httpc_set_tls(struct httpc *h, struct tls_ctx *tls)
{
	httpc_drop(h);
	h->tls_ctx = tls;
}

void
httpc_free(struct httpc *h)
{
	if (h == NULL)
		return;
	httpc_drop(h);
	free(h->url);
	free(h->prefix);
	free(h->host);
	free(h->port);
	free(h->hosthdr);
	free(h->tls_name);
	proxy_free(h->proxy);
	if (h->bearer != NULL)
		buf_wipe_free(h->bearer, strlen(h->bearer));
	if (h->basic != NULL)
		buf_wipe_free(h->basic, strlen(h->basic));
	free(h->ctype);
	free(h->rbuf);
	buf_free(&h->lb);
	free(h);
}

static int
httpc_fail(struct httpc *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
httpc_fail(struct httpc *h, const char *fmt, ...)
{
	va_list	ap;
	int	e = errno;	/* callers set errno first: keep it */

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static void
httpc_fmt_ms(char *buf, size_t sz, int64_t ms)
{
	if (ms % 1000 == 0)
		snprintf(buf, sz, "%llds", (long long)(ms / 1000));
	else
		snprintf(buf, sz, "%lldms", (long long)ms);
}

/*
 * Records an I/O failure (errno e) while doing "read" or "write". A TLS failure (EPROTO)
 * is told by BearSSL's error or alert name, as tls_conn_error() gives it.
 */
static int
httpc_fail_io(struct httpc *h, int e, const char *doing)
{
	char	t[32];

	if (e == EINTR) {
		h->err_logged = 1;
		return -1;
	}
	if (e == ETIMEDOUT) {
		httpc_fmt_ms(t, sizeof(t), h->timeout_ms);
		return httpc_fail(h, "%s timed out after %s", doing, t);
	}
	return httpc_fail(h, "%s failed: %s", doing, e == EPROTO && h->tc != NULL &&
	    tls_conn_error(h->tc)[0] != '\0' ? tls_conn_error(h->tc) : strerror(e));
}

static void
httpc_report(struct httpc *h, const char *method, const char *path)
{
	char	sane[512];

	if (!h->err_logged && h->err[0] != '\0')
		log_error("%s: %s %s: %s", h->url, method,
		    log_sanitize(sane, sizeof(sane), path, strlen(path)), h->err);
	h->err[0] = '\0';
	h->err_logged = 0;
}

static ssize_t
httpc_read(struct httpc *h, void *buf, size_t len, int64_t deadline)
{
	return h->tc != NULL ? tls_read(h->tc, buf, len, deadline) :
	    net_read(h->fd, buf, len, deadline);
}

static int
httpc_write(struct httpc *h, const void *buf, size_t len, int64_t deadline)
{
	return h->tc != NULL ? tls_write_all(h->tc, buf, len, deadline) :
	    net_write_all(h->fd, buf, len, deadline);
}

/* An idle kept-alive connection with anything to read is closed or broken: drop it. */
static void
httpc_drop_if_stale(struct httpc *h)
{
	struct pollfd	pfd;

	if (h->fd < 0)
		return;
	pfd.fd = h->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 0)
		httpc_drop(h);
}

static int
httpc_connect(struct httpc *h, const char *where, int64_t deadline)
{
	/* Through a proxy, TLS still checks and names (SNI) the API server, not the proxy. */
	h->fd = h->proxy != NULL ? proxy_dial(h->proxy, h->host, h->port, deadline, where) :
	    net_connect(h->host, h->port, deadline, where);
	if (h->fd < 0) {
		h->err_logged = 1;
		return -1;
	}
	if (h->tls) {
		h->tc = tls_conn_new(h->tls_ctx, h->fd, h->tls_name, deadline, where);
		if (h->tc == NULL) {
			int e = errno;

			close(h->fd);
			h->fd = -1;
			h->err_logged = 1;
			errno = e;
			return -1;
		}
	}
	return 0;
}

/*
 * Reads a final response head into hd (1xx interim heads skipped). Returns 0, or -1
 * (h->err set, errno set for I/O). *got counts the reply bytes that arrived, so the
 * caller can tell "closed without replying" from a failure mid-reply.
 */
static int
httpc_read_head(struct httpc *h, struct http_head *hd, int64_t deadline, size_t *got)
{
	const char	*perr;
	long		 n;
	ssize_t		 r;
	char		 sane[80];

	for (;;) {
		n = http_head_parse(h->rbuf + h->rpos, h->rlen - h->rpos, hd, &perr);
		if (n < 0) {
			const char *p = h->rbuf + h->rpos, *eol = memchr(p, '\n', h->rlen - h->rpos);

			/* Its first line, sanitised, says what answered (a proxy, a TLS port...). */
			n = eol != NULL ? eol - p : (long)(h->rlen - h->rpos);
			if (n > 0 && p[n - 1] == '\r')
				n--;
			log_sanitize(sane, sizeof(sane), p, (size_t)n);
			errno = EPROTO;
			return httpc_fail(h, "malformed response: %s (starts \"%s\")", perr, sane);
		}
		if (n > 0) {
			h->rpos += (size_t)n;
			if (hd->status == 101) {
				errno = EPROTO;
				return httpc_fail(h, "unexpected 101 Switching Protocols");
			}
			if (hd->status >= 200)
				return 0;
			continue;	/* interim 1xx: the real head follows */
		}
		if (h->rpos > 0) {
			memmove(h->rbuf, h->rbuf + h->rpos, h->rlen - h->rpos);
			h->rlen -= h->rpos;
			h->rpos = 0;
		}
		r = httpc_read(h, h->rbuf + h->rlen, HTTPC_RBUF - h->rlen, deadline);
		if (r == 0) {
			errno = ECONNRESET;
			return httpc_fail(h, *got == 0 ?
			    "server closed the connection without replying" :
			    "connection closed in the middle of the response head");
		}
		if (r < 0)
			return httpc_fail_io(h, errno, "read");
		*got += (size_t)r;
		h->rlen += (size_t)r;
	}
}

/* Sets the body framing from the head. Returns 0 or -1 (h->err set). */
static int
httpc_body_begin(struct httpc *h, const struct http_head *hd, const char *method)
{
	memset(&h->ck, 0, sizeof(h->ck));
	h->ended = 0;
	h->left = 0;
	h->keep = !hd->close;
	if (strcmp(method, "HEAD") == 0 || hd->status == 204 || hd->status == 304) {
		h->mode = BODY_NONE;
		h->ended = 1;
	} else if (hd->chunked) {
		h->mode = BODY_CHUNKED;
	} else if (hd->has_length) {
		if (hd->length > HTTP_MAX_BODY) {
			errno = EFBIG;
			return httpc_fail(h, "response body exceeds %d MiB (Content-Length %llu)",
			    HTTP_MAX_BODY / (1024 * 1024), (unsigned long long)hd->length);
		}
		h->mode = BODY_LENGTH;
		h->left = hd->length;
		h->ended = hd->length == 0;
	} else {
		h->mode = BODY_CLOSE;
		h->keep = 0;
	}
	return 0;
}

/* What httpc_body_next() produced. */
enum body_next {
	NEXT_BYTES,	/* *n > 0 bytes */
	NEXT_END,	/* the end of the body */
	NEXT_BAD,	/* a protocol error (h->err set) */
	NEXT_IO,	/* an I/O error or the deadline (errno set; h->err not set, so a stream
			   can treat a deadline as "no line yet") */
};

/* Produces the next decoded body bytes into out[0..cap), cap > 0. */
static enum body_next
httpc_body_next(struct httpc *h, char *out, size_t cap, size_t *n, int64_t deadline)
{
	const char	*perr;
	size_t		 avail, k;
	ssize_t		 r;
	long		 used;

	*n = 0;
	for (;;) {
		if (h->ended)
			return NEXT_END;
		avail = h->rlen - h->rpos;
		if (avail > 0) {
			switch (h->mode) {
			case BODY_CHUNKED:
				used = http_chunked_feed(&h->ck, h->rbuf + h->rpos, avail, out,
				    cap, &k, &perr);
				if (used < 0) {
					errno = EPROTO;
					httpc_fail(h, "%s", perr);
					return NEXT_BAD;
				}
				h->rpos += (size_t)used;
				h->ended = h->ck.done;
				break;
			case BODY_LENGTH:
				k = avail < cap ? avail : cap;
				if (k > h->left)
					k = (size_t)h->left;
				memcpy(out, h->rbuf + h->rpos, k);
				h->rpos += k;
				h->left -= k;
				h->ended = h->left == 0;
				break;
			default:
				k = avail < cap ? avail : cap;
				memcpy(out, h->rbuf + h->rpos, k);
				h->rpos += k;
				break;
			}
			if (k > 0) {
				*n = k;
				return NEXT_BYTES;
			}
			if (h->ended || h->rpos < h->rlen)
				continue;
		}
		h->rpos = h->rlen = 0;
		r = httpc_read(h, h->rbuf, HTTPC_RBUF, deadline);
		if (r < 0)
			return NEXT_IO;
		if (r == 0) {
			if (h->mode == BODY_CLOSE) {
				h->ended = 1;
				return NEXT_END;
			}
			errno = ECONNRESET;
			httpc_fail(h, "connection closed before the end of the response body");
			return NEXT_BAD;
		}
		h->rlen = (size_t)r;
	}
}

/* Reads the rest of the body into r->body (NUL-terminated). Returns 0 or -1 (h->err set). */
static int
httpc_body_all(struct httpc *h, struct httpc_reply *r, int64_t deadline)
{
	/* One byte over the limit is room to notice that the limit was passed. */
	struct buf	 b = { .max = HTTP_MAX_BODY + 1 };
	size_t		 n;
	enum body_next	 rc;
	int		 e;

	if (buf_reserve(&b, h->mode == BODY_LENGTH ? (size_t)h->left : HTTPC_BODY_START) != 0)
		goto fail;
	for (;;) {
		if (b.len == b.cap && !h->ended && buf_reserve(&b, 1) != 0)
			goto fail;
		rc = httpc_body_next(h, b.p + b.len, b.cap - b.len, &n, deadline);
		if (rc == NEXT_END)
			break;
		if (rc != NEXT_BYTES) {
			e = errno;
			buf_free(&b);
			if (rc == NEXT_IO)
				return httpc_fail_io(h, e, "read");
			errno = e;
			return -1;
		}
		b.len += n;
	}
	r->body = buf_take(&b, &r->len);
	return 0;
fail:
	e = errno;
	buf_free(&b);
	errno = e;
	if (e == EFBIG)
		return httpc_fail(h, "response body exceeds %d MiB", HTTP_MAX_BODY / (1024 * 1024));
	return httpc_fail(h, "out of memory");
}

/*
 * One exchange: connect if needed, send, read the head, and (unless stream and 200)
 * the body. Returns 0 or -1 (logged unless EINTR).
 */
static int
httpc_exchange(struct httpc *h, const char *method, const char *path, const char *body,
    size_t bodylen, struct httpc_reply *r, int stream)
{
	struct http_head	 hd;
	char			 where[1024], sane[512];
	char			*req, *full = NULL;
	size_t			 reqlen, got;
	int64_t			 start = clock_ms(), deadline;
	int			 attempt, reused, rc = -1, e = 0;

	memset(r, 0, sizeof(*r));
	if (h->streaming)
		httpc_drop(h);
	h->err[0] = '\0';
	h->err_logged = 0;
	deadline = clock_deadline(h->timeout_ms);
	if (h->limit < deadline)
		deadline = h->limit;
	snprintf(where, sizeof(where), "%s: %s %s", h->url, method,
	    log_sanitize(sane, sizeof(sane), path, strlen(path)));
	if (h->prefix[0] != '\0') {
		size_t	pl = strlen(h->prefix), ql = strlen(path);

		if (ql >= SIZE_MAX - pl || (full = malloc(pl + ql + 1)) == NULL) {
			log_error("%s: out of memory", where);
			errno = ENOMEM;
			return -1;
		}
		memcpy(full, h->prefix, pl);
		memcpy(full + pl, path, ql + 1);
	}
	req = http_request_build_auth(method, h->hosthdr, full != NULL ? full : path,
	    h->basic ? "Basic" : "Bearer", h->basic ? h->basic : h->bearer, body == NULL ?
	    NULL : h->ctype ? h->ctype : "application/json", body, bodylen, &reqlen);
	free(full);
	if (req == NULL) {
		log_error("%s: cannot build request (control character in a field, or too large)",
		    where);
		errno = EINVAL;
		return -1;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		int	idem = strcmp(method, "GET") == 0;

		if (h->reused)
			httpc_drop_if_stale(h);
		reused = h->fd >= 0;
		got = 0;
		if (!reused && httpc_connect(h, where, deadline) != 0) {
			e = errno;
			break;
		}
		if (httpc_write(h, req, reqlen, deadline) != 0) {
			e = errno;
			if (reused && idem && attempt == 0 && e != EINTR && e != ETIMEDOUT) {
				httpc_drop(h);
				continue;
			}
			httpc_fail_io(h, e, "write");
			break;
		}
		if (httpc_read_head(h, &hd, deadline, &got) != 0) {
			e = errno;
			if (reused && idem && attempt == 0 && got == 0 &&
			    (e == ECONNRESET || e == EPIPE)) {
				log_verbose("%s: kept-alive connection closed by the server; "
				    "sending again", where);
				h->err[0] = '\0';
				httpc_drop(h);
				continue;
			}
			if (reused && !idem && got == 0 && (e == ECONNRESET || e == EPIPE)) {
				size_t	l = strlen(h->err);

				snprintf(h->err + l, sizeof(h->err) - l, " on a kept-alive "
				    "connection (not sent again: %s is not idempotent)", method);
				errno = e;
			}
			break;
		}
		if (httpc_body_begin(h, &hd, method) != 0) {
			e = errno;
			break;
		}
		r->status = hd.status;
		r->retry_after = hd.retry_after;
		r->date = hd.date;
		if (stream && hd.status == 200) {
			h->streaming = 1;
			rc = 0;
			break;
		}
		if (httpc_body_all(h, r, deadline) != 0) {
			e = errno;
			break;
		}
		/* No pipelining: bytes after the reply mean the framing is not what we think. */
		if (h->keep && h->rpos == h->rlen) {
			h->reused = 1;
			h->rpos = h->rlen = 0;
		} else
			httpc_drop(h);
		rc = 0;
		break;
	}
	buf_wipe_free(req, reqlen);
	if (rc != 0) {
		httpc_drop(h);
		httpc_report(h, method, path);
		r->status = 0;
		errno = e != 0 ? e : EIO;
		return -1;
	}
	log_verbose("%s %s%s: %d (%lld ms)", method, h->url, sane, r->status,
	    (long long)(clock_ms() - start));
	return 0;
}

int
httpc_do(struct httpc *h, const char *method, const char *path, const char *body,
    size_t bodylen, struct httpc_reply *r)
{
	return httpc_exchange(h, method, path, body, bodylen, r, 0);
}

int
httpc_stream_open(struct httpc *h, const char *path, struct httpc_reply *r)
{
	if (httpc_exchange(h, "GET", path, NULL, 0, r, 1) != 0)
		return -1;
	if (!h->streaming)
		return 0;
	if ((h->spath = strdup(path)) == NULL) {
		httpc_drop(h);
		log_error("%s: GET %s: out of memory", h->url, path);
		errno = ENOMEM;
		return -1;
	}
	h->lb.len = h->lstart = h->lscan = 0;
	return 0;
}

/* Logs a stream failure and ends the stream. */
static enum httpc_line
httpc_stream_fail(struct httpc *h)
{
	httpc_report(h, "GET", h->spath != NULL ? h->spath : "(stream)");
	httpc_drop(h);
	return HTTPC_LINE_FAILED;
}

enum httpc_line
httpc_stream_line(struct httpc *h, char **line, size_t *len, int64_t deadline)
{
	struct buf	*b = &h->lb;
	char		*nl;
	size_t		 n;
	enum body_next	 rc;

	*line = NULL;
	*len = 0;
	if (!h->streaming) {
		errno = EINVAL;
		return HTTPC_LINE_FAILED;
	}
	h->err[0] = '\0';
	h->err_logged = 0;
	for (;;) {
		nl = b->len > h->lscan ? memchr(b->p + h->lscan, '\n', b->len - h->lscan) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			*line = b->p + h->lstart;
			*len = (size_t)(nl - *line);
			h->lstart = h->lscan = (size_t)(nl - b->p) + 1;
			return HTTPC_LINE;
		}
		h->lscan = b->len;
		if (b->len - h->lstart > HTTP_MAX_LINE) {
			httpc_fail(h, "watch stream line exceeds %d MiB",
			    HTTP_MAX_LINE / (1024 * 1024));
			return httpc_stream_fail(h);
		}
		if (h->ended) {
			if (b->len > h->lstart) {
				httpc_fail(h, "stream ended in the middle of a line");
				return httpc_stream_fail(h);
			}
			httpc_drop(h);
			return HTTPC_LINE_END;
		}
		if (h->lstart > 0) {
			memmove(b->p, b->p + h->lstart, b->len - h->lstart);
			b->len -= h->lstart;
			h->lscan -= h->lstart;
			h->lstart = 0;
		}
		/* The line fits (checked above): growing fails only for want of memory. */
		if (b->len == b->cap && buf_reserve(b, b->cap == 0 ? HTTPC_LINE_START : 1) != 0) {
			buf_free(b);
			httpc_fail(h, "out of memory");
			return httpc_stream_fail(h);
		}
		rc = httpc_body_next(h, b->p + b->len, b->cap - b->len, &n, deadline);
		if (rc == NEXT_IO) {
			if (errno == ETIMEDOUT)
				return HTTPC_LINE_DEADLINE;
			if (errno == EINTR)
				return HTTPC_LINE_FAILED;
			httpc_fail_io(h, errno, "read");
			return httpc_stream_fail(h);
		}
		if (rc == NEXT_BAD)
			return httpc_stream_fail(h);
		b->len += n;
	}
}

void
httpc_stream_close(struct httpc *h)
{
	httpc_drop(h);
}
