/*
 * resolve.c: see resolve.h. The files are read a line at a time through a fixed
 * buffer, so a large /etc/hosts costs no memory; the nameservers are asked over
 * connected UDP sockets (a reply from any other address is never read).
 */
#define _DEFAULT_SOURCE	/* getrandom */

#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "resolve.h"
#include "sig.h"

#define RESOLVE_HOSTS	"/etc/hosts"
#define RESOLVE_CONF	"/etc/resolv.conf"
#define RESOLVE_LINE	4096	/* a line's bytes read, its newline included */
#define RESOLVE_REPLY	1500	/* we send no EDNS: replies are at most 512 bytes */

/* Calls fn(line, len, arg) on each line of path, its first RESOLVE_LINE - 1 bytes.
 * Returns 0, or -1 with errno when path cannot be opened or read. */
static int
each_line(const char *path, void (*fn)(const char *, size_t, void *), void *arg)
{
	char	 buf[RESOLVE_LINE];
	char	*nl;
	size_t	 have = 0, start;
	ssize_t	 r;
	int	 fd, skip = 0, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		if ((r = read(fd, buf + have, sizeof(buf) - have)) < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		have += (size_t)r;
		start = 0;
		while ((nl = memchr(buf + start, '\n', have - start)) != NULL) {
			if (!skip)
				fn(buf + start, (size_t)(nl - buf) - start, arg);
			skip = 0;
			start = (size_t)(nl - buf) + 1;
		}
		if (r == 0) {
			if (start < have && !skip)
				fn(buf + start, have - start, arg);
			break;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == sizeof(buf)) {
			/* The rest of an overlong line is not read. */
			if (!skip)
				fn(buf, have - 1, arg);
			skip = 1;
			have = 0;
		}
	}
	close(fd);
	return 0;
}

struct hosts_ctx {
	const char		*name;
	struct dns_addrs	*out;
};

static void
hosts_line(const char *line, size_t len, void *arg)
{
	struct hosts_ctx	*h = arg;

	dns_hosts_line(line, len, h->name, h->out);
}

static void
conf_line(const char *line, size_t len, void *arg)
{
	dns_conf_line(line, len, arg);
}

/* One name asked of every nameserver: the state of the A and AAAA queries. */
struct ask {
	const struct dns_conf	*conf;
	unsigned char		 q[2][DNS_MAX_QUERY];
	size_t			 qlen[2];
	int			 done[2];	/* a nameserver answered it */
	int			 fd[DNS_MAX_NS];
	int			 failed[DNS_MAX_NS][2];	/* this try */
	int			 rcode;		/* the last failure's (-1: malformed) */
	int			 err;		/* the last socket error, for messages */
	struct dns_addrs	 found[2];
};

