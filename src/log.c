/* log.c: see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define LOG_LINE_MAX	4096	/* a longer message is cut (they are far shorter) */

static int verbose;
static int dedup;

void
log_set_dedup(int on)
{
	dedup = on;
}

void
log_set_verbose(int on)
{
	verbose = on;
}

int
log_is_verbose(void)
{
	return verbose;
}

/*
 * Length of the UTF-8 sequence at s (at most n bytes) when it encodes a printable code
 * point (not a C1 control, U+0080..U+009F, which terminals obey as escapes), else 0.
 */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
	unsigned long	cp;
	size_t		len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return len;
}

/*
 * Makes a formatted line safe for a terminal or a CI log, in place: control bytes (a
 * newline that would forge a line, ESC, DEL, C1) and bytes that are not UTF-8 become
 * '?'. Record fields and server text reach messages through %s; this is the one gate
 * they all pass, whatever a caller forgot.
 */
static void
line_clean(char *line)
{
	unsigned char	*s = (unsigned char *)line;
	size_t		 i, n = strlen(line), k;

	for (i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f)
			continue;
		if (s[i] >= 0x80 && (k = utf8_printable(s + i, n - i)) != 0) {
			i += k - 1;
			continue;
		}
		s[i] = '?';
	}
}

/* One write per message, so lines of concurrent processes do not interleave. */
static void
line_put(const char *tag, const char *line)
{
	char	out[LOG_LINE_MAX + 64];
	int	n;

	n = snprintf(out, sizeof(out), "carrier-lock: %s%s\n", tag, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(out))
		n = sizeof(out) - 1;
	fwrite(out, 1, (size_t)n, stderr);
}

static void log_vline(const char *, const char *, va_list) __attribute__((format(printf, 2, 0)));

static void
log_vline(const char *tag, const char *fmt, va_list ap)
{
	char	line[LOG_LINE_MAX];

	vsnprintf(line, sizeof(line), fmt, ap);
	line_clean(line);
	line_put(tag, line);
}

/*
 * Errors: with log_set_dedup(1), a line equal to the previous error is not printed
 * again, so that retries of an unreachable server say it once (-v shows every one).
 */
void
log_error(const char *fmt, ...)
{
	static char	last[LOG_LINE_MAX];
	char		line[LOG_LINE_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	line_clean(line);
	if (dedup && !verbose && strcmp(line, last) == 0)
		return;
	memcpy(last, line, sizeof(last));
	line_put("", line);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("warning: ", fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

void
log_verbose(const char *fmt, ...)
{
	va_list	ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	log_vline("", fmt, ap);
	va_end(ap);
}

char *
log_sanitize(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t	i, o = 0;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < len && o + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < len && dstsz >= 4) {
		o = o > dstsz - 4 ? dstsz - 4 : o;
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}
