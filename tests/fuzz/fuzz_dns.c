/*
 * fuzz_dns.c: the DNS codec (dns.h) over arbitrary replies, and the hosts and
 * resolv.conf line readers over arbitrary lines.
 *
 * The input is a reply to a query for "api.example" whose id is the input's first two
 * bytes and whose type is A, or AAAA when the input's last byte is odd; its lines are
 * also read as /etc/hosts and /etc/resolv.conf lines; and it is built as a query name.
 *
 * Checks, beyond the sanitizers:
 * - a reply adds at most DNS_MAX_ADDRS addresses, each once, of the queried family;
 * - resolv.conf's values stay in their ranges and its search list in its array;
 * - a query built from a name is at most DNS_MAX_QUERY bytes, and its labels spell the
 *   name.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_addrs(const struct dns_addrs *a, int family)
{
	size_t	i, j;

	if (a->n > DNS_MAX_ADDRS)
		abort();
	for (i = 0; i < a->n; i++) {
		if (family != 0 && a->a[i].family != family)
			abort();
		for (j = 0; j < i; j++)
			if (a->a[j].family == a->a[i].family &&
			    memcmp(a->a[j].ip, a->a[i].ip, 16) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		 q[DNS_MAX_QUERY];
	struct dns_addrs	 a;
	struct dns_conf		 c;
	const char		*line = (const char *)data, *nl;
	char			 name[300];
	size_t			 qlen, rest = size, n, i, at;
	int			 rcode, aaaa = size > 0 && (data[size - 1] & 1);

	qlen = dns_query_build(q, "api.example", size >= 2 ? (unsigned)data[0] << 8 | data[1] : 0,
	    aaaa ? DNS_T_AAAA : DNS_T_A);
	memset(&a, 0, sizeof(a));
	(void)dns_reply_parse(data, size, q, qlen, &a, &rcode);
	check_addrs(&a, aaaa ? AF_INET6 : AF_INET);

	memset(&a, 0, sizeof(a));
	dns_conf_init(&c);
	while (rest > 0) {
		nl = memchr(line, '\n', rest);
		n = nl != NULL ? (size_t)(nl - line) : rest;
		dns_hosts_line(line, n, "api.example", &a);
		dns_conf_line(line, n, &c);
		n += nl != NULL;
		line += n;
		rest -= n;
	}
	check_addrs(&a, 0);
	if (c.nns > DNS_MAX_NS || c.ndots > 15 || c.timeout < 1 || c.timeout > 60 ||
	    c.attempts < 1 || c.attempts > 10 || memchr(c.search, '\0', DNS_MAX_SEARCH) == NULL)
		abort();

	n = size < sizeof(name) ? size : sizeof(name) - 1;
	memcpy(name, data, n);
	name[n] = '\0';
	if ((qlen = dns_query_build(q, name, 7, DNS_T_A)) != 0) {
		if (qlen > DNS_MAX_QUERY)
			abort();
		n = strlen(name);
		if (n > 0 && name[n - 1] == '.')
			n--;
		for (at = 12, i = 0; q[at] != 0; at += 1 + q[at]) {
			if (i > 0 && name[i++] != '.')
				abort();
			if (q[at] > 63 || memcmp(q + at + 1, name + i, q[at]) != 0)
				abort();
			i += q[at];
		}
		if (i != n || qlen != at + 5)
			abort();
	}
	return 0;
}
