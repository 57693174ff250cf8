/*
 * test_httpc.c: the HTTP client (src/httpc.c, src/net.c) against a scripted server.
 *
 * Each test forks a child that listens on 127.0.0.1 (port chosen by the kernel) and
 * plays one scenario: canned replies, closes, stalls. Replies carry "conn=C req=R"
 * (which accepted connection, which request on it), so reuse and reconnection are
 * asserted from what the server saw, not from what the client believes.
 * Faults a real API server will not produce are tested here; the rest runs against
 * the real cluster in the integration tests.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"
#include "httpc.h"
#include "test.h"

typedef void	(*scenario_fn)(int lfd);

static pid_t	server_pid = -1;
static char	server_port[16];
static char	server_url[64];

static void
msleep(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- the child's side ------------------------------------------------------------ */

static void
srv_send(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

static void
srv_puts(int fd, const char *s)
{
	srv_send(fd, s, strlen(s));
}

/* Reads one request (head and Content-Length body) into buf. Returns its length, 0 on EOF. */
static size_t
srv_request(int fd, char *buf, size_t cap)
{
	size_t	len = 0, need = 0;
	char	*end, *cl;

	for (;;) {
		ssize_t n;

		buf[len] = '\0';
		if (need == 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			need = (size_t)(end + 4 - buf);
			if ((cl = strstr(buf, "Content-Length: ")) != NULL && cl < end)
				need += strtoul(cl + 16, NULL, 10);
		}
		if (need != 0 && len >= need)
			return len;
		if (len + 1 >= cap)
			return len;
		if ((n = recv(fd, buf + len, cap - 1 - len, 0)) <= 0)
			return 0;
		len += (size_t)n;
	}
}

/* Replies "conn=C req=R" with a Content-Length; extra headers may be added. */
static void
srv_reply_id(int fd, int conn, int req, const char *extra)
{
	char	body[64], head[256];
	int	n = snprintf(body, sizeof(body), "conn=%d req=%d", conn, req);

	snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n%s"
	    "Content-Length: %d\r\n\r\n", extra, n);
	srv_puts(fd, head);
	srv_puts(fd, body);
}

/* Serves every request on every connection, keeping connections open. */
static void
scen_keepalive(int lfd)
{
	char	buf[8192];
	int	conn, req, fd;

	for (conn = 1; (fd = accept(lfd, NULL, NULL)) >= 0; conn++) {
		for (req = 1; srv_request(fd, buf, sizeof(buf)) > 0; req++)
			srv_reply_id(fd, conn, req, "");
		close(fd);
	}
}

/* One reply per connection, then a close without "Connection: close". */
static void
scen_close_after_one(int lfd)
{
	char	buf[8192];
	int	conn, fd;

	for (conn = 1; (fd = accept(lfd, NULL, NULL)) >= 0; conn++) {
		if (srv_request(fd, buf, sizeof(buf)) > 0)
			srv_reply_id(fd, conn, 1, "");
		close(fd);
	}
}

/* One reply per connection, announced with "Connection: close"; the socket lingers. */
static void
scen_connection_close(int lfd)
{
	char	buf[8192];
	int	conn, fd, prev = -1;

	for (conn = 1; (fd = accept(lfd, NULL, NULL)) >= 0; conn++) {
		if (srv_request(fd, buf, sizeof(buf)) > 0)
			srv_reply_id(fd, conn, 1, "Connection: close\r\n");
		if (prev >= 0)
			close(prev);
		prev = fd;
	}
}

/*
 * Connection 1 answers one request, then reads the next and closes without a byte:
 * the race of a server timing out an idle connection as the client reuses it.
 */
static void
scen_close_on_second(int lfd)
{
	char	buf[8192];
	int	conn, req, fd;

	for (conn = 1; (fd = accept(lfd, NULL, NULL)) >= 0; conn++) {
		for (req = 1; srv_request(fd, buf, sizeof(buf)) > 0; req++) {
			if (conn == 1 && req == 2)
				break;
			srv_reply_id(fd, conn, req, "");
		}
		close(fd);
	}
}

