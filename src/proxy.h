/*
 * proxy.h: which proxy (if any) carries the connections to the API server, as client-go
 * chooses it, and dialing through it (proxy_dial.c).
 *
 * A cluster's proxy-url is used for every connection to that server (Go's http.ProxyURL:
 * NO_PROXY does not apply to it). Without one, as Go's http.ProxyFromEnvironment:
 * HTTPS_PROXY (else https_proxy) for https servers, HTTP_PROXY (else http_proxy) for http
 * ones, unless NO_PROXY (else no_proxy) or the loopback rule (noproxy.h) says direct; an
 * upper-case variable that is set but empty counts as unset, as in Go. A variable may
 * leave out the scheme ("proxy.corp:3128" is http://proxy.corp:3128).
 *
 * Schemes: http:// (CONNECT, also for http servers: carrier-lock always tunnels),
 * socks5:// and socks5h:// (RFC 1928; the API server's name is resolved by the proxy;
 * user info is sent as RFC 1929 user/password). https:// (TLS to the proxy) is refused
 * with a clear message. User info ("user:password@") is percent-decoded; it is sent to
 * the proxy and nowhere else, and never printed: messages show proxy.shown.
 */
#ifndef CL_PROXY_H
#define CL_PROXY_H

#include <stdint.h>

#define PROXY_MAX_URL		2048	/* a proxy URL, in a kubeconfig or the environment */
#define PROXY_MAX_CRED		255	/* user name and password (RFC 1929's bound) */

enum proxy_kind {
	PROXY_HTTP,		/* CONNECT */
	PROXY_HTTPS,		/* parsed so that it can be refused by name */
	PROXY_SOCKS5,
};

struct proxy {
	enum proxy_kind	 kind;
	char		*host;		/* name or IP literal, brackets removed */
	char		*port;		/* explicit, else 80, 443 or 1080 */
	char		*user;		/* percent-decoded, or NULL; wiped on free */
	char		*pass;		/* percent-decoded, or NULL; wiped on free */
	char		*shown;		/* "scheme://host:port" (no user info), for messages */
};

/*
 * Parses url into *p (zero it first; free with proxy_clear() in every case). lenient: a
 * value without "://" is read as "http://" + value (the environment's rule; kubeconfig's
 * proxy-url needs a scheme). Returns 0, or -1 with *why a static reason ("port must be a
 * number from 1 to 65535", ...). Allocation failure is -1 with *why "out of memory".
 * An https:// proxy parses (kind PROXY_HTTPS): callers refuse it with their context.
 */
int	proxy_parse(const char *url, int lenient, struct proxy *p, const char **why);
void	proxy_clear(struct proxy *p);

/*
 * Writes text (a proxy URL that may hold user info, possibly malformed) into buf (size n)
 * with the user info removed and bytes outside printable ASCII replaced, for messages.
 * Returns buf.
 */
const char *proxy_redact(const char *text, char *buf, size_t n);

/*
 * The proxy for the API server scheme://host:port: proxy_url when not NULL (already
 * checked by kcfg), else the environment as above. Sets *out to a new proxy (free with
 * proxy_free()) or NULL for a direct connection. Returns 0, or -1 when an environment
 * variable holds a bad or https:// proxy URL (logged, naming the variable) or memory ran out.
 */
int	proxy_select(const char *proxy_url, const char *scheme, const char *host,
	    const char *port, struct proxy **out);
void	proxy_free(struct proxy *p);

/* A deep copy of p, or NULL for want of memory (logged). */
struct proxy	*proxy_dup(const struct proxy *p);

/*
 * Connects to the proxy and asks it for a tunnel to host:port (CONNECT or SOCKS5),
 * all before deadline (clock.h). Returns a non-blocking fd carrying the tunnel, or -1
 * (logged once as "WHERE: proxy SHOWN: what it did", except when interrupted: errno
 * EINTR, nothing logged). errno: EPROTO when the proxy refused for good or answered
 * garbage (retrying will not help: 403, 407, a bad SOCKS5 reply), ETIMEDOUT when it
 * stalled, ECONNREFUSED for a refusal that may pass (502, 503, 504, SOCKS5 network or
 * host unreachable), else the socket's.
 */
int	proxy_dial(const struct proxy *p, const char *host, const char *port,
	    int64_t deadline, const char *where);

/*
 * The head of a proxy's reply to CONNECT in buf[0..len): returns its length (> 0) with
 * *status and the sanitised reason phrase in reason (size rsz), 0 when more bytes are
 * needed, -1 with *why set when it is no HTTP head (or too large: HTTP_MAX_HEAD).
 */
long	proxy_connect_reply(const char *buf, size_t len, int *status, char *reason,
	    size_t rsz, const char **why);

#endif
