/*
 * fuzz_hostport.c: hostport_split() over arbitrary bytes, in a buffer of exactly their
 * size (no NUL after it), so that a read past the length is caught by ASan.
 *
 * Checks, beyond the sanitizers, for each flag value:
 * - an accepted authority has a non-empty host and a port of 1 to 5 digits, 1..65535,
 *   or none, all inside the input; a bracketed host is an IPv6 address, any other a
 *   run of text_host_char() bytes;
 * - written back as host[:port] (brackets kept) it splits to the same parts;
 * - HOSTPORT_EMPTY_PORT only adds "host:" (as host): what splits without it splits the
 *   same with it, and what splits only with it ends in ':' and has no port.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "hostport.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const struct hostport *a, const struct hostport *b)
{
	return a->host_len == b->host_len && memcmp(a->host, b->host, a->host_len) == 0 &&
	    a->bracketed == b->bracketed && (a->port == NULL) == (b->port == NULL) &&
	    (a->port == NULL || (a->port_len == b->port_len &&
	    memcmp(a->port, b->port, a->port_len) == 0));
}

static void
check(const char *s, size_t len, int flags, const struct hostport *hp)
{
	struct hostport	 again;
	struct dns_addr	 a;
	const char	*why;
	uint64_t	 pv;
	char		*w;
	size_t		 i, n = 0;

	if (hp->host_len == 0 || hp->host < s || hp->host_len > len ||
	    (size_t)(hp->host - s) > len - hp->host_len)
		abort();
	if (hp->bracketed != (s[0] == '['))
		abort();
	if (hp->bracketed) {
		if (dns_addr_parse(hp->host, hp->host_len, &a) != 0 || a.family != AF_INET6)
			abort();
	} else {
		for (i = 0; i < hp->host_len; i++)
			if (!text_host_char(hp->host[i]))
				abort();
	}
	if (hp->port != NULL) {
		if (hp->port < s || hp->port_len > len || (size_t)(hp->port - s) > len - hp->port_len ||
		    hp->port_len == 0 || hp->port_len > 5 ||
		    text_u64(hp->port, hp->port_len, 65535, &pv) != 0 || pv == 0)
			abort();
	}
	if ((w = malloc(hp->host_len + hp->port_len + 3)) == NULL)
		abort();
	if (hp->bracketed)
		w[n++] = '[';
	memcpy(w + n, hp->host, hp->host_len);
	n += hp->host_len;
	if (hp->bracketed)
		w[n++] = ']';
	if (hp->port != NULL) {
		w[n++] = ':';
		memcpy(w + n, hp->port, hp->port_len);
		n += hp->port_len;
	}
	if (hostport_split(w, n, flags, &again, &why) != 0 || !same(hp, &again))
		abort();
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hostport	 strict, lax;
	const char	*why_s = NULL, *why_l = NULL;
	char		*s;
	int		 rs, rl;

	if (size > 4096 || (s = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	rs = hostport_split(s, size, 0, &strict, &why_s);
	rl = hostport_split(s, size, HOSTPORT_EMPTY_PORT, &lax, &why_l);
	if ((rs != 0 && (why_s == NULL || why_s[0] == '\0')) ||
	    (rl != 0 && (why_l == NULL || why_l[0] == '\0')))
		abort();
	if (rs == 0) {
		check(s, size, 0, &strict);
		if (rl != 0 || !same(&strict, &lax))
			abort();
	}
	if (rl == 0) {
		check(s, size, HOSTPORT_EMPTY_PORT, &lax);
		if (rs != 0 && (s[size - 1] != ':' || lax.port != NULL))
			abort();
	}
	free(s);
	return 0;
}
