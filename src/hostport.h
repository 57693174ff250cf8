/*
 * hostport.h: the authority of a URL (host[:port], user info already removed), split
 * once for every URL carrier-lock reads: a kubeconfig's server, an OIDC issuer or token
 * endpoint, a proxy URL. A pure function: nothing here allocates or logs.
 *
 * The host is a name of letters, digits, '-', '.' and '_' (text_host_char()), or an
 * IPv6 address in brackets, checked as one (dns_addr_parse()). Not taken: a zone
 * ("[fe80::1%25eth0]": the connection code has no place for a scope), an IPv4 address
 * in brackets (RFC 3986 3.2.2 only brackets IPv6), an IPv6 address without brackets
 * (its last group would read as a port).
 */
#ifndef CL_HOSTPORT_H
#define CL_HOSTPORT_H

#include <stddef.h>

/* Flags of hostport_split(). */
#define HOSTPORT_EMPTY_PORT	1	/* "host:" is "host", as Go reads it; else an error */

struct hostport {
	const char	*host;		/* into s, brackets removed; never empty */
	size_t		 host_len;
	const char	*port;		/* into s: 1 to 5 digits, 1..65535; NULL when none */
	size_t		 port_len;
	int		 bracketed;	/* host was written "[...]" */
};

/*
 * Splits s[0..len) into *hp (pointers into s; s need not be NUL-terminated). Returns 0,
 * or -1 with *why a static phrase made to follow "URL: " ("has no host", "port must be
 * a number from 1 to 65535", ...) and *hp unspecified.
 */
int	hostport_split(const char *s, size_t len, int flags, struct hostport *hp,
	    const char **why);

#endif
