/*
 * test_alloc.c: src/alloc.c, the static binaries' malloc (alloc.h), called directly: the
 * classes' edges, contents kept by resize, zeros, reuse of freed blocks, alignment, the
 * overflow checks, and the traps on a double free and on a header that was overwritten.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "alloc.h"
#include "test.h"

/* Runs f in a child; true when the child was stopped by signal signo. */
static int
dies_by(void (*f)(void), int signo)
{
	int	status;
	pid_t	pid = fork();

	if (pid == 0) {
		signal(signo, SIG_DFL);	/* not ASan's report: the signal itself */
		f();
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	    WTERMSIG(status) == signo;
}

static void
double_free(void)
{
	void	*p = alloc_get(40);

	alloc_put(p);
	alloc_put(p);
}

static void
overwritten_header(void)
{
	char	*p = alloc_get(100), *q = alloc_get(100);

	memset(p, 'x', 160);	/* through q's header: the write an overflow would do */
	alloc_put(q);
}

static void
freed_then_resized(void)
{
	void	*p = alloc_get(1000);

	alloc_put(p);
	(void)alloc_resize(p, 5000);
}

static void
not_from_here(void)
{
	static uint64_t	fake[8];

	alloc_put(&fake[2]);
}

static void
large_double_free(void)
{
	void	*p = alloc_get(ALLOC_SMALL_MAX + 1);

	alloc_put(p);
	alloc_put(p);
}

int
main(void)
{
	static const size_t	sizes[] = { 0, 1, 15, 16, 17, 31, 32, 48, 49, 100, 1008,
	    1009, 4096, ALLOC_SMALL_MAX - 1, ALLOC_SMALL_MAX, ALLOC_SMALL_MAX + 1, 100000,
	    1 << 20 };
	size_t	i, j;
	int	ok = 1;
	char	*p, *q, *r;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = alloc_get(sizes[i]);
		if (p == NULL || ((uintptr_t)p & 15) != 0) {
			ok = 0;
			continue;
		}
		memset(p, 0xa5, sizes[i]);	/* ASan would not see it: the test is the size */
		q = alloc_get(sizes[i]);
		if (q == NULL || q == p || (q < p ? (size_t)(p - q) : (size_t)(q - p)) < sizes[i])
			ok = 0;
		for (j = 0; j < sizes[i]; j++)
			if ((unsigned char)p[j] != 0xa5)
				ok = 0;
		alloc_put(q);
		alloc_put(p);
	}
	test_cond("every size is 16-byte aligned and as big as asked, blocks do not overlap", ok);

	p = alloc_get(200);
	alloc_put(p);
	q = alloc_get(190);
	test_cond("a freed block is reused for a request of its class", q == p);
	r = alloc_get(190);
	test_cond("a block in use is not handed out twice", r != NULL && r != q);
	alloc_put(r);
	alloc_put(q);

	ok = 1;
	p = NULL;
	for (i = 1; i <= 300000; i = i * 3 + 1) {
		q = alloc_resize(p, i);
		if (q == NULL) {
			ok = 0;
			break;
		}
		for (j = 0; p != NULL && j < (i - 1) / 3; j++)
			if (q[j] != (char)(j * 7))
				ok = 0;
		for (j = 0; j < i; j++)
			q[j] = (char)(j * 7);
		p = q;
	}
	test_cond("resize keeps the contents across the classes and into a mapping", ok);
	q = alloc_resize(p, 10);
	test_cond("resize to less keeps the block", q == p && q[9] == (char)63);
	alloc_put(q);
	p = alloc_resize(NULL, 50);
	test_cond("resize of NULL is a new block", p != NULL);
	alloc_put(p);

	ok = 1;
	for (i = 0; i < 2; i++) {
		p = alloc_get(3000);
		memset(p, 0xff, 3000);
		alloc_put(p);
		q = alloc_zeroed(30, 100);
		for (j = 0; q != NULL && j < 3000; j++)
			if (q[j] != 0)
				ok = 0;
		if (q == NULL)
			ok = 0;
		alloc_put(q);
	}
	q = alloc_zeroed(1, 200000);
	for (j = 0; q != NULL && j < 200000; j++)
		if (q[j] != 0)
			ok = 0;
	test_cond("zeroed blocks are zeros, reused ones too", ok && q != NULL);
	alloc_put(q);

	errno = 0;
	test_cond("a product that overflows is ENOMEM",
	    alloc_zeroed(SIZE_MAX / 16 + 1, 16) == NULL && errno == ENOMEM);
	errno = 0;
	test_cond("a size near SIZE_MAX is ENOMEM, not a wrapped small block",
	    alloc_get(SIZE_MAX - 8) == NULL && errno == ENOMEM);
	p = alloc_get(64);
	errno = 0;
	test_cond("a resize that cannot be done is ENOMEM and keeps the block",
	    alloc_resize(p, SIZE_MAX - 8) == NULL && errno == ENOMEM);
	alloc_put(p);
	alloc_put(NULL);
	test_cond("free of NULL does nothing", 1);

	test_cond("a double free traps", dies_by(double_free, SIGILL));
	test_cond("a double free of a mapped block faults (its mapping is gone)",
	    dies_by(large_double_free, SIGSEGV));
	test_cond("a header overwritten by an overflow traps on free",
	    dies_by(overwritten_header, SIGILL));
	test_cond("resize of a freed block traps", dies_by(freed_then_resized, SIGILL));
	test_cond("free of a pointer not from the allocator traps", dies_by(not_from_here, SIGILL));
	return test_report();
}
