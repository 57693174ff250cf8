/*
 * noproxy.c: see noproxy.h. Entries are taken as (pointer, length) slices of the list,
 * so nothing is copied and no entry is too long.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "noproxy.h"

#define NOPROXY_IP_TEXT	64	/* longer text is no IP literal */

/* An IP address: 4 bytes for IPv4 (also IPv4-mapped IPv6), else 16. */
struct np_ip {
	unsigned char	a[16];
	size_t		len;
};

/* Parses s[0..n) as an IPv4 or IPv6 literal (no brackets, no zone). 0, or -1. */
static int
np_ip_parse(const char *s, size_t n, struct np_ip *ip)
{
	static const unsigned char	v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char				t[NOPROXY_IP_TEXT];

	if (n == 0 || n >= sizeof(t))
		return -1;
	memcpy(t, s, n);
	t[n] = '\0';
	if (inet_pton(AF_INET, t, ip->a) == 1) {
		ip->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, t, ip->a) != 1)
		return -1;
	ip->len = 16;
	/* Go's net.IP.Equal and IPNet.Contains treat ::ffff:a.b.c.d as a.b.c.d. */
	if (memcmp(ip->a, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(ip->a, ip->a + 12, 4);
		ip->len = 4;
	}
	return 0;
}

static int
np_is_loopback(const struct np_ip *ip)
{
	static const unsigned char	one[16] = { [15] = 1 };

	if (ip->len == 4)
		return ip->a[0] == 127;
	return memcmp(ip->a, one, 16) == 0;
}

static int
np_digits(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	if (n == 0 || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Does entry e[0..n) parse as ADDR/BITS, and is ip (parsed target, or NULL) inside? */
static int
np_cidr(const char *e, size_t n, const struct np_ip *ip, int *inside)
{
	const char	*slash = memchr(e, '/', n);
	struct np_ip	 net;
	unsigned	 bits, i;

	*inside = 0;
	if (slash == NULL || np_ip_parse(e, (size_t)(slash - e), &net) != 0)
		return 0;
	if (np_digits(slash + 1, n - (size_t)(slash - e) - 1, 128, &bits) != 0)
		return 0;
	/*
	 * A mapped IPv4 net written as IPv6 (::ffff:10.0.0.0/104) has an IPv6 prefix length;
	 * Go applies its last 32 bits to IPv4 hosts, so a prefix under 96 covers them all.
	 */
	if (net.len == 4 && memchr(e, ':', (size_t)(slash - e)) != NULL)
		bits = bits < 96 ? 0 : bits - 96;
	else if (bits > net.len * 8)
		return 0;
	if (ip == NULL || ip->len != net.len)
		return 1;
	for (i = 0; i < bits; i++) {
		unsigned char	m = (unsigned char)(0x80 >> (i % 8));

		if ((ip->a[i / 8] & m) != (net.a[i / 8] & m))
			return 1;
	}
	*inside = 1;
	return 1;
}

/*
 * Splits as Go's net.SplitHostPort: "host:port" or "[host]:port" (port may be empty).
 * Returns 0 with the parts, or -1 when e has no port or a misplaced bracket or colon.
 */
static int
np_split(const char *e, size_t n, const char **h, size_t *hn, const char **p, size_t *pn)
{
	const char	*colon = NULL;
	size_t		 i;

	for (i = n; i > 0; i--)
		if (e[i - 1] == ':') {
			colon = e + i - 1;
			break;
		}
	if (colon == NULL)
		return -1;
	if (e[0] == '[') {
		const char *close = memchr(e, ']', n);

		if (close == NULL || close + 1 != colon)
			return -1;
		*h = e + 1;
		*hn = (size_t)(close - e - 1);
		if (memchr(e + 1, '[', *hn) != NULL)
			return -1;
	} else {
		*h = e;
		*hn = (size_t)(colon - e);
		if (memchr(e, ':', *hn) != NULL || memchr(e, '[', *hn) != NULL ||
		    memchr(e, ']', *hn) != NULL)
			return -1;
	}
	*p = colon + 1;
	*pn = n - (size_t)(colon + 1 - e);
	if (memchr(*p, '[', *pn) != NULL || memchr(*p, ']', *pn) != NULL)
		return -1;
	return 0;
}

/* Go lower-cases the whole entry, its port too, and compares that with the port as is. */
static int
np_port_ok(const char *p, size_t pn, const char *port)
{
	size_t	i;

	if (pn == 0)
		return 1;
	if (strlen(port) != pn)
		return 0;
	for (i = 0; i < pn; i++)
		if (tolower((unsigned char)p[i]) != port[i])
			return 0;
	return 1;
}

/* Does entry e[0..n) (trimmed, not empty, not "*") send host:port direct? */
static int
np_entry(const char *e, size_t n, const char *host, const struct np_ip *ip,
    const char *port)
{
	const char	*h, *p = "";
	size_t		 hn, pn = 0, hl;
	struct np_ip	 eip;
	int		 inside, dot;

	if (np_cidr(e, n, ip, &inside))
		return inside;
	if (np_split(e, n, &h, &hn, &p, &pn) != 0) {
		h = e;
		hn = n;
		pn = 0;
	} else if (hn == 0)
		return 0;
	if (hn >= 2 && h[0] == '[' && h[hn - 1] == ']') {
		h++;
		hn -= 2;
	}
	if (np_ip_parse(h, hn, &eip) == 0)
		return ip != NULL && eip.len == ip->len && memcmp(eip.a, ip->a, ip->len) == 0 &&
		    np_port_ok(p, pn, port);
	if (hn == 0 || ip != NULL)
		return 0;
	if (hn >= 2 && h[0] == '*' && h[1] == '.') {
		h++;
		hn--;
	}
	/* "name" matches itself and ".name" its subdomains; ".name" only subdomains. */
	dot = h[0] == '.';
	hl = strlen(host);
	if (dot) {
		if (hl < hn || strncasecmp(host + hl - hn, h, hn) != 0)
			return 0;
	} else if (!(hl == hn && strncasecmp(host, h, hn) == 0) &&
	    !(hl > hn && host[hl - hn - 1] == '.' && strncasecmp(host + hl - hn, h, hn) == 0))
		return 0;
	return np_port_ok(p, pn, port);
}

int
noproxy_bypass(const char *no_proxy, const char *host, const char *port)
{
	struct np_ip	 ip;
	const struct np_ip *ipp = NULL;
	const char	*s, *e;
	size_t		 n;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (np_ip_parse(host, strlen(host), &ip) == 0) {
		if (np_is_loopback(&ip))
			return 1;
		ipp = &ip;
	}
	if (no_proxy == NULL)
		return 0;
	for (s = no_proxy; ; s = e + 1) {
		e = s + strcspn(s, ",");
		n = (size_t)(e - s);
		/* Go's strings.TrimSpace: ASCII white space (and Unicode's, not handled). */
		while (n > 0 && strchr(" \t\n\v\f\r", s[0]) != NULL && s[0] != '\0') {
			s++;
			n--;
		}
		while (n > 0 && strchr(" \t\n\v\f\r", s[n - 1]) != NULL && s[n - 1] != '\0')
			n--;
		if (n == 1 && s[0] == '*')
			return 1;
		if (n > 0 && np_entry(s, n, host, ipp, port))
			return 1;
		if (*e == '\0')
			break;
	}
	return 0;
}
