/*
 * fmt.h: printf-style formatting without floating point.
 *
 * The static binaries use it as their snprintf, vsnprintf, printf, fprintf and vfprintf
 * (src/fmt.c defines those names when CARRIER_LOCK_OWN_PRINTF is set, which build.sh does
 * for the musl builds only): musl's own printf always links its floating-point
 * conversion (fmt_fp, long double arithmetic) and wide-character support, about 11 KiB
 * that nothing here uses (issue 13's size budget). The sanitizer builds keep the host
 * libc's printf, and tests/unit/test_fmt.c checks fmt_vformat against it.
 *
 * Conversions: d i u o x X c s % with the flags - + space # 0, a width and a precision
 * (digits or *), and the lengths hh h l ll j z t. Anything else (f e g a p n, wide
 * characters, positional arguments) is not a conversion here: the rest of the format
 * is written as it is, nothing more is taken from the arguments, and build.sh refuses
 * to build the static binary from sources whose formats use one.
 */
#ifndef CL_FMT_H
#define CL_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives n bytes of output (n > 0); the bytes are not NUL-terminated. */
typedef void	(*fmt_sink)(void *ctx, const char *s, size_t n);

/*
 * Formats fmt with ap, handing the output to sink in pieces. Returns the number of bytes
 * produced, or -1 (errno EOVERFLOW) when that, a width or a precision exceeds INT_MAX.
 */
int	fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/*
 * As C's vsnprintf: writes at most size - 1 bytes and a NUL into buf (nothing when size
 * is 0) and returns the length the whole output has, or -1 as fmt_vformat.
 */
int	fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
