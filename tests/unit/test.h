/*
 * test.h: the unit tests' whole framework, after sds's test_cond.
 *
 * test_cond(descr, cond) prints "ok N - descr" or "FAIL N - descr (file:line)" and
 * counts; test_report() prints "N passed, N failed" and returns the exit status.
 * Each tests/unit/test_*.c is one program, run from the repository root.
 */
#ifndef CL_TEST_H
#define CL_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int test_passed, test_failed;

#define test_cond(descr, cond) do {					\
	if (cond) {							\
		test_passed++;						\
		printf("ok %d - %s\n", test_passed + test_failed, descr);	\
	} else {							\
		test_failed++;						\
		printf("FAIL %d - %s (%s:%d)\n", test_passed + test_failed,	\
		    descr, __FILE__, __LINE__);				\
	}								\
} while (0)

static inline int
test_report(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed == 0 ? 0 : 1;
}

/*
 * Reads a whole file into a malloc'd buffer with a NUL after it (not counted in *len);
 * NULL when it cannot. The caller frees.
 */
static inline char *
test_slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/*
 * Captures what the code under test writes to stderr: test_capture_start(), then
 * test_capture_end() returns it (NUL-terminated; valid until the next capture).
 */
static int	 test_saved_stderr = -1;
static FILE	*test_capture_file;
static char	 test_captured[8192];

static inline void
test_capture_start(void)
{
	fflush(stderr);
	if ((test_capture_file = tmpfile()) == NULL || (test_saved_stderr = dup(2)) < 0)
		abort();
	dup2(fileno(test_capture_file), 2);
}

static inline const char *
test_capture_end(void)
{
	size_t	n;

	fflush(stderr);
	dup2(test_saved_stderr, 2);
	close(test_saved_stderr);
	rewind(test_capture_file);
	n = fread(test_captured, 1, sizeof(test_captured) - 1, test_capture_file);
	test_captured[n] = '\0';
	fclose(test_capture_file);
	return test_captured;
}

#endif
