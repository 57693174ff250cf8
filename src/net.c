/*
 * net.c: see net.h. Every wait is a poll() bounded by the caller's deadline, so no
 * call can block past it; signals (sig.h) interrupt waits without SA_RESTART.
 *
 * An interrupted call (errno EINTR, sig_pending() set) is not logged: the caller is
 * unwinding on the user's request and says so once itself.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "net.h"
#include "resolve.h"
#include "sig.h"
#include "text.h"

/*
 * Waits until fd is ready for events or the deadline passes. Returns 0 when ready
 * (including error/hangup conditions: the next I/O call reports them), -1 with errno
 * ETIMEDOUT or EINTR.
 */
static int
net_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int		n;

	for (;;) {
		/* Narrows the window of a signal landing just before poll(). */
		if (sig_pending()) {
			errno = EINTR;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, deadline == CLOCK_NEVER ? -1 : clock_left(deadline));
		if (n > 0)
			return 0;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno == EINTR) {
			if (sig_pending()) {
				errno = EINTR;
				return -1;
			}
			continue;
		}
		return -1;
	}
}

/* Connects one address. Returns the fd or -1 with errno set. */
static int
net_connect_one(const struct dns_addr *a, unsigned port, int64_t deadline)
{
	struct sockaddr_storage	ss;
	socklen_t		sl = dns_sockaddr(a, port, &ss);
	int			fd, one = 1, soerr = 0, saved;

	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -1;
	/* Requests are small and latency matters more than packet count. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	/* An interrupted connect() keeps going; poll for its outcome either way. */
	if (net_wait(fd, POLLOUT, deadline) != 0)
		goto fail;
	sl = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
net_connect(const char *host, const char *port, int64_t deadline, const char *where)
{
	struct dns_addrs	addrs;
	char			why[512];
	uint64_t		pv = 0;
	size_t			i;
	int			fd = -1, err = ECONNREFUSED;

	if (text_u64(port, strlen(port), 65535, &pv) != 0 || pv == 0) {
		log_error("%s: port \"%s\" is not a number from 1 to 65535", where, port);
		errno = EINVAL;
		return -1;
	}
	/* Literal addresses never touch a file or the network (resolve.h). */
	if (resolve_host(host, deadline, &addrs, why, sizeof(why)) != 0) {
		if (errno != EINTR)
			log_error("%s: cannot resolve host \"%s\": %s", where, host, why);
		return -1;
	}
	for (i = 0; i < addrs.n; i++) {
		if ((fd = net_connect_one(&addrs.a[i], (unsigned)pv, deadline)) >= 0)
			return fd;
		err = errno;
		if (err == EINTR || err == ETIMEDOUT)
			break;
	}
	if (err == EINTR) {
		errno = EINTR;
		return -1;
	}
	if (err == ETIMEDOUT)
		log_error("%s: connect to %s port %s timed out", where, host, port);
	else if (err == ECONNREFUSED)
		log_error("%s: connection refused (%s port %s)", where, host, port);
	else
		log_error("%s: cannot connect to %s port %s: %s", where, host, port,
		    strerror(err));
	errno = err;
	return -1;
}

ssize_t
net_read(int fd, void *buf, size_t len, int64_t deadline)
{
	ssize_t	n;

	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR) {
			if (sig_pending())
				return -1;
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (net_wait(fd, POLLIN, deadline) != 0)
			return -1;
	}
}

int
net_write_all(int fd, const void *buf, size_t len, int64_t deadline)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		/* MSG_NOSIGNAL: a peer that went away is EPIPE here, not a SIGPIPE. */
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			if (sig_pending())
				return -1;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (net_wait(fd, POLLOUT, deadline) != 0)
			return -1;
	}
	return 0;
}
