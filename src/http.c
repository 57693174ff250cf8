/*
 * http.c: see http.h. The HTTP/1.1 response codec, strict by design: carrier-lock
 * talks to one kind of server (kube-apiserver, Go's net/http), so anything outside
 * the narrow, well-formed subset is refused rather than guessed at.
 *
 * Decisions beyond RFC 9112's MUSTs (tests/data/http/ holds a case for each):
 *  - Lines end in CRLF only. A bare LF is an error, as is a bare CR.
 *  - A duplicate Content-Length is refused even when both values are equal, and so is
 *    a list value ("5, 5"): Go never sends either, and a proxy that does is suspect.
 *  - Transfer-Encoding must be exactly "chunked" (case-insensitive), once, and only
 *    in an HTTP/1.1 response.
 *  - Header values must not hold control bytes other than HTAB (NUL, CR and LF
 *    included); obs-text (0x80-0xff) is allowed.
 *  - Retry-After is read in its delta-seconds form only, capped at HTTP_RETRY_MAX;
 *    the HTTP-date form or garbage is ignored (0), not an error;
 *  - Date is read in IMF-fixdate form only (timefmt_http), for lease expiry by the
 *    server's own clock; any other form is ignored (0), not an error.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "text.h"
#include "timefmt.h"
#include "version.h"


#define HTTP_RETRY_MAX		86400		/* cap for Retry-After, seconds */
#define HTTP_MAX_CHUNK_LINE	1024		/* chunk-size line or one trailer line */
#define HTTP_MAX_TRAILERS	HTTP_MAX_HEAD	/* all trailer lines together */

static int
http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field-value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text. */
static int
http_is_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
http_is_hex(unsigned char c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = c - '0';
	else if (c >= 'a' && c <= 'f')
		*v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		*v = c - 'A' + 10;
	else
		return 0;
	return 1;
}

/* Compares s[0..len) with the lowercase NUL-terminated word, ignoring case. */
static int
http_ieq(const char *s, size_t len, const char *word)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (word[i] == '\0')
			return 0;
		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c != (unsigned char)word[i])
			return 0;
	}
	return word[len] == '\0';
}

/* "HTTP/1.x NNN[ reason]" in line[0..len), no CRLF. Sets status and HTTP/1.0-ness. */
static int
http_parse_status(const char *line, size_t len, int *status, int *v10)
{
	size_t	i;

	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 ||
	    (line[7] != '0' && line[7] != '1') || line[8] != ' ')
		return -1;
	if (line[9] < '1' || line[9] > '9' || line[10] < '0' || line[10] > '9' ||
	    line[11] < '0' || line[11] > '9')
		return -1;
	if (len > 12 && line[12] != ' ')
		return -1;
	for (i = 13; i < len; i++)
		if (!http_is_vchar((unsigned char)line[i]))
			return -1;
	*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	*v10 = line[7] == '0';
	return 0;
}

/* Walks a comma-separated Connection value for "close" and "keep-alive". */
static void
http_parse_connection(const char *v, size_t len, int *close, int *keepalive)
{
	size_t	i = 0;

	while (i < len) {
		size_t	start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (http_ieq(v + start, end - start, "close"))
			*close = 1;
		else if (http_ieq(v + start, end - start, "keep-alive"))
			*keepalive = 1;
	}
}

/*
 * Parses one header line line[0..len) (no CRLF) into h. seen_cl/seen_te count those
 * fields so duplicates are caught. Returns 0, or -1 with *err set.
 */
