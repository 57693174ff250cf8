/* fmt.c: see fmt.h. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

struct fmt_out {
	fmt_sink	 sink;
	void		*ctx;
	size_t		 len;
};

static void
out_put(struct fmt_out *o, const char *s, size_t n)
{
	if (n > 0)
		o->sink(o->ctx, s, n);
	o->len += n;
}

static void
out_pad(struct fmt_out *o, char c, size_t n)
{
	char	b[16];

	memset(b, c, sizeof(b));
	while (n > 0) {
		size_t	k = n < sizeof(b) ? n : sizeof(b);

		out_put(o, b, k);
		n -= k;
	}
}

/* Reads a decimal field of the format; -1 when it exceeds INT_MAX. */
static int
read_num(const char **f)
{
	int	n = 0;

	while (**f >= '0' && **f <= '9') {
		if (n > (INT_MAX - (**f - '0')) / 10)
			return -1;
		n = n * 10 + (*(*f)++ - '0');
	}
	return n;
}

/* The next integer argument, read as the type its length (lng, as in fmt_vformat) says. */
static long long
arg_int(va_list *ap, int lng)
{
	return lng == 2 ? va_arg(*ap, long long) : lng == 1 ? va_arg(*ap, long) :
	    va_arg(*ap, int);
}

int
fmt_vformat(fmt_sink sink, void *ctx, const char *f, va_list ap_in)
{
	struct fmt_out	 o = { sink, ctx, 0 };
	va_list		 ap;
	int		 rc = -1;

	/* A copy, so that helpers can take the list by address (va_list may be an array). */
	va_copy(ap, ap_in);
	for (;;) {
		const char	*s = f, *spec, *str;
		char		 digits[3 * sizeof(uintmax_t)], *d, prefix[2];
		size_t		 len, plen = 0, zeros = 0, fill;
		int		 width, prec = -1, left = 0, zero = 0, alt = 0, sign = 0;
		int		 lng = 0, base;
		unsigned long long v;

		while (*s != '\0' && *s != '%')
			s++;
		out_put(&o, f, (size_t)(s - f));
		if (*s == '\0')
			break;
		spec = s++;
		for (;; s++) {
			if (*s == '-')
				left = 1;
			else if (*s == '0')
				zero = 1;
			else if (*s == '#')
				alt = 1;
			else if (*s == '+' || (*s == ' ' && sign == 0))
				sign = *s;
			else if (*s != ' ')
				break;
		}
		if (*s == '*') {
			s++;
			if ((width = (int)arg_int(&ap, 0)) < 0) {
				if (width == INT_MIN)
					goto done;
				left = 1;
				width = -width;
			}
		} else if ((width = read_num(&s)) < 0) {
			goto done;
		}
		if (*s == '.') {
			s++;
			if (*s == '*') {
				s++;
				if ((prec = (int)arg_int(&ap, 0)) < 0)
					prec = -1;
			} else if ((prec = read_num(&s)) < 0) {
				goto done;
			}
		}
		/* Lengths: -2 hh, -1 h, 1 l, 2 ll, and j, z and t as ll (each is 64 bits). */
		_Static_assert(sizeof(intmax_t) == sizeof(long long) &&
		    sizeof(size_t) == sizeof(long long) &&
		    sizeof(ptrdiff_t) == sizeof(long long), "j, z and t read as ll");
		if (*s == 'h')
			lng = *++s == 'h' ? (s++, -2) : -1;
		else if (*s == 'l')
			lng = *++s == 'l' ? (s++, 2) : 1;
		else if (*s == 'j' || *s == 'z' || *s == 't')
			lng = 2, s++;

		switch (lng != 0 && (*s == 'c' || *s == 's') ? 0 : *s) {
		case '%':
			str = "%";
			len = 1;
			width = 0;
			break;
		case 'c':
			digits[0] = (char)arg_int(&ap, 0);
			str = digits;
			len = 1;
			break;
		case 's':
			if ((str = va_arg(ap, const char *)) == NULL)
				str = "(null)";
			len = prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str);
			break;
		case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
			v = (unsigned long long)arg_int(&ap, lng);
			base = *s == 'o' ? 8 : *s == 'x' || *s == 'X' ? 16 : 10;
			if (base != 10 || *s == 'u') {
				sign = 0;
				v = lng == -2 ? (unsigned char)v : lng == -1 ? (unsigned short)v :
				    lng == 0 ? (unsigned)v : v;
			} else {
				long long	sv = lng == -2 ? (signed char)v : lng == -1 ? (short)v :
				    (long long)v;

				sign = sv < 0 ? '-' : sign;
				v = sv < 0 ? -(unsigned long long)sv : (unsigned long long)sv;
			}
			d = digits + sizeof(digits);
			for (; v != 0; v /= (unsigned)base)
				*--d = (*s == 'X' ? "0123456789ABCDEF" :
				    "0123456789abcdef")[v % (unsigned)base];
			len = (size_t)(digits + sizeof(digits) - d);
			if (prec < 0 && len == 0)
				*--d = '0', len = 1;
			if (prec > 0 && (size_t)prec > len)
				zeros = (size_t)prec - len;
			if (alt && base == 8 && zeros == 0 && (len == 0 || *d != '0'))
				zeros = 1;
			if (sign)
				prefix[plen++] = (char)sign;
			if (alt && base == 16 && len > 0 && *d != '0') {
				prefix[plen++] = '0';
				prefix[plen++] = *s;
			}
			if (zero && !left && prec < 0 && (size_t)width > plen + len)
				zeros = (size_t)width - plen - len;
			str = d;
			break;
		default:
			/* Not a conversion of ours (fmt.h): the rest as it is. */
			out_put(&o, spec, strlen(spec));
			goto end;
		}
		fill = (size_t)width > plen + zeros + len ? (size_t)width - plen - zeros - len : 0;
		if (!left)
			out_pad(&o, ' ', fill);
		out_put(&o, prefix, plen);
		out_pad(&o, '0', zeros);
		out_put(&o, str, len);
		if (left)
			out_pad(&o, ' ', fill);
		if (o.len > INT_MAX)
			goto done;
		f = s + 1;
	}
