/*
 * net.h: TCP sockets with deadlines (see clock.h). No TLS, no HTTP here.
 *
 * All functions report their own errors via log_error() unless noted, and set errno:
 * ETIMEDOUT when the deadline passed, EINTR when sig_pending() is set.
 */
#ifndef CL_NET_H
#define CL_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Resolves host (name, IPv4 or IPv6 literal without brackets) and connects to port,
 * trying each address until the deadline. Returns a non-blocking, close-on-exec fd,
 * or -1. "where" names the server in messages (e.g. "https://127.0.0.1:6443").
 */
int	net_connect(const char *host, const char *port, int64_t deadline,
	    const char *where);

/*
 * Reads at most len bytes. Returns the count (> 0), 0 at EOF, -1 on error or
 * deadline (errno set; NOT logged: the caller knows what it was waiting for).
 */
ssize_t	net_read(int fd, void *buf, size_t len, int64_t deadline);

/* Writes all len bytes. Returns 0, or -1 (errno set; not logged). */
int	net_write_all(int fd, const void *buf, size_t len, int64_t deadline);

#endif
