/*
 * http.h: the HTTP/1.1 response codec. Pure functions over byte buffers, no I/O, so
 * every byte path can be unit-tested and fuzzed (tests/fuzz/fuzz_http.c).
 *
 * Rules (RFC 9112): status line "HTTP/1.x NNN reason"; header names are tokens; a NUL,
 * CR or LF inside a header line, obs-fold, a duplicate or malformed Content-Length, or
 * Content-Length together with Transfer-Encoding is an error. Limits are errors, never cuts.
 */
#ifndef CL_HTTP_H
#define CL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD	(32 * 1024)		/* status line + headers */
#define HTTP_MAX_BODY	(8 * 1024 * 1024)	/* one response body, decoded */
#define HTTP_MAX_LINE	(1024 * 1024)		/* one line of a watch stream */

struct http_head {
	int		status;		/* 100..999 */
	int		chunked;	/* Transfer-Encoding: chunked */
	int		has_length;	/* Content-Length present */
	uint64_t	length;		/* its value */
	int		close;		/* Connection: close (or HTTP/1.0 without keep-alive) */
	unsigned	retry_after;	/* Retry-After in seconds (delta form only), 0 if absent */
	int64_t		date;		/* Date, seconds since the epoch; 0 if absent or not an
					   IMF-fixdate (a bad Date is not an error) */
};

/*
 * Parses a response head from buf[0..len). Returns the head's length including the final
 * CRLFCRLF (> 0) when complete, 0 when more bytes are needed (and len < HTTP_MAX_HEAD),
 * or -1 on error with *err set to a static message ("header too large", "bad status line", ...).
 */
long	http_head_parse(const char *buf, size_t len, struct http_head *h, const char **err);

/* Incremental decoder for Transfer-Encoding: chunked; zero it before first use. */
struct http_chunked {
	int		state;
	uint64_t	left;		/* bytes left in the current chunk */
	size_t		linelen;	/* bytes of the current size/trailer line seen */
	int		done;		/* last chunk and trailers consumed */
};

/*
 * Decodes in[0..inlen) in place-compatible fashion: decoded payload bytes are written to
 * out (capacity outcap; out may equal in). Returns the number of input bytes consumed
 * (all of them unless done is reached mid-buffer or out is full), sets *outlen, or -1 on
 * malformed framing (*err set). Chunk-size lines longer than 1024 bytes are errors.
 */
long	http_chunked_feed(struct http_chunked *c, const char *in, size_t inlen,
	    char *out, size_t outcap, size_t *outlen, const char **err);

/*
 * Builds a request into a malloc'd buffer (caller frees, wiping it: it may hold a
 * bearer token). host is the Host header value. body may be NULL. Returns NULL if any
 * input holds CR, LF or NUL (header injection) or on overflow; *len is set.
 */
char	*http_request_build(const char *method, const char *host, const char *path,
	    const char *bearer, const char *ctype, const char *body, size_t bodylen,
	    size_t *len);
/* As http_request_build, with "Authorization: SCHEME CRED" (cred NULL: none). */
char	*http_request_build_auth(const char *method, const char *host, const char *path,
	    const char *scheme, const char *cred, const char *ctype, const char *body,
	    size_t bodylen, size_t *len);

#endif
