/*
 * test_tls.c: src/tls.c. Credential loading is driven by the "ctx" lines of
 * tests/data/pem/cases.txt; handshakes run against `openssl s_server` on a loopback port
 * (skipped, and said so, when openssl is not installed), covering IP and DNS name checks,
 * RSA and EC client keys, trust failures, alerts, and read deadlines; and TLS failures on
 * an established connection, as httpc reports them (a proxy makes the server send a fatal
 * alert in the middle of a stream).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bearssl.h>

#include "clock.h"
#include "httpc.h"
#include "net.h"
#include "test.h"
#include "tls.h"

#define DATA	"tests/data/pem/"

extern char **environ;

static unsigned char *
slurp(const char *name, size_t *len)
{
	char	path[512];

	*len = 0;
	snprintf(path, sizeof(path), DATA "%s", name);
	return (unsigned char *)test_slurp(path, len);
}

/* Builds a context from fixture names ("-" for none, CA "insecure"); logs captured. */
static struct tls_ctx *
ctx_from(const char *ca, const char *cert, const char *key, const char **log)
{
	struct tls_config	 cfg;
	struct tls_ctx		*t;
	unsigned char		*cab, *certb, *keyb;

	memset(&cfg, 0, sizeof(cfg));
	cfg.insecure = strcmp(ca, "insecure") == 0;
	cab = cfg.insecure ? NULL : slurp(ca, &cfg.ca_pem_len);
	certb = slurp(cert, &cfg.cert_pem_len);
	keyb = slurp(key, &cfg.key_pem_len);
	cfg.ca_pem = cab;
	cfg.cert_pem = certb;
	cfg.key_pem = keyb;
	cfg.where = "kubeconfig test";
	test_capture_start();
	t = tls_ctx_new(&cfg);
	*log = test_capture_end();
	free(cab);
	free(certb);
	free(keyb);
	return t;
}

static void
test_ctx_cases(void)
{
	FILE		*f;
	char		 line[1024], *fl[8], *tok, want[128], descr[512];
	const char	*log;
	struct tls_ctx	*t;
	int		 nf, n = 0;
	size_t		 i;

	if ((f = fopen(DATA "cases.txt", "r")) == NULL) {
		test_cond("open " DATA "cases.txt", 0);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		nf = 0;
		for (tok = strtok(line, " \t\n"); tok != NULL && nf < 8; tok = strtok(NULL, " \t\n"))
			fl[nf++] = tok;
		if (nf != 5 || strcmp(fl[0], "ctx") != 0)
			continue;
		n++;
		t = ctx_from(fl[1], fl[2], fl[3], &log);
		snprintf(want, sizeof(want), "%s", fl[4]);
		for (i = 0; want[i]; i++)
			if (want[i] == '+')
				want[i] = ' ';
		snprintf(descr, sizeof(descr), "tls_ctx_new(%s, %s, %s): %s", fl[1], fl[2],
		    fl[3], want);
		if (strcmp(want, "ok") == 0) {
			test_cond(descr, t != NULL && (strcmp(fl[1], "insecure") == 0 ||
			    log[0] == '\0'));
		} else {
			if (t != NULL || strstr(log, want) == NULL)
				printf("# logged: %s", log);
			test_cond(descr, t == NULL && strstr(log, want) != NULL &&
			    strstr(log, "kubeconfig test") != NULL);
		}
		/* Key and certificate bytes are never printed (base64 DER starts "MI"). */
		snprintf(descr, sizeof(descr), "tls_ctx_new(%s, %s, %s) prints no key or "
		    "certificate bytes", fl[1], fl[2], fl[3]);
		test_cond(descr, strstr(log, "MI") == NULL);
		tls_ctx_free(t);
	}
	fclose(f);
	test_cond("cases.txt has at least 20 ctx cases", n >= 20);
}

