/*
 * log.h: the one place that writes human messages to stderr.
 *
 * Every message is one line prefixed "carrier-lock: ". Report an error once, where
 * its cause is known, saying what failed and where. log_verbose prints only with -v.
 * Nothing here is ever given a secret (token, key, certificate bytes).
 */
#ifndef CL_LOG_H
#define CL_LOG_H

#include <stddef.h>

void	log_set_verbose(int on);
int	log_is_verbose(void);
/* When on, an error equal to the previous one is not repeated (retries say it once). */
void	log_set_dedup(int on);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copies at most len bytes of untrusted src into dst (size dstsz, always NUL-terminated),
 * replacing each byte outside printable ASCII with '?', and marking a cut with "...".
 * Use it on every server or file byte before printing. Returns dst.
 */
char	*log_sanitize(char *dst, size_t dstsz, const char *src, size_t len);

#endif
