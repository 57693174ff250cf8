/*
 * fuzz_kcfg.c: kcfg_load() of an arbitrary kubeconfig, written to a file in a
 * private temporary directory and named with --kubeconfig (so the environment is
 * never consulted), once with its current-context and once with --context "a".
 * Checks, beyond the sanitizers: success yields a scheme, host, port, namespace and
 * context; kcfg_free leaves the struct zeroed. Error messages go to /dev/null while
 * kcfg_load runs; sanitizer reports still go to the real stderr.
 *
 * The directory is on tmpfs (/dev/shm) when there is one, else in $TMPDIR or /tmp, and
 * the file is rewritten in place with write(2), never truncated to zero first: on ext4,
 * truncating a file to zero and closing it forces writeback (auto_da_alloc), which made
 * every input a disk write (a 2-minute run managed ~1,500 executions a second).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void __sanitizer_set_report_fd(void *) __attribute__((weak));

static char	dir[64], path[96];
static int	devnull = -1, real_stderr = -1;

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void
setup(void)
{
	const char	*tmp = getenv("TMPDIR");
	struct stat	 st;

	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 40)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz_kcfg.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/config", dir);
	atexit(cleanup);
	/* A file path in an input could be /dev/stdin: make it read EOF, not block. */
	if ((devnull = open("/dev/null", O_RDWR)) < 0 || dup2(devnull, 0) < 0 ||
	    (real_stderr = dup(2)) < 0)
		abort();
	if (__sanitizer_set_report_fd != NULL)
		__sanitizer_set_report_fd((void *)(intptr_t)real_stderr);
}

static void
run(const char *context)
{
	struct kcfg	k;
	int		r;

	fflush(stderr);
	dup2(devnull, 2);
	r = kcfg_load(&k, path, context);
	fflush(stderr);
	dup2(real_stderr, 2);
	if (r == 0 && (k.scheme == NULL || k.host == NULL || k.port == NULL ||
	    k.namespace == NULL || k.context == NULL || k.server == NULL))
		abort();
	kcfg_free(&k);
	if (k.server != NULL || k.token != NULL || k.key != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	off;
	ssize_t	w;
	int	fd;

	if (dir[0] == '\0')
		setup();
	/* Overwrite, then cut to size: no truncation to zero (see the top). */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
		abort();
	for (off = 0; off < size; off += (size_t)w)
		if ((w = pwrite(fd, data + off, size - off, (off_t)off)) <= 0)
			abort();
	if (ftruncate(fd, (off_t)size) != 0 || close(fd) != 0)
		abort();
	run(NULL);
	run("a");
	return 0;
}