static void
test_error_names(void)
{
	char	buf[256];

	test_cond("tls_error_str names BR_ERR_X509_NOT_TRUSTED",
	    strstr(tls_error_str(BR_ERR_X509_NOT_TRUSTED, buf, sizeof(buf)),
	    "BR_ERR_X509_NOT_TRUSTED (") == buf);
	test_cond("tls_error_str names BR_ERR_X509_EXPIRED",
	    strstr(tls_error_str(BR_ERR_X509_EXPIRED, buf, sizeof(buf)), "BR_ERR_X509_EXPIRED") == buf);
	test_cond("tls_error_str names BR_ERR_BAD_VERSION",
	    strstr(tls_error_str(BR_ERR_BAD_VERSION, buf, sizeof(buf)), "BR_ERR_BAD_VERSION") == buf);
	test_cond("tls_error_str: received alert 42 is bad_certificate",
	    strstr(tls_error_str(BR_ERR_RECV_FATAL_ALERT + 42, buf, sizeof(buf)),
	    "BR_ERR_RECV_FATAL_ALERT (server sent fatal alert 42 bad_certificate") == buf);
	test_cond("tls_error_str: received alert 48 is unknown_ca",
	    strstr(tls_error_str(BR_ERR_RECV_FATAL_ALERT + 48, buf, sizeof(buf)), "unknown_ca") != NULL);
	test_cond("tls_error_str: received alert 45 is certificate_expired",
	    strstr(tls_error_str(BR_ERR_RECV_FATAL_ALERT + 45, buf, sizeof(buf)),
	    "certificate_expired") != NULL);
	test_cond("tls_error_str: sent alert",
	    strstr(tls_error_str(BR_ERR_SEND_FATAL_ALERT + 80, buf, sizeof(buf)),
	    "BR_ERR_SEND_FATAL_ALERT (we sent fatal alert 80 internal_error") == buf);
	test_cond("tls_error_str: unknown code by number",
	    strcmp(tls_error_str(9999, buf, sizeof(buf)), "BearSSL error 9999") == 0);
	test_cond("tls_error_str truncates safely",
	    strlen(tls_error_str(BR_ERR_X509_NOT_TRUSTED, buf, 8)) == 7);
}

/* ---------------------------------------------------------------------------------------
 * Handshakes against openssl s_server.
 */

static pid_t	server_pid;
static char	server_port[16];

static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port = -1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Starts s_server, requiring a client certificate from either test CA. 0 or -1. */
static int
server_start(void)
{
	char			 accept[64];
	char			*argv[] = { "openssl", "s_server", "-accept", accept, "-cert",
	    DATA "server-ip.crt", "-key", DATA "server-ip.key", "-CAfile", DATA "bundle.crt",
	    "-Verify", "2", "-tls1_2", "-www", "-quiet", NULL };
	posix_spawn_file_actions_t fa;
	int64_t			 until;
	int			 port, fd;

	if ((port = free_port()) < 0)
		return -1;
	snprintf(server_port, sizeof(server_port), "%d", port);
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&server_pid, "openssl", &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	until = clock_deadline(10000);
	while (clock_ms() < until) {
		test_capture_start();
		fd = net_connect("127.0.0.1", server_port, clock_deadline(500), "s_server");
		test_capture_end();
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(50 * 1000);
	}
	return -1;
}

static void
server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
}

/*
 * Connects and handshakes with server_name; returns the connection or NULL, with what
 * was logged in *log. *fdp is the socket (closed by the caller).
 */
static struct tls_conn *
handshake(struct tls_ctx *t, const char *server_name, int *fdp, const char **log)
{
	struct tls_conn	*c = NULL;

	test_capture_start();
	*fdp = net_connect("127.0.0.1", server_port, clock_deadline(5000), "s_server");
	if (*fdp >= 0)
		c = tls_conn_new(t, *fdp, server_name, clock_deadline(5000), "https://s_server");
	*log = test_capture_end();
	return c;
}