/* Echoes the request head back as the body. */
static void
scen_echo(int lfd)
{
	char	buf[8192], head[128];
	int	fd;
	size_t	n;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		while ((n = srv_request(fd, buf, sizeof(buf))) > 0) {
			snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
			srv_puts(fd, head);
			srv_send(fd, buf, n);
		}
		close(fd);
	}
}

static void
scen_chunked(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	while (srv_request(fd, buf, sizeof(buf)) > 0) {
		srv_puts(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"");
		msleep(30);
		srv_puts(fd, "\r\n");
		msleep(30);
		srv_puts(fd, "3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n");
	}
	close(fd);
}

static void
scen_watch(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	srv_puts(fd, "f\r\n{\"type\":\"ADDED\"\r\n");
	msleep(20);
	srv_puts(fd, "e\r\n}\n{\"type\":\"MOD\r\n");
	msleep(20);
	srv_puts(fd, "7\r\nIFIED\"}\r\n");
	srv_puts(fd, "1\r\n\n\r\n");
	msleep(400);
	srv_puts(fd, "14\r\n{\"type\":\"BOOKMARK\"}\n\r\n0\r\n\r\n");
	srv_request(fd, buf, sizeof(buf));
	close(fd);
}

/*
 * scen_canned's reply (set before server_start): sent after the first request, then
 * fill_len bytes of fill; then the connection is closed at once, or (hold) when the
 * client closes it.
 */
static const char	*canned;
static int		 canned_hold;
static char		 canned_fill;
static size_t		 canned_fill_len;

static void
scen_canned(int lfd)
{
	char	buf[8192], *big = malloc(canned_fill_len + 1);
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, canned);
	memset(big, canned_fill, canned_fill_len);
	srv_send(fd, big, canned_fill_len);
	free(big);
	if (canned_hold)
		srv_request(fd, buf, sizeof(buf));
	close(fd);
}

static void
scen_stall(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	msleep(10000);
	close(fd);
}

/* A body of exactly HTTP_MAX_BODY bytes: at the limit, not over it. */
static void
scen_exact_limit(int lfd)
{
	char	buf[8192], *big = malloc(HTTP_MAX_BODY);
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	snprintf(buf, sizeof(buf), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    HTTP_MAX_BODY);
	srv_puts(fd, buf);
	memset(big, 'z', HTTP_MAX_BODY);
	srv_send(fd, big, HTTP_MAX_BODY);
	free(big);
	srv_request(fd, buf, sizeof(buf));
	close(fd);
}

static void
scen_big_chunked(int lfd)
{
	char	buf[8192], chunk[65536 + 16];
	int	fd = accept(lfd, NULL, NULL);
	size_t	sent = 0;

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	memcpy(chunk, "10000\r\n", 7);
	memset(chunk + 7, 'y', 65536);
	memcpy(chunk + 7 + 65536, "\r\n", 2);
	while (sent <= HTTP_MAX_BODY) {
		ssize_t n = send(fd, chunk, 7 + 65536 + 2, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		sent += 65536;
	}
	close(fd);
}

/* --- the parent's side ------------------------------------------------------------ */

static void
server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, 0);
	}
	server_pid = -1;
}

static int
server_start(scenario_fn fn)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof(sin);
	int			lfd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(lfd, 8) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	snprintf(server_port, sizeof(server_port), "%d", ntohs(sin.sin_port));
	snprintf(server_url, sizeof(server_url), "http://127.0.0.1:%s", server_port);
	fflush(stdout);
	if ((server_pid = fork()) < 0)
		return -1;
	if (server_pid == 0) {
		fn(lfd);
		_exit(0);
	}
	close(lfd);
	return 0;
}

static struct httpc *
client(int64_t timeout_ms, const char *bearer)
{
	struct httpc_target t;

	memset(&t, 0, sizeof(t));
	t.url = server_url;
	t.host = "127.0.0.1";
	t.port = server_port;
	t.bearer = bearer;
	t.timeout_ms = timeout_ms;
	return httpc_new(&t);
}

