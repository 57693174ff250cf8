/* log.c: see log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

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

static void log_vline(const char *, const char *, va_list) __attribute__((format(printf, 2, 0)));

static void
log_vline(const char *tag, const char *fmt, va_list ap)
{
	char	line[4096];

	/* One write per message, so lines of concurrent processes do not interleave. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "carrier-lock: %s%s\n", tag, line);
}

/*
 * Errors: with log_set_dedup(1), a line equal to the previous error is not printed
 * again, so that retries of an unreachable server say it once (-v shows every one).
 */
void
log_error(const char *fmt, ...)
{
	static char	last[4096];
	char		line[4096];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (dedup && !verbose && strcmp(line, last) == 0)
		return;
	memcpy(last, line, sizeof(last));
	fprintf(stderr, "carrier-lock: %s\n", line);
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
