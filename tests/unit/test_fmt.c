/*
 * test_fmt.c: fmt_vformat against the host C library's vsnprintf (glibc), over every
 * combination of flags, widths, precisions, lengths and conversions that fmt.h promises,
 * for values at the edges of each type; and the contract's own cases (truncation, the
 * returned length, overflow, what is not a conversion).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "test.h"

/* The formats are built at run time, which is the point. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static int	mismatches, compared;
static char	first_bad[1200];

/* Formats with both; records the first difference. */
static void
compare(const char *fmt, ...)
{
	char	ours[512], libc[512];
	va_list	ap, aq;
	int	n, m;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = fmt_vsnprintf(ours, sizeof(ours), fmt, ap);
	m = vsnprintf(libc, sizeof(libc), fmt, aq);
	va_end(aq);
	va_end(ap);
	compared++;
	if (n != m || strcmp(ours, libc) != 0) {
		if (mismatches++ == 0)
			snprintf(first_bad, sizeof(first_bad), "\"%s\": ours \"%s\" (%d), libc \"%s\" (%d)",
			    fmt, ours, n, libc, m);
	}
}

static int
fmt_to(char *buf, size_t size, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void
count_sink(void *ctx, const char *s, size_t n)
{
	(void)s;
	*(size_t *)ctx += n;
}

static int
fmt_count(size_t *total, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = fmt_vformat(count_sink, total, fmt, ap);
	va_end(ap);
	return n;
}

static const char *const flag_sets[] = {
	"", "-", "0", "+", " ", "#", "-0", "+0", " 0", "#0", "-+", "- ", "-#", "+ ", "#+0", "-+ #0",
};
static const char *const widths[] = { "", "0", "1", "2", "5", "23", "*" };
static const char *const precs[] = { "", ".", ".0", ".1", ".2", ".5", ".23", ".*" };

static const long long values[] = {
	0, 1, -1, 7, 8, 9, 10, 15, 16, 99, 100, 127, 128, -128, -129, 255, 256, 32767, 32768,
	-32768, 65535, 65536, INT_MAX, INT_MIN, (long long)INT_MAX + 1, UINT_MAX,
	1234567890123LL, -1234567890123LL, LLONG_MAX, LLONG_MIN,
};

/* One conversion spec with each value, passed as the type its length reads. */
static void
compare_int(const char *spec, const char *len, char conv, int star_w, int star_p)
{
	char	fmt[64];
	size_t	i;

	snprintf(fmt, sizeof(fmt), "[%s%s%c]", spec, len, conv);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		long long	v = values[i];
		int		 w = star_w, p = star_p;

#define ARGS(x)	(w != INT_MIN && p != INT_MIN ? (compare(fmt, w, p, x), 0) :	\
		 w != INT_MIN ? (compare(fmt, w, x), 0) :			\
		 p != INT_MIN ? (compare(fmt, p, x), 0) : (compare(fmt, x), 0))
		if (strcmp(len, "l") == 0)
			(void)(conv == 'd' || conv == 'i' ? ARGS((long)v) : ARGS((unsigned long)v));
		else if (len[0] == 'l' || len[0] == 'j' || len[0] == 'z' || len[0] == 't')
			(void)(conv == 'd' || conv == 'i' ? ARGS(v) : ARGS((unsigned long long)v));
		else
			(void)(conv == 'd' || conv == 'i' ? ARGS((int)v) : ARGS((unsigned)v));
#undef ARGS
	}
}