/* An exact-limit body: HTTP_MAX_BODY bytes of 'z', NUL-terminated. */
static int
exact_body(const struct httpc_reply *r)
{
	return r->len == HTTP_MAX_BODY && r->body[HTTP_MAX_BODY - 1] == 'z' &&
	    r->body[HTTP_MAX_BODY] == '\0';
}

enum op { END, DO, OPEN, LINE };

/* One call of a script, and what it must give. */
struct step {
	enum op		 op;
	const char	*descr;		/* NULL: called, nothing checked */
	const char	*method, *path, *body;	/* DO; OPEN: path */
	int		 rc;		/* the call's return */
	int		 status;	/* DO, OPEN with rc 0 */
	const char	*want;		/* DO, OPEN: the reply body (OPEN with 200: none);
					 * LINE with rc 1: the line; NULL: not checked */
	int		 err;		/* errno with rc -1, or 0: not checked */
	int		 pause_ms;	/* slept before the call */
	int64_t		 deadline_ms;	/* LINE */
	int64_t		 min_ms, max_ms; /* bounds on the time the call took; 0: none */
	const char	*timed;		/* a check of its own for those bounds, or NULL */
	int		(*check)(const struct httpc_reply *);	/* more, or NULL */
};

/* A scenario served to one client, and the calls made on it. */
struct script {
	scenario_fn	 scen;		/* NULL: scen_canned with canned and hold */
	const char	*canned;
	int		 hold;
	char		 fill;
	size_t		 fill_len;
	const char	*host;		/* NULL: 127.0.0.1 */
	int64_t		 timeout_ms;
	struct step	 steps[6];
};

#define GET(p)		.op = DO, .method = "GET", .path = (p)
#define REPLY(s)	.status = 200, .want = (s)