/* Sends each unanswered query to each usable nameserver; clears this try's failures. */
static void
ask_send(struct ask *k)
{
	size_t	s, t;

	for (s = 0; s < k->conf->nns; s++) {
		for (t = 0; t < 2; t++) {
			k->failed[s][t] = 0;
			if (k->fd[s] < 0 || k->done[t])
				continue;
			if (send(k->fd[s], k->q[t], k->qlen[t], MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN && errno != EINTR) {
				k->err = errno;
				close(k->fd[s]);
				k->fd[s] = -1;
			}
		}
	}
}

/* Reads what nameserver s has sent. */
static void
ask_read(struct ask *k, size_t s)
{
	unsigned char	msg[RESOLVE_REPLY];
	ssize_t		n;
	size_t		t;
	int		rcode = 0;

	while (k->fd[s] >= 0) {
		if ((n = recv(k->fd[s], msg, sizeof(msg), 0)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ECONNREFUSED: nothing listens there (an ICMP reply). */
			k->err = errno;
			close(k->fd[s]);
			k->fd[s] = -1;
			return;
		}
		for (t = 0; t < 2; t++) {
			if (k->done[t])
				continue;
			switch (dns_reply_parse(msg, (size_t)n, k->q[t], k->qlen[t],
			    &k->found[t], &rcode)) {
			case DNS_REPLY_ADDRS:
			case DNS_REPLY_NONAME:
				k->done[t] = 1;
				break;
			case DNS_REPLY_FAIL:
				k->failed[s][t] = 1;
				k->rcode = rcode != 0 ? rcode : -1;
				break;
			case DNS_REPLY_OTHER:
				break;
			}
		}
	}
}

/* Whether every usable nameserver has failed every unanswered query this try. */
static int
ask_all_failed(const struct ask *k)
{
	size_t	s, t;

	for (s = 0; s < k->conf->nns; s++)
		for (t = 0; t < 2; t++)
			if (k->fd[s] >= 0 && !k->done[t] && !k->failed[s][t])
				return 0;
	return 1;
}

static void
ns_list(const struct dns_conf *c, char *out, size_t outsz)
{
	char	text[INET6_ADDRSTRLEN];
	size_t	s, used = 0;

	out[0] = '\0';
	for (s = 0; s < c->nns && used < outsz; s++) {
		inet_ntop(c->ns[s].family, c->ns[s].ip, text, sizeof(text));
		used += (size_t)snprintf(out + used, outsz - used, "%s%s", s ? ", " : "",
		    text);
	}
}

enum ask_result { ASK_ADDRS, ASK_NONAME, ASK_FAIL };

/* Asks for fqdn's A and AAAA records. ASK_FAIL sets why, and errno. */
static enum ask_result
ask(const struct dns_conf *c, const char *fqdn, int64_t deadline,
    struct dns_addrs *out, char *why, size_t whysz)
{
	struct ask		 k;
	struct sockaddr_storage	 ss;
	struct pollfd		 pfd[DNS_MAX_NS];
	unsigned char		 id[4] = { 0 };
	char			 nss[DNS_MAX_NS * (INET6_ADDRSTRLEN + 2)];
	int64_t			 try_end, now;
	unsigned		 attempt;
	size_t			 s, t;
	int			 n, e = EHOSTUNREACH, timed_out = 0;

	memset(&k, 0, sizeof(k));
	k.conf = c;
	/* Random ids: a reply is matched by id and question, over a connected socket. */
	if (getrandom(id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id)) {
		now = clock_ms();
		memcpy(id, &now, sizeof(id));
	}
	k.qlen[0] = dns_query_build(k.q[0], fqdn, (unsigned)id[0] << 8 | id[1], DNS_T_A);
	k.qlen[1] = dns_query_build(k.q[1], fqdn, (unsigned)id[2] << 8 | id[3],
	    DNS_T_AAAA);
	if (k.qlen[0] == 0 || k.qlen[1] == 0) {
		snprintf(why, whysz, "not a valid DNS name");
		return ASK_FAIL;
	}
	for (s = 0; s < c->nns; s++) {
		k.fd[s] = socket(c->ns[s].family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (k.fd[s] >= 0 &&
		    connect(k.fd[s], (struct sockaddr *)&ss, dns_sockaddr(&c->ns[s], 53, &ss))
		    != 0) {
			k.err = errno;
			close(k.fd[s]);
			k.fd[s] = -1;
		} else if (k.fd[s] < 0)
			k.err = errno;
	}
	for (attempt = 0; attempt < c->attempts && !(k.done[0] && k.done[1]); attempt++) {
		ask_send(&k);
		now = clock_ms();
		try_end = now + (int64_t)c->timeout * 1000;
		if (deadline < try_end)
			try_end = deadline;
		while (!(k.done[0] && k.done[1]) && !ask_all_failed(&k)) {
			for (s = 0; s < c->nns; s++) {
				pfd[s].fd = k.fd[s];
				pfd[s].events = POLLIN;
				pfd[s].revents = 0;
			}
			if (sig_pending()) {
				e = EINTR;
				goto out;
			}
			n = poll(pfd, (nfds_t)c->nns, clock_left(try_end));
			if (n < 0 && errno != EINTR) {
				k.err = errno;
				break;
			}
			if (n == 0)
				break;
			for (s = 0; s < c->nns; s++)
				if (pfd[s].fd >= 0 && pfd[s].revents != 0)
					ask_read(&k, s);
		}
		if (clock_ms() >= deadline && !(k.done[0] && k.done[1])) {
			timed_out = 1;
			break;
		}
	}
out:
	for (s = 0; s < c->nns; s++)
		if (k.fd[s] >= 0)
			close(k.fd[s]);
	if (e == EINTR) {
		why[0] = '\0';
		errno = EINTR;
		return ASK_FAIL;
	}
	/* IPv4 first (resolve.h). */
	for (t = 0; t < 2; t++)
		for (s = 0; s < k.found[t].n; s++)
			dns_addrs_add(out, &k.found[t].a[s]);
	if (out->n > 0)
		return ASK_ADDRS;
	if (k.done[0] && k.done[1])
		return ASK_NONAME;
	ns_list(c, nss, sizeof(nss));
	if (timed_out) {
		e = ETIMEDOUT;
		snprintf(why, whysz, "no answer for %s from the nameserver (%s) before the "
		    "deadline", fqdn, nss);
	} else if (k.rcode != 0)
		snprintf(why, whysz, "the nameserver (%s) answered %s for %s", nss,
		    k.rcode == 2 ? "SERVFAIL (the server failed)" :
		    k.rcode == 5 ? "REFUSED (it does not answer us)" :
		    k.rcode == 4 ? "NOTIMP" : k.rcode < 0 ? "with a malformed reply" :
		    "with an error", fqdn);
	else if (k.err != 0)
		snprintf(why, whysz, "cannot ask the nameserver (%s) for %s: %s", nss, fqdn,
		    strerror(k.err));
	else
		snprintf(why, whysz, "no answer for %s from the nameserver (%s) in %u "
		    "tries of %u s (/etc/resolv.conf: options timeout, attempts)", fqdn, nss,
		    c->attempts, c->timeout);
	errno = e;
	return ASK_FAIL;
}

int
resolve_host(const char *host, int64_t deadline, struct dns_addrs *out, char *why,
    size_t whysz)
{
	struct hosts_ctx	 h = { host, out };
	struct dns_conf		 c;
	struct dns_addr		 lit;
	enum ask_result		 r;
	const char		*d, *sp;
	char			 fqdn[DNS_MAX_NAME + 2];
	char			 nss[DNS_MAX_NS * (INET6_ADDRSTRLEN + 2)];
	size_t			 n = strlen(host), dots = 0, i, dl;
	int			 absolute, last;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (dns_addr_parse(host, n, &lit) == 0) {
		dns_addrs_add(out, &lit);
		return 0;
	}
	(void)each_line(RESOLVE_HOSTS, hosts_line, &h);
	if (out->n == 0 && dns_is_localhost(host)) {
		memset(&lit, 0, sizeof(lit));
		lit.family = AF_INET;
		memcpy(lit.ip, "\177\0\0\1", 4);
		dns_addrs_add(out, &lit);
		memset(&lit, 0, sizeof(lit));
		lit.family = AF_INET6;
		lit.ip[15] = 1;
		dns_addrs_add(out, &lit);
	}
	if (out->n > 0)
		return 0;
	dns_conf_init(&c);
	(void)each_line(RESOLVE_CONF, conf_line, &c);
	if (c.nns == 0) {
		c.nns = 1;
		c.ns[0].family = AF_INET;
		memcpy(c.ns[0].ip, "\177\0\0\1", 4);
	}
	if (n > DNS_MAX_NAME + 1) {
		snprintf(why, whysz, "not a valid DNS name (over %d bytes)", DNS_MAX_NAME);
		errno = EHOSTUNREACH;
		return -1;
	}
	for (i = 0; i < n; i++)
		dots += host[i] == '.';
	absolute = n > 0 && host[n - 1] == '.';
	/* The search list first when the name has fewer dots than ndots; then the name. */
	sp = absolute || dots >= c.ndots ? "" : c.search;
	for (;;) {
		while (*sp == ' ')
			sp++;
		last = *sp == '\0';
		if (!last) {
			d = sp;
			dl = strcspn(sp, " ");
			sp += dl;
			if (n + 1 + dl > DNS_MAX_NAME)
				continue;
			snprintf(fqdn, sizeof(fqdn), "%s.%.*s", host, (int)dl, d);
		} else
			snprintf(fqdn, sizeof(fqdn), "%s", host);
		r = ask(&c, fqdn, deadline, out, why, whysz);
		if (r == ASK_ADDRS)
			return 0;
		if (r == ASK_FAIL)
			return -1;
		if (last)
			break;
	}
	ns_list(&c, nss, sizeof(nss));
	snprintf(why, whysz, "no such host (not in %s; the nameserver (%s) knows no "
	    "address for it%s)", RESOLVE_HOSTS, nss,
	    *c.search != '\0' && !absolute && dots < c.ndots ? ", nor with the search "
	    "domains of " RESOLVE_CONF : "");
	errno = EHOSTUNREACH;
	return -1;
}