/* Sends GET / and reads the whole reply; 1 when it is s_server's 200 page. */
static int
get_page(struct tls_conn *c)
{
	static const char	 req[] = "GET / HTTP/1.0\r\n\r\n";
	char			 buf[65536];
	size_t			 got = 0;
	ssize_t			 n;

	if (tls_write_all(c, req, sizeof(req) - 1, clock_deadline(5000)) != 0)
		return 0;
	while (got < sizeof(buf) - 1 &&
	    (n = tls_read(c, buf + got, sizeof(buf) - 1 - got, clock_deadline(5000))) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return strncmp(buf, "HTTP/1.0 200", 12) == 0;
}

struct hs_case {
	const char	*name;		/* server name given to tls_conn_new */
	const char	*ca, *cert, *key;
	const char	*want;		/* NULL: success; else a substring of the message */
	const char	*want2;		/* another substring, or NULL */
};

static void
test_handshakes(void)
{
	static const struct hs_case cases[] = {
		{ "127.0.0.1", "ca-rsa.crt", "client-rsa.crt", "client-rsa.pkcs1.key", NULL, NULL },
		{ "::1", "ca-rsa.crt", "client-ec.crt", "client-ec.sec1.key", NULL, NULL },
		{ "0:0::1", "ca-rsa.crt", "client-rsa.crt", "client-rsa.pkcs8.key", NULL, NULL },
		{ "localhost", "ca-rsa.crt", "client-ecca.crt", "client-ecca.sec1.key", NULL, NULL },
		{ "127.0.0.1", "bundle.crt", "client-ec.crt", "client-ec.pkcs8.key", NULL, NULL },
		{ "127.0.0.2", "ca-rsa.crt", "client-rsa.crt", "client-rsa.pkcs1.key",
		    "BR_ERR_X509_BAD_SERVER_NAME", "not valid for IP 127.0.0.2 (its IP "
		    "subjectAltNames: 127.0.0.1, ::1)" },
		{ "::2", "ca-rsa.crt", "client-rsa.crt", "client-rsa.pkcs1.key",
		    "BR_ERR_X509_BAD_SERVER_NAME", "::2" },
		{ "example.test", "ca-rsa.crt", "client-rsa.crt", "client-rsa.pkcs1.key",
		    "BR_ERR_X509_BAD_SERVER_NAME", "\"example.test\"" },
		{ "127.0.0.1", "ca-ec.crt", "client-rsa.crt", "client-rsa.pkcs1.key",
		    "BR_ERR_X509_NOT_TRUSTED", "kubeconfig test" },
		{ "127.0.0.1", "ca-rsa.crt", "-", "-", "BR_ERR_RECV_FATAL_ALERT", NULL },
		{ "127.0.0.2", "insecure", "client-rsa.crt", "client-rsa.pkcs1.key", NULL, NULL },
		{ "example.test", "insecure", "client-ec.crt", "client-ec.sec1.key", NULL, NULL },
	};
	struct tls_ctx	*t;
	struct tls_conn	*c;
	const char	*log;
	char		 descr[512];
	size_t		 i;
	int		 fd;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hs_case *k = &cases[i];

		if ((t = ctx_from(k->ca, k->cert, k->key, &log)) == NULL) {
			test_cond(k->name, 0);
			continue;
		}
		c = handshake(t, k->name, &fd, &log);
		snprintf(descr, sizeof(descr), "handshake as %s, CA %s, client %s: %s", k->name,
		    k->ca, k->cert, k->want ? k->want : "ok, and GET / works");
		if (getenv("TEST_TLS_VERBOSE") != NULL && log[0] != '\0')
			printf("# %s", log);
		if (k->want == NULL) {
			if (c == NULL)
				printf("# logged: %s", log);
			test_cond(descr, c != NULL && get_page(c));
		} else {
			if (c != NULL || strstr(log, k->want) == NULL ||
			    (k->want2 && strstr(log, k->want2) == NULL))
				printf("# logged: %s", log);
			test_cond(descr, c == NULL && strstr(log, k->want) != NULL &&
			    (k->want2 == NULL || strstr(log, k->want2) != NULL) &&
			    strstr(log, "https://s_server: TLS handshake failed: ") != NULL);
		}
		tls_conn_free(c);
		if (fd >= 0)
			close(fd);
		tls_ctx_free(t);
	}
}

/* A read deadline leaves the connection usable; EOF after the reply reads as 0. */
static void
test_deadline(void)
{
	struct tls_ctx	*t;
	struct tls_conn	*c;
	const char	*log;
	char		 buf[64];
	int64_t		 t0;
	ssize_t		 n;
	int		 fd;

	if ((t = ctx_from("ca-rsa.crt", "client-rsa.crt", "client-rsa.pkcs1.key", &log)) == NULL ||
	    (c = handshake(t, "127.0.0.1", &fd, &log)) == NULL) {
		test_cond("deadline test setup", 0);
		tls_ctx_free(t);
		return;
	}
	t0 = clock_ms();
	errno = 0;
	n = tls_read(c, buf, sizeof(buf), clock_deadline(200));
	test_cond("tls_read with nothing to read fails at its deadline with ETIMEDOUT",
	    n == -1 && errno == ETIMEDOUT && clock_ms() - t0 >= 150 && clock_ms() - t0 < 3000);
	test_cond("tls_conn_error says it timed out", strstr(tls_conn_error(c), "timed out") != NULL);
	test_cond("the connection is still usable after a read deadline", get_page(c));
	test_cond("after the server closed, tls_read returns 0",
	    tls_read(c, buf, sizeof(buf), clock_deadline(1000)) == 0);
	tls_conn_free(c);
	close(fd);
	tls_ctx_free(t);
}

