/* fds.c: see fds.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fds.h"

/*
 * Descriptors 0, 1 and 2 must be taken before anything else is opened: a socket that
 * became descriptor 1 would receive our output and log lines. A closed one is replaced
 * by an end of a pipe that fails the way the closed descriptor would (EBADF: stdin gets
 * the write end, stdout and stderr the read end), so `query >&-` reports that it cannot
 * write, instead of pretending. A pipe needs no file system (no /dev/null in an empty
 * root). run's command inherits these as they are.
 */
int
fds_hold_std(void)
{
	int	fd, p[2], held[2] = { -1, -1 }, closed = 0;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
			closed |= 1 << fd;
	if (closed == 0)
		return 0;
	if (pipe(p) != 0)
		return -1;
	/* pipe() itself took the lowest free numbers, maybe 0 to 2: move both above. */
	held[0] = fcntl(p[0], F_DUPFD_CLOEXEC, 3);
	held[1] = fcntl(p[1], F_DUPFD_CLOEXEC, 3);
	close(p[0]);
	close(p[1]);
	if (held[0] == -1 || held[1] == -1)
		goto fail;
	for (fd = 0; fd <= 2; fd++)
		if ((closed & (1 << fd)) && dup2(fd == 0 ? held[1] : held[0], fd) != fd)
			goto fail;
	close(held[0]);
	close(held[1]);
	return 0;
fail:
	if (held[0] != -1)
		close(held[0]);
	if (held[1] != -1)
		close(held[1]);
	return -1;
}

int
fds_detach_std(void)
{
	int	fd;

	for (fd = 0; fd <= 2; fd++)
		close(fd);
	return fds_hold_std();
}