static int
http_parse_field(const char *line, size_t len, struct http_head *h, int *seen_te,
    int *close, int *keepalive, const char **err)
{
	size_t		 n, vs, ve, i;
	const char	*v;
	uint64_t	 u;

	if (line[0] == ' ' || line[0] == '\t') {
		*err = "obsolete line folding in header";
		return -1;
	}
	for (n = 0; n < len && http_is_tchar((unsigned char)line[n]); n++)
		;
	if (n == 0 || n == len || line[n] != ':') {
		*err = "malformed header field name";
		return -1;
	}
	for (i = n + 1; i < len; i++) {
		if (!http_is_vchar((unsigned char)line[i])) {
			*err = "control character in header value";
			return -1;
		}
	}
	vs = n + 1;
	ve = len;
	while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
		ve--;
	v = line + vs;

	if (http_ieq(line, n, "content-length")) {
		if (h->has_length) {
			*err = "duplicate Content-Length";
			return -1;
		}
		if (text_u64(v, ve - vs, UINT64_MAX, &u) != 0) {
			*err = "malformed Content-Length";
			return -1;
		}
		h->has_length = 1;
		h->length = u;
	} else if (http_ieq(line, n, "transfer-encoding")) {
		if ((*seen_te)++ || !http_ieq(v, ve - vs, "chunked")) {
			*err = "unsupported Transfer-Encoding (only \"chunked\")";
			return -1;
		}
		h->chunked = 1;
	} else if (http_ieq(line, n, "connection")) {
		http_parse_connection(v, ve - vs, close, keepalive);
	} else if (http_ieq(line, n, "retry-after")) {
		/* Delta-seconds, saturating; any other form is ignored. */
		u = 0;
		for (i = vs; i < ve && line[i] >= '0' && line[i] <= '9'; i++)
			if ((u = u * 10 + (unsigned)(line[i] - '0')) > HTTP_RETRY_MAX)
				u = HTTP_RETRY_MAX;
		if (i == ve && ve > vs)
			h->retry_after = (unsigned)u;
	} else if (http_ieq(line, n, "date")) {
		int64_t t;

		if (timefmt_http(v, ve - vs, &t) == 0)
			h->date = t;
	}
	return 0;
}

long
http_head_parse(const char *buf, size_t len, struct http_head *h, const char **err)
{
	size_t	 scan, end = 0, i, ls;
	int	 v10 = 0, seen_te = 0, close = 0, keepalive = 0;

	memset(h, 0, sizeof(*h));
	*err = NULL;
	scan = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;

	/*
	 * Find the blank line, refusing bare CR/LF on the way so garbage fails early,
	 * and check the status line as soon as it is complete.
	 */
	for (i = 0; i < scan; i++) {
		if (buf[i] == '\n') {
			if (i == 0 || buf[i - 1] != '\r') {
				*err = "bare LF in response head";
				return -1;
			}
		} else if (buf[i] == '\r') {
			if (i + 1 < scan && buf[i + 1] != '\n') {
				*err = "bare CR in response head";
				return -1;
			}
		} else if (buf[i] == '\0') {
			*err = "NUL byte in response head";
			return -1;
		}
		if (buf[i] == '\n' && i >= 3 && buf[i - 2] == '\n') {
			end = i + 1;
			break;
		}
	}
	if (end == 0) {
		const char *eol = memchr(buf, '\n', scan);
		int status;

		if (memcmp(buf, "HTTP/1.", scan < 7 ? scan : 7) != 0) {
			*err = "bad status line";
			return -1;
		}
		if (eol != NULL &&
		    http_parse_status(buf, (size_t)(eol - buf) - 1, &status, &v10) != 0) {
			*err = "bad status line";
			return -1;
		}
		if (len >= HTTP_MAX_HEAD) {
			*err = "response head exceeds 32 KiB";
			return -1;
		}
		return 0;
	}

	/* Complete: every line ends in CRLF, checked above. */
	ls = 0;
	for (i = 0; buf[i] != '\n'; i++)
		;
	if (http_parse_status(buf, i - 1, &h->status, &v10) != 0) {
		*err = "bad status line";
		return -1;
	}
	for (ls = i + 1; ls < end - 2; ls = i + 1) {
		for (i = ls; buf[i] != '\n'; i++)
			;
		if (http_parse_field(buf + ls, i - 1 - ls, h, &seen_te, &close,
		    &keepalive, err) != 0)
			return -1;
	}
	if (h->chunked && h->has_length) {
		*err = "both Content-Length and Transfer-Encoding";
		return -1;
	}
	if (h->chunked && v10) {
		*err = "Transfer-Encoding in an HTTP/1.0 response";
		return -1;
	}
	h->close = close || (v10 && !keepalive);
	return (long)end;
}

enum {
	CK_SIZE = 0,	/* hex digits of the chunk size; zero value is the start state */
	CK_SIZE_MORE,	/* further hex digits, or the end of them */
	CK_SIZE_BWS,	/* blanks after the size, before ';' or CR */
	CK_EXT,		/* chunk extension: skipped up to CR */
	CK_SIZE_LF,	/* the LF after the size line's CR */
	CK_DATA,
	CK_DATA_CR,
	CK_DATA_LF,
	CK_TRAILER,	/* start of a trailer line, or the final CRLF */
	CK_TRAILER_LINE,
	CK_TRAILER_LF,
	CK_END_LF,	/* the LF of the final CRLF */
};