/* ---------------------------------------------------------------------------------------
 * A fatal alert on an established connection. s_server in its plain mode sends what the
 * test writes to its stdin and reads the client all along; a proxy between the two
 * replays the client's first application-data record to the server once the server has
 * sent "after" records of application data. The server finds the replayed record's MAC
 * wrong (its sequence number moved on) and answers with a fatal bad_record_mac alert.
 */

#define TLS_RECORD_MAX	(5 + 16384 + 2048)	/* header + ciphertext */

struct flow {
	unsigned char	buf[2 * TLS_RECORD_MAX];
	size_t		len;
};

/* Forwards the complete records of f to fd; returns how many carried application data. */
static int
flow_forward(struct flow *f, int fd, unsigned char *first_app, size_t *first_len)
{
	size_t	n;
	int	apps = 0;

	while (f->len >= 5 && f->len >= (n = 5 + ((size_t)f->buf[3] << 8 | f->buf[4]))) {
		if (f->buf[0] == 23) {
			apps++;
			if (first_app != NULL && *first_len == 0) {
				memcpy(first_app, f->buf, n);
				*first_len = n;
			}
		}
		if (send(fd, f->buf, n, MSG_NOSIGNAL) != (ssize_t)n)
			_exit(1);
		memmove(f->buf, f->buf + n, f->len - n);
		f->len -= n;
	}
	return apps;
}