static const struct script scripts[] = {
	{ scen_keepalive, .timeout_ms = 5000, .steps = {
	    { GET("/a"), .descr = "keep-alive: first GET", REPLY("conn=1 req=1") },
	    { GET("/b"), .descr = "keep-alive: second GET reuses the connection", REPLY("conn=1 req=2") },
	    { DO, "keep-alive: PUT with a body on the same connection", "PUT", "/c", "{\"x\":1}",
		REPLY("conn=1 req=3") } } },
	/* A name, not a literal: resolved through /etc/hosts (or DNS). */
	{ scen_keepalive, .host = "localhost", .timeout_ms = 5000, .steps = {
	    { GET("/"), .descr = "host name (localhost) resolved and connected", REPLY("conn=1 req=1") } } },
	{ scen_close_after_one, .timeout_ms = 5000, .steps = {
	    { GET("/a"), .descr = "server closed idle connection: first reply", REPLY("conn=1 req=1") },
	    /* The server's FIN arrives while the connection idles. */
	    { DO, "server closed idle connection: next request reconnects", "PUT", "/b", "{}",
		REPLY("conn=2 req=1"), .pause_ms = 50 } } },
	{ scen_connection_close, .timeout_ms = 5000, .steps = {
	    { GET("/a") },
	    { GET("/b"), .descr = "Connection: close is honoured: next request on a new connection",
		REPLY("conn=2 req=1") } } },
	{ scen_close_on_second, .timeout_ms = 5000, .steps = {
	    { GET("/a") },
	    { GET("/b"), .descr = "closed while reused: GET is sent again on a new connection",
		REPLY("conn=2 req=1") } } },
	{ scen_close_on_second, .timeout_ms = 5000, .steps = {
	    { GET("/a") },
	    { DO, "closed while reused: PUT fails and is not resent", "PUT", "/b", "{}", -1 },
	    { GET("/c"), .descr = "... the server saw no second PUT (next GET is request 1 "
		"of connection 2)", REPLY("conn=2 req=1") } } },
	{ scen_chunked, .timeout_ms = 5000, .steps = {
	    { GET("/"), .descr = "chunked body across writes, extensions and trailers",
		REPLY("{\"a\":1}") },
	    { GET("/"), .descr = "chunked reply keeps the connection", REPLY("{\"a\":1}") } } },
	{ NULL, "HTTP/1.1 200 OK\r\nContent-Length: 9437184\r\n\r\n{", 1, .timeout_ms = 5000,
	    .steps = { { GET("/"), .descr = "Content-Length over 8 MiB refused", .rc = -1, .max_ms = 2000,
		.timed = "... at once, without reading it" } } },
	{ scen_exact_limit, .timeout_ms = 20000, .steps = {
	    { GET("/"), .descr = "body of exactly 8 MiB accepted", .status = 200,
		.check = exact_body } } },
	{ scen_big_chunked, .timeout_ms = 20000, .steps = {
	    { GET("/"), .descr = "chunked body over 8 MiB refused", .rc = -1, .err = EFBIG } } },
	{ NULL, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", 0, .timeout_ms = 5000,
	    .steps = { { GET("/"), .descr = "body shorter than Content-Length is an error", .rc = -1 } } },
	{ NULL, "SSH-2.0-OpenSSH_9.2\r\n\r\n", 1, .timeout_ms = 5000, .steps = {
	    { GET("/"), .descr = "a non-HTTP answer is an error", .rc = -1, .err = EPROTO } } },
	{ scen_stall, .timeout_ms = 300, .steps = {
	    { GET("/"), .descr = "stalled server: request fails with ETIMEDOUT", .rc = -1, .err = ETIMEDOUT,
		.min_ms = 250, .max_ms = 2000, .timed = "... after the request timeout" } } },
	{ scen_watch, .timeout_ms = 5000, .steps = {
	    { OPEN, "stream opens with 200", .path = "/w?watch=1", .status = 200 },
	    { LINE, "stream line 1 (split across chunks)", .rc = 1,
		.want = "{\"type\":\"ADDED\"}", .deadline_ms = 2000 },
	    { LINE, "stream line 2 (split across chunks, newline alone in a chunk)", .rc = 1,
		.want = "{\"type\":\"MODIFIED\"}", .deadline_ms = 2000 },
	    { LINE, "stalled stream: -2 at the deadline", .rc = -2, .deadline_ms = 100,
		.min_ms = 90, .max_ms = 1000 },
	    { LINE, "stream still usable after a deadline", .rc = 1,
		.want = "{\"type\":\"BOOKMARK\"}", .deadline_ms = 3000 },
	    { LINE, "stream ends cleanly", .rc = 0, .deadline_ms = 2000 } } },
	{ NULL, "HTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n{\"kind\":\"Status\"}", 1,
	    .timeout_ms = 5000, .steps = {
	    { OPEN, "stream open with 404 returns the body", .path = "/w?watch=1",
		.status = 404, .want = "{\"kind\":\"Status\"}" },
	    { LINE, "... and no stream", .rc = -1, .deadline_ms = 100 } } },
	{ NULL, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 1, 'x', HTTP_MAX_LINE + 16,
	    .timeout_ms = 5000, .steps = {
	    { OPEN, "stream of an unframed body (until close) opens", .path = "/w?watch=1",
		.status = 200 },
	    { LINE, "stream line over 1 MiB refused", .rc = -1, .deadline_ms = 5000 } } },
};

/* Does the call's outcome match s (the time taken aside)? */
static int
step_ok(const struct step *s, int rc, int e, const struct httpc_reply *r, const char *line,
    size_t len)
{
	if (rc != s->rc || (rc == -1 && s->err != 0 && e != s->err))
		return 0;
	if (s->op == LINE)
		return rc != 1 || s->want == NULL || (strcmp(line, s->want) == 0 &&
		    len == strlen(s->want));
	if (rc == -1)
		return r->body == NULL;
	if (r->status != s->status || (s->check != NULL && !s->check(r)))
		return 0;
	if (s->op == OPEN && s->status == 200)
		return r->body == NULL;
	return s->want == NULL || (r->body != NULL && r->len == strlen(s->want) &&
	    strcmp(r->body, s->want) == 0);
}