long
http_chunked_feed(struct http_chunked *c, const char *in, size_t inlen, char *out,
    size_t outcap, size_t *outlen, const char **err)
{
	size_t		i = 0, o = 0;
	unsigned	v;

	*outlen = 0;
	*err = NULL;
	while (i < inlen && !c->done) {
		unsigned char ch = (unsigned char)in[i];

		switch (c->state) {
		case CK_SIZE:
			if (!http_is_hex(ch, &v)) {
				*err = "malformed chunked encoding: bad chunk size";
				return -1;
			}
			c->left = v;
			c->linelen = 1;
			c->state = CK_SIZE_MORE;
			i++;
			continue;
		case CK_SIZE_MORE:
			if (http_is_hex(ch, &v)) {
				if (c->left > (UINT64_MAX >> 4)) {
					*err = "malformed chunked encoding: chunk size overflows";
					return -1;
				}
				c->left = c->left << 4 | v;
			} else if (ch == ';') {
				c->state = CK_EXT;
			} else if (ch == ' ' || ch == '\t') {
				c->state = CK_SIZE_BWS;
			} else if (ch == '\r') {
				c->state = CK_SIZE_LF;
			} else if (ch == '\n') {
				*err = "malformed chunked encoding: size line not ended by CRLF";
				return -1;
			} else {
				*err = "malformed chunked encoding: bad chunk size";
				return -1;
			}
			break;
		case CK_SIZE_BWS:
			if (ch == ';')
				c->state = CK_EXT;
			else if (ch == '\r')
				c->state = CK_SIZE_LF;
			else if (ch == '\n') {
				*err = "malformed chunked encoding: size line not ended by CRLF";
				return -1;
			} else if (ch != ' ' && ch != '\t') {
				*err = "malformed chunked encoding: bad chunk size";
				return -1;
			}
			break;
		case CK_EXT:
			if (ch == '\r')
				c->state = CK_SIZE_LF;
			else if (ch == '\n') {
				*err = "malformed chunked encoding: size line not ended by CRLF";
				return -1;
			} else if (!http_is_vchar(ch)) {
				*err = "malformed chunked encoding: control byte in chunk extension";
				return -1;
			}
			break;
		case CK_SIZE_LF:
			if (ch != '\n') {
				*err = "malformed chunked encoding: size line not ended by CRLF";
				return -1;
			}
			c->linelen = 0;
			if (c->left == 0) {
				c->state = CK_TRAILER;
				c->left = 0;	/* now counts trailer bytes */
			} else
				c->state = CK_DATA;
			i++;
			continue;
		case CK_DATA: {
			size_t	n = inlen - i;

			if (n > c->left)
				n = (size_t)c->left;
			if (n > outcap - o)
				n = outcap - o;
			if (n == 0)
				goto full;
			memmove(out + o, in + i, n);
			o += n;
			i += n;
			c->left -= n;
			if (c->left == 0)
				c->state = CK_DATA_CR;
			continue;
		}
		case CK_DATA_CR:
			if (ch != '\r') {
				*err = "malformed chunked encoding: no CRLF after chunk data";
				return -1;
			}
			c->state = CK_DATA_LF;
			i++;
			continue;
		case CK_DATA_LF:
			if (ch != '\n') {
				*err = "malformed chunked encoding: no CRLF after chunk data";
				return -1;
			}
			c->state = CK_SIZE;
			c->linelen = 0;
			i++;
			continue;
		case CK_TRAILER:
			if (ch == '\r') {
				c->state = CK_END_LF;
				i++;
				continue;
			}
			/* The same byte again, as the first of a trailer line. */
			c->state = CK_TRAILER_LINE;
			c->linelen = 0;
			continue;
		case CK_TRAILER_LINE:
			if (ch == '\r')
				c->state = CK_TRAILER_LF;
			else if (!http_is_vchar(ch)) {
				*err = "malformed chunked encoding: control byte in trailer";
				return -1;
			}
			break;
		case CK_TRAILER_LF:
			if (ch != '\n') {
				*err = "malformed chunked encoding: trailer not ended by CRLF";
				return -1;
			}
			c->state = CK_TRAILER;
			c->linelen = 0;
			i++;
			continue;
		case CK_END_LF:
			if (ch != '\n') {
				*err = "malformed chunked encoding: no CRLF after last chunk";
				return -1;
			}
			c->done = 1;
			i++;
			continue;
		default:
			*err = "malformed chunked encoding: bad decoder state";
			return -1;
		}
		/* Bytes of a size, extension or trailer line: bounded. */
		i++;
		if (++c->linelen > HTTP_MAX_CHUNK_LINE) {
			*err = "malformed chunked encoding: line too long";
			return -1;
		}
		if (c->state >= CK_TRAILER && ++c->left > HTTP_MAX_TRAILERS) {
			*err = "malformed chunked encoding: trailers too large";
			return -1;
		}
	}
full:
	*outlen = o;
	return (long)i;
}