end:
	if (o.len <= INT_MAX)
		rc = (int)o.len;
done:
	va_end(ap);
	if (rc < 0)
		errno = EOVERFLOW;
	return rc;
}

struct sn_buf {
	char	*p;
	size_t	 room;		/* bytes that may still be written, the NUL excluded */
};

static void
sn_sink(void *ctx, const char *s, size_t n)
{
	struct sn_buf	*b = ctx;

	if (n > b->room)
		n = b->room;
	memcpy(b->p, s, n);
	b->p += n;
	b->room -= n;
}

int
fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sn_buf	 b = { buf, size > 0 ? size - 1 : 0 };
	int		 n = fmt_vformat(sn_sink, &b, fmt, ap);

	if (size > 0)
		*b.p = '\0';
	return n;
}

#ifdef CARRIER_LOCK_OWN_PRINTF
/*
 * The C library's names, for the static binaries (fmt.h). A stream gets the output in
 * pieces of up to FMT_FILE_CHUNK bytes, so an unbuffered stderr sees one write for any
 * shorter message.
 */
#define FMT_FILE_CHUNK	1024

struct file_buf {
	FILE	*f;
	size_t	 n;
	int	 failed;
	char	 b[FMT_FILE_CHUNK];
};

static void
file_flush(struct file_buf *fb)
{
	if (fb->n > 0 && fwrite(fb->b, 1, fb->n, fb->f) != fb->n)
		fb->failed = 1;
	fb->n = 0;
}

static void
file_sink(void *ctx, const char *s, size_t n)
{
	struct file_buf	*fb = ctx;

	while (n > 0) {
		size_t	k = sizeof(fb->b) - fb->n;

		k = k < n ? k : n;
		memcpy(fb->b + fb->n, s, k);
		fb->n += k;
		s += k;
		n -= k;
		if (fb->n == sizeof(fb->b))
			file_flush(fb);
	}
}

int
vfprintf(FILE *restrict f, const char *restrict fmt, va_list ap)
{
	struct file_buf	 fb;
	int		 n;

	fb.f = f;
	fb.n = 0;
	fb.failed = 0;
	n = fmt_vformat(file_sink, &fb, fmt, ap);
	file_flush(&fb);
	return fb.failed ? -1 : n;
}

int
fprintf(FILE *restrict f, const char *restrict fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vfprintf(f, fmt, ap);
	va_end(ap);
	return n;
}

int
printf(const char *restrict fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return n;
}

int
vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
{
	return fmt_vsnprintf(buf, size, fmt, ap);
}

int
snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
#endif
