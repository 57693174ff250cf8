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

static void
scen_watch_404(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 17\r\n\r\n{\"kind\":\"Status\"}");
	srv_request(fd, buf, sizeof(buf));
	close(fd);
}

static void
scen_watch_long_line(int lfd)
{
	char	buf[8192], *big;
	int	fd = accept(lfd, NULL, NULL);
	size_t	n = HTTP_MAX_LINE + 16;

	srv_request(fd, buf, sizeof(buf));
	big = malloc(n);
	memset(big, 'x', n);
	srv_puts(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	srv_send(fd, big, n);
	free(big);
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

static void
scen_big_length(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, "HTTP/1.1 200 OK\r\nContent-Length: 9437184\r\n\r\n{");
	srv_request(fd, buf, sizeof(buf));
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

static void
scen_truncated(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
	close(fd);
}

static void
scen_garbage(int lfd)
{
	char	buf[8192];
	int	fd = accept(lfd, NULL, NULL);

	srv_request(fd, buf, sizeof(buf));
	srv_puts(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
	srv_request(fd, buf, sizeof(buf));
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

static int
reply_is(const struct httpc_reply *r, int status, const char *body)
{
	return r->status == status && r->body != NULL && r->len == strlen(body) &&
	    strcmp(r->body, body) == 0;
}

static void
test_keepalive(void)
{
	struct httpc		*h;
	struct httpc_reply	 r1, r2, r3;

	server_start(scen_keepalive);
	h = client(5000, NULL);
	test_cond("keep-alive: first GET", httpc_do(h, "GET", "/a", NULL, 0, &r1) == 0 &&
	    reply_is(&r1, 200, "conn=1 req=1"));
	test_cond("keep-alive: second GET reuses the connection",
	    httpc_do(h, "GET", "/b", NULL, 0, &r2) == 0 && reply_is(&r2, 200, "conn=1 req=2"));
	test_cond("keep-alive: PUT with a body on the same connection",
	    httpc_do(h, "PUT", "/c", "{\"x\":1}", 7, &r3) == 0 &&
	    reply_is(&r3, 200, "conn=1 req=3"));
	free(r1.body);
	free(r2.body);
	free(r3.body);
	httpc_free(h);
	server_stop();
}

/* A name, not a literal: resolved through /etc/hosts (or DNS). */
static void
test_resolve(void)
{
	struct httpc_target	 t;
	struct httpc		*h;
	struct httpc_reply	 r;

	server_start(scen_keepalive);
	memset(&t, 0, sizeof(t));
	t.url = server_url;
	t.host = "localhost";
	t.port = server_port;
	t.timeout_ms = 5000;
	h = httpc_new(&t);
	test_cond("host name (localhost) resolved and connected",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == 0 && reply_is(&r, 200, "conn=1 req=1"));
	free(r.body);
	httpc_free(h);
	server_stop();
}

static void
test_reconnect(void)
{
	struct httpc		*h;
	struct httpc_reply	 r1, r2;

	server_start(scen_close_after_one);
	h = client(5000, NULL);
	httpc_do(h, "GET", "/a", NULL, 0, &r1);
	msleep(50);	/* the server's FIN arrives while the connection idles */
	test_cond("server closed idle connection: first reply",
	    reply_is(&r1, 200, "conn=1 req=1"));
	test_cond("server closed idle connection: next request reconnects",
	    httpc_do(h, "PUT", "/b", "{}", 2, &r2) == 0 && reply_is(&r2, 200, "conn=2 req=1"));
	free(r1.body);
	free(r2.body);
	httpc_free(h);
	server_stop();

	server_start(scen_connection_close);
	h = client(5000, NULL);
	httpc_do(h, "GET", "/a", NULL, 0, &r1);
	test_cond("Connection: close is honoured: next request on a new connection",
	    httpc_do(h, "GET", "/b", NULL, 0, &r2) == 0 && reply_is(&r2, 200, "conn=2 req=1"));
	free(r1.body);
	free(r2.body);
	httpc_free(h);
	server_stop();
}

static void
test_retry_rules(void)
{
	struct httpc		*h;
	struct httpc_reply	 r1, r2, r3;
	int			 rc;

	server_start(scen_close_on_second);
	h = client(5000, NULL);
	httpc_do(h, "GET", "/a", NULL, 0, &r1);
	test_cond("closed while reused: GET is sent again on a new connection",
	    httpc_do(h, "GET", "/b", NULL, 0, &r2) == 0 && reply_is(&r2, 200, "conn=2 req=1"));
	free(r1.body);
	free(r2.body);
	httpc_free(h);
	server_stop();

	server_start(scen_close_on_second);
	h = client(5000, NULL);
	httpc_do(h, "GET", "/a", NULL, 0, &r1);
	rc = httpc_do(h, "PUT", "/b", "{}", 2, &r2);
	test_cond("closed while reused: PUT fails and is not resent", rc == -1 &&
	    r2.body == NULL);
	test_cond("... the server saw no second PUT (next GET is request 1 of connection 2)",
	    httpc_do(h, "GET", "/c", NULL, 0, &r3) == 0 && reply_is(&r3, 200, "conn=2 req=1"));
	free(r1.body);
	free(r3.body);
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

static void
test_bodies(void)
{
	struct httpc		*h;
	struct httpc_reply	 r;
	int64_t			 t0;

	server_start(scen_chunked);
	h = client(5000, NULL);
	test_cond("chunked body across writes, extensions and trailers",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == 0 && reply_is(&r, 200, "{\"a\":1}"));
	free(r.body);
	test_cond("chunked reply keeps the connection",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == 0 && reply_is(&r, 200, "{\"a\":1}"));
	free(r.body);
	httpc_free(h);
	server_stop();

	server_start(scen_big_length);
	h = client(5000, NULL);
	t0 = clock_ms();
	test_cond("Content-Length over 8 MiB refused",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == -1 && r.body == NULL);
	test_cond("... at once, without reading it", clock_ms() - t0 < 2000);
	httpc_free(h);
	server_stop();

	server_start(scen_exact_limit);
	h = client(20000, NULL);
	test_cond("body of exactly 8 MiB accepted", httpc_do(h, "GET", "/", NULL, 0, &r) == 0 &&
	    r.status == 200 && r.len == HTTP_MAX_BODY && r.body[HTTP_MAX_BODY - 1] == 'z' &&
	    r.body[HTTP_MAX_BODY] == '\0');
	free(r.body);
	httpc_free(h);
	server_stop();

	server_start(scen_big_chunked);
	h = client(20000, NULL);
	test_cond("chunked body over 8 MiB refused",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == -1 && r.body == NULL &&
	    errno == EFBIG);
	httpc_free(h);
	server_stop();

	server_start(scen_truncated);
	h = client(5000, NULL);
	test_cond("body shorter than Content-Length is an error",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == -1 && r.body == NULL);
	httpc_free(h);
	server_stop();

	server_start(scen_garbage);
	h = client(5000, NULL);
	test_cond("a non-HTTP answer is an error",
	    httpc_do(h, "GET", "/", NULL, 0, &r) == -1 && errno == EPROTO);
	httpc_free(h);
	server_stop();
}

static void
test_deadlines(void)
{
	struct httpc		*h;
	struct httpc_reply	 r;
	int64_t			 t0, el;
	int			 rc, e;

	server_start(scen_stall);
	h = client(300, NULL);
	t0 = clock_ms();
	rc = httpc_do(h, "GET", "/", NULL, 0, &r);
	e = errno;
	el = clock_ms() - t0;
	test_cond("stalled server: request fails with ETIMEDOUT", rc == -1 && e == ETIMEDOUT);
	test_cond("... after the request timeout", el >= 250 && el < 2000);
	httpc_free(h);
	server_stop();

	{
		struct httpc_target	t;
		int			lfd;
		struct sockaddr_in	sin;
		socklen_t		sl = sizeof(sin);
		char			port[16];

		/* A port that was just free: nothing listens there. */
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
}

static void
test_stream(void)
{
	struct httpc		*h;
	struct httpc_reply	 r;
	char			*line;
	size_t			 len;
	int			 rc;
	int64_t			 t0;

	server_start(scen_watch);
	h = client(5000, NULL);
	test_cond("stream opens with 200", httpc_stream_open(h, "/w?watch=1", &r) == 0 &&
	    r.status == 200 && r.body == NULL);
	rc = httpc_stream_line(h, &line, &len, clock_deadline(2000));
	test_cond("stream line 1 (split across chunks)", rc == 1 &&
	    strcmp(line, "{\"type\":\"ADDED\"}") == 0 && len == 16);
	rc = httpc_stream_line(h, &line, &len, clock_deadline(2000));
	test_cond("stream line 2 (split across chunks, newline alone in a chunk)", rc == 1 &&
	    strcmp(line, "{\"type\":\"MODIFIED\"}") == 0);
	t0 = clock_ms();
	rc = httpc_stream_line(h, &line, &len, clock_deadline(100));
	test_cond("stalled stream: -2 at the deadline", rc == -2 && clock_ms() - t0 >= 90 &&
	    clock_ms() - t0 < 1000);
	rc = httpc_stream_line(h, &line, &len, clock_deadline(3000));
	test_cond("stream still usable after a deadline", rc == 1 &&
	    strcmp(line, "{\"type\":\"BOOKMARK\"}") == 0);
	rc = httpc_stream_line(h, &line, &len, clock_deadline(2000));
	test_cond("stream ends cleanly", rc == 0);
	httpc_stream_close(h);
	httpc_free(h);
	server_stop();

	server_start(scen_watch_404);
	h = client(5000, NULL);
	rc = httpc_stream_open(h, "/w?watch=1", &r);
	test_cond("stream open with 404 returns the body", rc == 0 &&
	    reply_is(&r, 404, "{\"kind\":\"Status\"}"));
	test_cond("... and no stream", httpc_stream_line(h, &line, &len,
	    clock_deadline(100)) == -1);
	free(r.body);
	httpc_free(h);
	server_stop();

	server_start(scen_watch_long_line);
	h = client(5000, NULL);
	rc = httpc_stream_open(h, "/w?watch=1", &r);
	test_cond("stream of an unframed body (until close) opens", rc == 0 && r.status == 200);
	test_cond("stream line over 1 MiB refused",
	    httpc_stream_line(h, &line, &len, clock_deadline(5000)) == -1);
	httpc_free(h);
	server_stop();
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_keepalive();
	test_resolve();
	test_reconnect();
	test_retry_rules();
	test_request_seen();
	test_bodies();
	test_deadlines();
	test_stream();
	server_stop();
	return test_report();
}