/* Refuses CR, LF and every other control byte: they could end the header line. */
static int
http_field_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

char *
http_request_build(const char *method, const char *host, const char *path,
    const char *bearer, const char *ctype, const char *body, size_t bodylen,
    size_t *len)
{
	return http_request_build_auth(method, host, path, "Bearer", bearer, ctype, body,
	    bodylen, len);
}

char *
http_request_build_auth(const char *method, const char *host, const char *path,
    const char *scheme, const char *bearer, const char *ctype, const char *body,
    size_t bodylen, size_t *len)
{
	char		 clen[32];
	const char	*m;
	size_t		 need, off;
	char		*buf;
	int		 n;

	*len = 0;
	if (method == NULL || host == NULL || path == NULL || *method == '\0' ||
	    *host == '\0' || path[0] != '/')
		return NULL;
	for (m = method; *m != '\0'; m++)
		if (!http_is_tchar((unsigned char)*m))
			return NULL;
	if (!http_field_ok(host) || !http_field_ok(path) || strchr(path, ' ') != NULL ||
	    (bearer != NULL && !http_field_ok(bearer)) ||
	    (bearer != NULL && (scheme == NULL || !http_field_ok(scheme) ||
	    strlen(scheme) > 32)) ||
	    (ctype != NULL && !http_field_ok(ctype)))
		return NULL;
	if (body == NULL)
		bodylen = 0;
	if (ctype == NULL)
		ctype = "application/json";

	/* Fixed text below is well under 256 bytes; the variable parts are summed checked. */
	need = 256 + 32;
	if (strlen(method) > SIZE_MAX / 4 - need || strlen(host) > SIZE_MAX / 4 ||
	    strlen(path) > SIZE_MAX / 4 || (bearer && strlen(bearer) > SIZE_MAX / 4) ||
	    strlen(ctype) > SIZE_MAX / 4)
		return NULL;
	need += strlen(method) + strlen(host) + strlen(path) + strlen(ctype) +
	    (bearer ? strlen(bearer) : 0);
	if (bodylen > SIZE_MAX - need)
		return NULL;
	need += bodylen;
	if ((buf = malloc(need)) == NULL)
		return NULL;

	n = snprintf(buf, need,
	    "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "User-Agent: carrier-lock/" CARRIER_LOCK_VERSION "\r\n"
	    "Accept: application/json\r\n",
	    method, path, host);
	if (n < 0 || (size_t)n >= need)
		goto fail;
	off = (size_t)n;
	if (bearer != NULL) {
		n = snprintf(buf + off, need - off, "Authorization: %s %s\r\n", scheme, bearer);
		if (n < 0 || (size_t)n >= need - off)
			goto fail;
		off += (size_t)n;
	}
	if (body != NULL) {
		snprintf(clen, sizeof(clen), "%zu", bodylen);
		n = snprintf(buf + off, need - off,
		    "Content-Type: %s\r\nContent-Length: %s\r\n", ctype, clen);
		if (n < 0 || (size_t)n >= need - off)
			goto fail;
		off += (size_t)n;
	}
	if (need - off < 2 + bodylen)
		goto fail;
	memcpy(buf + off, "\r\n", 2);
	off += 2;
	if (bodylen > 0)
		memcpy(buf + off, body, bodylen);
	*len = off + bodylen;
	return buf;
fail:
	buf_wipe_free(buf, need);
	return NULL;
}
