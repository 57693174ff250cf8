/*
 * resolve.h: a host name to the addresses to connect to, within a deadline.
 *
 * What it does, which is what musl's getaddrinfo() did for the static binary before
 * (dns.h says why it is ours now), with the differences marked:
 * - an IPv4 or IPv6 literal is its own address, with no file or network read;
 * - /etc/hosts first: every line that names the host, in file order; lines are read up
 *   to 4,095 bytes (musl: 511);
 * - "localhost" and names under it that /etc/hosts does not list are 127.0.0.1 and ::1
 *   (RFC 6761; new: a FROM scratch image has no /etc/hosts);
 * - then DNS over UDP to the nameservers of /etc/resolv.conf (at most 3; 127.0.0.1 when
 *   it names none or is missing), A and AAAA asked of all at once, each try waiting
 *   `options timeout:` seconds (5), `attempts:` tries (2), never past the deadline
 *   (new: getaddrinfo() took no deadline);
 * - a name with fewer dots than `options ndots:` (1) is tried with each domain of
 *   `search` (or `domain`) appended first, then as it is; a final dot means as it is
 *   only. A domain that has no such name, or no address for it, moves on to the next;
 *   a nameserver's failure (SERVFAIL, no answer) stops there, so that a failure never
 *   turns into another name's address;
 * - IPv4 addresses are tried before IPv6 ones (musl sorted by RFC 6724), at most
 *   DNS_MAX_ADDRS of them. A truncated reply's complete records are used; there is no
 *   retry over TCP (musl 1.2.3 had none either).
 */
#ifndef CL_RESOLVE_H
#define CL_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

/*
 * Resolves host into *out (out->n > 0). Returns 0, or -1 with why[0..whysz) saying what
 * failed (no such host, which nameserver did not answer or how it failed) and errno
 * EHOSTUNREACH, or ETIMEDOUT when the deadline passed, or EINTR (why empty) when
 * sig_pending() is set. Logs nothing.
 */
int	resolve_host(const char *host, int64_t deadline, struct dns_addrs *out,
	    char *why, size_t whysz);

#endif