int
main(void)
{
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "j", "z", "t" };
	static const char convs[] = "diouxX";
	static const int stars[] = { -7, -1, 0, 3, 12 };
	char	 spec[32], buf[64], fmt[64];
	size_t	 f, w, p, l, c, s, total = 0;
	int	 n;

	for (f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++)
		for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
			for (p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
				int	sw = strcmp(widths[w], "*") == 0, sp = strcmp(precs[p], ".*") == 0;

				snprintf(spec, sizeof(spec), "%%%s%s%s", flag_sets[f], widths[w], precs[p]);
				for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
					for (c = 0; convs[c] != '\0'; c++)
						for (s = 0; s < sizeof(stars) / sizeof(stars[0]); s++) {
							compare_int(spec, lens[l], convs[c],
							    sw ? stars[s] : INT_MIN,
							    sp ? stars[(s + 2) % 5] : INT_MIN);
							if (!sw && !sp)
								break;
						}
				/* Strings and characters: only the flags C defines for them. */
				if (strpbrk(flag_sets[f], "0+ #") != NULL)
					continue;
				snprintf(fmt, sizeof(fmt), "<%ss>", spec);
				for (s = 0; s < sizeof(stars) / sizeof(stars[0]); s++) {
					if (sw && sp)
						compare(fmt, stars[s], stars[(s + 2) % 5], "abc");
					else if (sw || sp)
						compare(fmt, stars[s], "hello, world");
					else
						compare(fmt, ""), compare(fmt, "x"), compare(fmt, "hello, world");
				}
				if (strchr(precs[p], '.') == NULL) {
					snprintf(fmt, sizeof(fmt), "<%sc>", spec);
					if (sw)
						compare(fmt, 4, 'q'), compare(fmt, -4, 'q');
					else
						compare(fmt, 'q'), compare(fmt, 0x141);
				}
			}
	compare("plain text, no conversions");
	compare("");
	compare("100%% sure, %s%%", "half");
	compare("%s and %s", "one", "two");
	compare("%s", (const char *)NULL);
	compare("%.3s|%-8.2s|%8s", "abcdef", "abcdef", "ab");
	compare("lock %s/%s of host %s pid %ld expired after %lld ms (%zu bytes, token %llu)",
	    "ns", "name", "host-1", 4242L, -17LL, (size_t)12, 18446744073709551615ULL);
	compare("%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", 2026, 12, 2, 1, 5, 9, 123456L);
	compare("control character 0x%02x in input", 0x1f);
	compare("%x:%x::%d.%d.%d.%d", 0xfe80, 0, 192, 168, 0, 1);

	test_cond("agrees with vsnprintf on every combination", mismatches == 0);
	if (mismatches != 0)
		printf("# %d of %d differ; the first: %s\n", mismatches, compared, first_bad);
	test_cond("compared more than 100000 formats", compared > 100000);

	n = fmt_to(buf, 6, "%s-%d", "abcdef", 42);
	test_cond("truncates to size - 1 and returns the whole length",
	    n == 9 && strcmp(buf, "abcde") == 0);
	memset(buf, 'z', sizeof(buf));
	test_cond("size 0 writes nothing", fmt_to(buf, 0, "%d", 12345) == 5 && buf[0] == 'z');
	test_cond("size 1 writes the NUL only", fmt_to(buf, 1, "%d", 12345) == 5 && buf[0] == '\0');
	test_cond("the sink sees every byte", fmt_count(&total, "%*d|%s", 300, 1, "xyz") == 304 &&
	    total == 304);
	errno = 0;
	test_cond("a width past INT_MAX is EOVERFLOW",
	    fmt_to(buf, sizeof(buf), "%2147483648d", 1) == -1 && errno == EOVERFLOW);
	errno = 0;
	test_cond("a precision past INT_MAX is EOVERFLOW",
	    fmt_to(buf, sizeof(buf), "%.99999999999d", 1) == -1 && errno == EOVERFLOW);
	errno = 0;
	test_cond("output past INT_MAX is EOVERFLOW",
	    fmt_to(buf, sizeof(buf), "%*d%*d", INT_MAX, 1, 2, 3) == -1 && errno == EOVERFLOW);
	errno = 0;
	test_cond("a width of INT_MIN is EOVERFLOW",
	    fmt_to(buf, sizeof(buf), "%*d", INT_MIN, 1) == -1 && errno == EOVERFLOW);

	/* Not conversions of fmt.h: the rest of the format as it is, no argument taken. */
	n = fmt_to(buf, sizeof(buf), "%d took %.3fs (%s)", 7);
	test_cond("%f: the rest as it is", n == 17 && strcmp(buf, "7 took %.3fs (%s)") == 0);
	n = fmt_to(buf, sizeof(buf), "at %p", (void *)buf);
	test_cond("%p: the rest as it is", strcmp(buf, "at %p") == 0 && n == 5);
	n = fmt_to(buf, sizeof(buf), "%1$s", "x");
	test_cond("positional: the rest as it is", strcmp(buf, "%1$s") == 0 && n == 4);
	n = fmt_to(buf, sizeof(buf), "%ls", L"x");
	test_cond("%ls: the rest as it is", strcmp(buf, "%ls") == 0 && n == 3);
	n = fmt_to(buf, sizeof(buf), "%s", (const char *)NULL);
	test_cond("NULL for %s is (null), as musl and glibc print it", n == 6 &&
	    strcmp(buf, "(null)") == 0);
	n = fmt_to(buf, sizeof(buf), "trailing %");
	test_cond("a lone % at the end stays", strcmp(buf, "trailing %") == 0 && n == 10);
	return test_report();
}
