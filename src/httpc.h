/*
 * httpc.h: an HTTP/1.1 client for one server, plain or TLS, keeping one connection
 * alive across requests and reconnecting (once per request) when the server closed it.
 *
 * Errors are logged once with the server and method + path, e.g.
 * "https://127.0.0.1:6443: GET /api/v1/...: read timed out after 30s".
 */
#ifndef CL_HTTPC_H
#define CL_HTTPC_H

#include <stddef.h>
#include <stdint.h>

struct proxy;
struct tls_ctx;

struct httpc_target {
	const char	*url;		/* "https://host:port[/prefix]", for messages */
	const char	*prefix;	/* put before every request's path ("/k8s/clusters/
					   c-1"; no trailing '/'), or NULL */
	const char	*host;		/* host name or IP literal, no brackets */
	const char	*port;		/* "443" by default for https, "80" for http */
	int		 tls;		/* 1 for https */
	struct tls_ctx	*tls_ctx;	/* required when tls; not owned */
	const char	*tls_name;	/* name to verify (tls-server-name, else host) */
	const char	*bearer;	/* token, or NULL; never logged */
	const char	*basic;		/* instead of bearer: base64 "user:password" for
					   Authorization: Basic, or NULL; never logged */
	const char	*ctype;		/* Content-Type of request bodies; NULL: JSON */
	int64_t		 timeout_ms;	/* per request (connect + send + full reply); 0: 30 s */
	const struct proxy *proxy;	/* every (re)connect tunnels through it; NULL: direct;
					   copied */
};

struct httpc_reply {
	int		 status;
	unsigned	 retry_after;	/* seconds, 0 if none */
	int64_t		 date;		/* the server's Date (epoch seconds), 0 if none */
	char		*body;		/* malloc'd, NUL-terminated (NUL not counted in len) */
	size_t		 len;
};

struct httpc;

/* Returns NULL only on out of memory. Copies what it needs from t (not tls_ctx). */
struct httpc	*httpc_new(const struct httpc_target *t);
void		 httpc_free(struct httpc *);
/* From now on, no request runs past clock_ms() deadline limit (CLOCK_NEVER: none). */
void		 httpc_set_limit(struct httpc *, int64_t limit);
/*
 * From the next request on, sends bearer (copied; NULL: none; the old one is wiped).
 * Returns 0, or -1 on out of memory (logged; the old one is dropped, none is sent).
 */
int		 httpc_set_bearer(struct httpc *, const char *bearer);
/*
 * From the next request on, uses tls (not owned); the connection is dropped, as it was
 * made with the old context (which the caller may free after this).
 */
void		 httpc_set_tls(struct httpc *, struct tls_ctx *tls);

/*
 * Sends one request (body may be NULL; sent as application/json) and reads the whole
 * reply. Returns 0 with r filled (any status), or -1 on transport failure (logged;
 * errno EINTR when interrupted by a signal). Free r->body with free().
 */
int	httpc_do(struct httpc *, const char *method, const char *path,
	    const char *body, size_t bodylen, struct httpc_reply *r);

/*
 * Streams: sends a GET and reads the head. Returns 0 with r->status set; when it is not
 * 200, r->body holds the whole reply body and the stream is finished. -1 on failure.
 * A stream has no overall timeout: deadlines are passed to httpc_stream_line().
 */
int	httpc_stream_open(struct httpc *, const char *path, struct httpc_reply *r);
/*
 * Returns the next newline-terminated line of the open stream in *line (not including
 * the newline; NUL-terminated; valid until the next call), as enum httpc_line says. Lines over HTTP_MAX_LINE are errors.
 */
enum httpc_line {
	HTTPC_LINE = 1,			/* *line holds the next line */
	HTTPC_LINE_END = 0,		/* the stream ended cleanly (and is closed) */
	HTTPC_LINE_FAILED = -1,		/* logged unless errno is EINTR; the stream is closed */
	HTTPC_LINE_DEADLINE = -2,	/* the deadline came first; the stream is still usable */
};
enum httpc_line	httpc_stream_line(struct httpc *, char **line, size_t *len, int64_t deadline);
/* Drops the stream's connection; the next request reconnects. */
void	httpc_stream_close(struct httpc *);

#endif