/* Connects to 127.0.0.1:port, trying for 10 s while s_server starts. */
static int
connect_retry(int port)
{
	struct sockaddr_in	sin;
	int64_t			until = clock_deadline(10000);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	while ((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0) {
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
		close(fd);
		if (clock_ms() > until)
			return -1;
		usleep(50 * 1000);
	}
	return -1;
}

static void
proxy_run(int lfd, int port, int after)
{
	static struct flow	up, down;
	static unsigned char	req[TLS_RECORD_MAX];
	struct pollfd		pfd[2];
	size_t			req_len = 0;
	ssize_t			n;
	int			c, s, server_apps = 0, replayed = 0, i;

	if ((c = accept(lfd, NULL, NULL)) < 0 || (s = connect_retry(port)) < 0)
		_exit(1);
	pfd[0].fd = c;
	pfd[1].fd = s;
	for (;;) {
		pfd[0].events = pfd[1].events = POLLIN;
		if (poll(pfd, 2, 10000) <= 0)
			_exit(1);
		for (i = 0; i < 2; i++) {
			struct flow *f = i == 0 ? &up : &down;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((n = recv(pfd[i].fd, f->buf + f->len, sizeof(f->buf) - f->len, 0)) <= 0)
				_exit(0);
			f->len += (size_t)n;
			if (i == 0)
				flow_forward(f, s, req, &req_len);
			else
				server_apps += flow_forward(f, c, NULL, NULL);
		}
		if (!replayed && req_len > 0 && server_apps >= after) {
			if (send(s, req, req_len, MSG_NOSIGNAL) != (ssize_t)req_len)
				_exit(1);
			replayed = 1;
		}
	}
}

/*
 * Starts s_server in its plain mode on a free port, its stdin a pipe (*in: the write
 * end, kept open: EOF would end the connection), and a proxy in front of it (*pport).
 * The server first sends what is written to *in before the call.
 */
static int
alert_setup(pid_t *srv, pid_t *prx, int *in, char *pport, size_t pport_len, int after,
    const char *reply)
{
	char			 accept[64];
	char			*argv[] = { "openssl", "s_server", "-accept", accept, "-cert",
	    DATA "server-ip.crt", "-key", DATA "server-ip.key", "-tls1_2", "-quiet", NULL };
	posix_spawn_file_actions_t fa;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 p[2], lfd, pnum;

	if ((pnum = free_port()) < 0 || pipe(p) != 0)
		return -1;
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", pnum);
	if (write(p[1], reply, strlen(reply)) != (ssize_t)strlen(reply))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(srv, "openssl", &fa, NULL, argv, environ) != 0)
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	*in = p[1];
	/* No probe: its connection would take what waits on stdin. The proxy retries. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(lfd, 1) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &sl) != 0)
		return -1;
	snprintf(pport, pport_len, "%d", ntohs(sin.sin_port));
	fflush(stdout);
	if ((*prx = fork()) == 0) {
		proxy_run(lfd, pnum, after);
		_exit(0);
	}
	close(lfd);
	return *prx < 0 ? -1 : 0;
}

static void
alert_teardown(pid_t srv, pid_t prx, int in)
{
	close(in);
	if (prx > 0) {
		kill(prx, SIGKILL);
		waitpid(prx, NULL, 0);
	}
	if (srv > 0) {
		kill(srv, SIGTERM);
		waitpid(srv, NULL, 0);
	}
}

/* An httpc client of the proxy: "https://proxy" in messages, the server checked as 127.0.0.1. */
static struct httpc *
alert_client(struct tls_ctx *t, const char *pport)
{
	struct httpc_target	tg;

	memset(&tg, 0, sizeof(tg));
	tg.url = "https://proxy";
	tg.host = "127.0.0.1";
	tg.port = pport;
	tg.tls = 1;
	tg.tls_ctx = t;
	tg.timeout_ms = 5000;
	return httpc_new(&tg);
}

static void
test_alerts(void)
{
	static const struct {
		const char	*descr;
		int		 after;		/* server records before the alert */
		const char	*reply;		/* what the server sends first */
		const char	*path;		/* NULL: httpc_do GET /x; else a stream */
		const char	*want;		/* the one line logged */
	} cases[] = {
		{ "fatal alert instead of a reply", 0, "", NULL,
		    "carrier-lock: https://proxy: GET /x: read failed: BR_ERR_RECV_FATAL_ALERT "
		    "(server sent fatal alert 20 bad_record_mac)\n" },
		{ "fatal alert in the middle of a stream", 1, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nConnection: close\r\n\r\n{\"type\":\"ADDED\"}\n",
		    "/w?watch=1", "carrier-lock: https://proxy: GET /w?watch=1: read failed: "
		    "BR_ERR_RECV_FATAL_ALERT (server sent fatal alert 20 bad_record_mac)\n" },
	};
	struct tls_ctx		*t;
	struct httpc		*h;
	struct httpc_reply	 r;
	const char		*log;
	char			 pport[16], descr[256], *line;
	size_t			 i, len;
	pid_t			 srv = -1, prx = -1;
	int			 in = -1, rc;

	if ((t = ctx_from("ca-rsa.crt", "-", "-", &log)) == NULL) {
		test_cond("alert test: context", 0);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (alert_setup(&srv, &prx, &in, pport, sizeof(pport), cases[i].after,
		    cases[i].reply) != 0) {
			test_cond("alert test: s_server and proxy start", 0);
			alert_teardown(srv, prx, in);
			break;
		}
		h = alert_client(t, pport);
		test_capture_start();
		if (cases[i].path == NULL) {
			rc = httpc_do(h, "GET", "/x", NULL, 0, &r);
			rc = rc == -1 && errno == EPROTO && r.body == NULL ? -1 : 0;
		} else if ((rc = httpc_stream_open(h, cases[i].path, &r)) == 0 &&
		    r.status == 200 &&
		    httpc_stream_line(h, &line, &len, clock_deadline(5000)) == 1 &&
		    strcmp(line, "{\"type\":\"ADDED\"}") == 0)
			rc = httpc_stream_line(h, &line, &len, clock_deadline(5000));
		else
			rc = 0;		/* the stream did not get as far as its first line */
		log = test_capture_end();
		if (getenv("TEST_TLS_VERBOSE") != NULL || strcmp(log, cases[i].want) != 0)
			printf("# logged: %s", log);
		snprintf(descr, sizeof(descr), "%s: the %s fails", cases[i].descr,
		    cases[i].path == NULL ? "request" : "stream, after its first line,");
		test_cond(descr, rc == -1);
		snprintf(descr, sizeof(descr), "%s: httpc names the alert (not \"Protocol "
		    "error\"), once", cases[i].descr);
		test_cond(descr, strcmp(log, cases[i].want) == 0);
		httpc_free(h);
		alert_teardown(srv, prx, in);
	}
	tls_ctx_free(t);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_error_names();
	test_ctx_cases();
	if (access("/usr/bin/openssl", X_OK) != 0) {
		printf("# openssl not installed: handshake tests skipped\n");
		return test_report();
	}
	if (server_start() != 0) {
		test_cond("openssl s_server starts on a loopback port", 0);
		server_stop();
		return test_report();
	}
	test_handshakes();
	test_deadline();
	server_stop();
	test_alerts();
	return test_report();
}