static void
run_script(const struct script *sc)
{
	const struct step	*s;
	struct httpc_target	 t;
	struct httpc		*h;
	struct httpc_reply	 r;
	char			*line = NULL;
	size_t			 len = 0;
	int64_t			 t0, took;
	int			 rc, e, in_time;

	canned = sc->canned;
	canned_hold = sc->hold;
	canned_fill = sc->fill;
	canned_fill_len = sc->fill_len;
	server_start(sc->scen != NULL ? sc->scen : scen_canned);
	memset(&t, 0, sizeof(t));
	t.url = server_url;
	t.host = sc->host != NULL ? sc->host : "127.0.0.1";
	t.port = server_port;
	t.timeout_ms = sc->timeout_ms;
	h = httpc_new(&t);
	for (s = sc->steps; s->op != END; s++) {
		memset(&r, 0, sizeof(r));
		if (s->pause_ms > 0)
			msleep(s->pause_ms);
		t0 = clock_ms();
		if (s->op == DO)
			rc = httpc_do(h, s->method, s->path, s->body,
			    s->body != NULL ? strlen(s->body) : 0, &r);
		else if (s->op == OPEN)
			rc = httpc_stream_open(h, s->path, &r);
		else
			rc = httpc_stream_line(h, &line, &len, clock_deadline(s->deadline_ms));
		e = errno;
		took = clock_ms() - t0;
		in_time = took >= s->min_ms && (s->max_ms == 0 || took < s->max_ms);
		if (s->descr != NULL && s->timed != NULL) {
			test_cond(s->descr, step_ok(s, rc, e, &r, line, len));
			test_cond(s->timed, in_time);
		} else if (s->descr != NULL)
			test_cond(s->descr, step_ok(s, rc, e, &r, line, len) && in_time);
		free(r.body);
	}
	httpc_stream_close(h);
	httpc_free(h);
	server_stop();
}

static void
test_request_seen(void)
{
	struct httpc		*h;
	struct httpc_reply	 r;

	server_start(scen_echo);
	h = client(5000, "s3cr3t-t0ken");
	test_cond("request reaches the server", httpc_do(h, "POST", "/api/v1/x?y=1",
	    "{\"k\":\"v\"}", 9, &r) == 0 && r.status == 200 && r.body != NULL);
	if (r.body != NULL) {
		char host[64];

		snprintf(host, sizeof(host), "\r\nHost: 127.0.0.1:%s\r\n", server_port);
		test_cond("request line", strncmp(r.body, "POST /api/v1/x?y=1 HTTP/1.1\r\n", 29) == 0);
		test_cond("Host header with port", strstr(r.body, host) != NULL);
		test_cond("bearer token sent", strstr(r.body,
		    "\r\nAuthorization: Bearer s3cr3t-t0ken\r\n") != NULL);
		test_cond("User-Agent", strstr(r.body, "\r\nUser-Agent: carrier-lock/") != NULL);
		test_cond("body with its length", strstr(r.body,
		    "Content-Length: 9\r\n\r\n{\"k\":\"v\"}") != NULL);
	}
	free(r.body);
	test_cond("CR LF in path refused before sending",
	    httpc_do(h, "GET", "/x\r\nEvil: 1", NULL, 0, &r) == -1);
	httpc_free(h);
	server_stop();
}

/* A port that was just free: nothing listens there. */
static void
test_refused(void)
{
	struct httpc_target	 t;
	struct httpc		*h;
	struct httpc_reply	 r;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	char			 port[16];
	int			 lfd, rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	bind(lfd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	snprintf(port, sizeof(port), "%d", ntohs(sin.sin_port));
	close(lfd);
	memset(&t, 0, sizeof(t));
	t.url = "http://127.0.0.1:closed";
	t.host = "127.0.0.1";
	t.port = port;
	t.timeout_ms = 2000;
	h = httpc_new(&t);
	rc = httpc_do(h, "GET", "/", NULL, 0, &r);
	test_cond("connection refused is an error", rc == -1 && errno == ECONNREFUSED);
	httpc_free(h);
}

int
main(void)
{
	size_t	i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		run_script(&scripts[i]);
	test_request_seen();
	test_refused();
	server_stop();
	return test_report();
}
