/*
 * text.h: small checks of untrusted text, written once: decimal numbers, PIDs and
 * DNS-1123 names. Pure functions; nothing here allocates or logs.
 */
#ifndef CL_TEXT_H
#define CL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses s[0..len) as decimal digits only (no sign, no space) into *out. Returns 0, or
 * -1 when empty, not all digits, or above max (checked before it could overflow).
 * Leading zeros are accepted; callers that must refuse them check s[0] themselves.
 */
int	text_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/* A PID as the original tool wrote it and --pid takes: 1 to 10 digits, 1 to 2^31-1. 0 or -1. */
int	text_pid(const char *s, long *pid);

/*
 * A DNS-1123 label (dots = 0: lower-case letters, digits and '-', not first or last;
 * namespaces, max 63) or subdomain (dots = 1: labels joined by single dots; ConfigMap
 * names, max 253). Returns 1 when s is one.
 */
int	text_dns_name(const char *s, size_t max, int dots);

/* 1 for a byte a URL's host name may hold as Go's URL parser takes it (letters, digits,
 * '-', '.', '_'), before the name itself is checked. */
int	text_host_char(char c);

/* 1 when the NUL-terminated t may go into an HTTP header as a bearer token: printable
 * ASCII without spaces (a kubeconfig's, a plugin's or an issuer's). */
int	text_token_ok(const char *t);

#endif
