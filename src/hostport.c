/*
 * hostport.c: see hostport.h.
 */
#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "hostport.h"
#include "text.h"

int
hostport_split(const char *s, size_t len, int flags, struct hostport *hp,
    const char **why)
{
	const char	*end = s + len, *colon, *close;
	struct dns_addr	 a;
	uint64_t	 pv;
	size_t		 i;

	memset(hp, 0, sizeof(*hp));
	hp->host = s;
	if (len > 0 && s[0] == '[') {
		hp->host = s + 1;
		if ((close = memchr(hp->host, ']', len - 1)) == NULL) {
			*why = "bad IPv6 address (no closing ']')";
			return -1;
		}
		hp->host_len = (size_t)(close - hp->host);
		if (dns_addr_parse(hp->host, hp->host_len, &a) != 0 || a.family != AF_INET6) {
			*why = "bad IPv6 address";
			return -1;
		}
		hp->bracketed = 1;
		colon = close + 1;
		if (colon < end && *colon != ':') {
			*why = "unexpected text after ']'";
			return -1;
		}
	} else {
		if ((colon = memchr(s, ':', len)) == NULL)
			colon = end;
		hp->host_len = (size_t)(colon - s);
		if (colon < end && memchr(colon + 1, ':', (size_t)(end - colon - 1)) != NULL) {
			*why = "an IPv6 address must be in brackets ([::1]:PORT)";
			return -1;
		}
		if (hp->host_len == 0) {
			*why = "has no host";
			return -1;
		}
		for (i = 0; i < hp->host_len; i++)
			if (!text_host_char(s[i])) {
				*why = "bad character in host name";
				return -1;
			}
	}
	if (colon == end)
		return 0;
	hp->port = colon + 1;
	hp->port_len = (size_t)(end - hp->port);
	if (hp->port_len == 0 && (flags & HOSTPORT_EMPTY_PORT) != 0) {
		hp->port = NULL;
		return 0;
	}
	/* At most five digits, leading zeros included ("00080" is 80, "000080" is refused). */
	if (hp->port_len > 5 || text_u64(hp->port, hp->port_len, 65535, &pv) != 0 ||
	    pv == 0) {
		*why = "port must be a number from 1 to 65535";
		return -1;
	}
	return 0;
}
