/*
 * socks5.h: the client side of SOCKS version 5 (RFC 1928) with user/password
 * authentication (RFC 1929), as pure functions over byte buffers: no I/O, so every
 * reply path is fuzzed (tests/fuzz/fuzz_socks5.c). proxy_dial.c does the talking.
 *
 * Exchange: greeting -> method choice (2 bytes) -> [user/password -> status (2 bytes)]
 * -> CONNECT request -> reply (variable length, socks5_reply_parse()).
 */
#ifndef CL_SOCKS5_H
#define CL_SOCKS5_H

#include <stddef.h>

#define SOCKS5_MAX_MSG		515	/* the largest message we build (user/password) */
#define SOCKS5_MAX_REPLY	262	/* the largest CONNECT reply (a 255-byte name) */

/* Writes the greeting (offers no authentication, and user/password when auth) into out
 * (at least 4 bytes). Returns its length. */
size_t	socks5_greeting(unsigned char *out, int auth);

/*
 * Checks the 2-byte method choice. Returns the method (0 none, 2 user/password), or -1
 * with *why set (not SOCKS5, no acceptable method, a method we did not offer).
 */
int	socks5_method_check(const unsigned char b[2], int auth, const char **why);

/* Builds the RFC 1929 request into out (SOCKS5_MAX_MSG bytes). user 1..255 bytes, pass
 * 0..255 (NULL: empty). Returns its length, or 0 when a length is out of range.
 * The buffer holds the password: wipe it. */
size_t	socks5_auth_build(unsigned char *out, const char *user, const char *pass);

/* Checks the 2-byte RFC 1929 status. Returns 0 when accepted, else -1 with *why set. */
int	socks5_auth_check(const unsigned char b[2], const char **why);

/*
 * Builds CONNECT to host (IPv4/IPv6 literal, sent as an address; else a name of 1..255
 * bytes, resolved by the proxy) and port (decimal 1..65535) into out (SOCKS5_MAX_MSG
 * bytes). Returns its length, or 0 when host or port cannot be sent.
 */
size_t	socks5_request_build(unsigned char *out, const char *host, const char *port);

/*
 * Parses the CONNECT reply in b[0..len). Returns its whole length (> 0) when complete,
 * with *rep the reply code (0 succeeded; the caller turns others into socks5_rep_str()),
 * 0 when more bytes are needed, or -1 with *why set when it is malformed.
 */
long	socks5_reply_parse(const unsigned char *b, size_t len, int *rep, const char **why);

/* RFC 1928's text for reply code rep ("connection refused", ...). */
const char *socks5_rep_str(int rep);

#endif
