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
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "net.h"
#include "sig.h"

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
net_connect_one(const struct addrinfo *ai, int64_t deadline)
{
	int		fd, one = 1, soerr = 0, saved;
	socklen_t	sl = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0)
		return -1;
	/* Requests are small and latency matters more than packet count. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR)
		goto fail;
	/* An interrupted connect() keeps going; poll for its outcome either way. */
	if (net_wait(fd, POLLOUT, deadline) != 0)
		goto fail;
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
	struct addrinfo	 hints, *res = NULL, *ai;
	int		 fd = -1, rc, err = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/*
	 * getaddrinfo() has no deadline of its own; with musl it honours the resolver's
	 * timeout from /etc/resolv.conf. Literal addresses never touch the network.
	 */
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		if (rc == EAI_SYSTEM && errno == EINTR && sig_pending()) {
			errno = EINTR;
			return -1;
		}
		log_error("%s: cannot resolve host \"%s\": %s", where, host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = net_connect_one(ai, deadline)) >= 0)
			break;
		err = errno;
		if (err == EINTR || err == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
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
