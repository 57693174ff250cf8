/*
 * test_dns.c: the DNS codec and the hosts and resolv.conf line readers (dns.h), on
 * replies built here byte by byte, as RFC 1035 4.1 lays them out.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dns.h"
#include "test.h"

/* A reply to q: its header and question, then the answer records of rr[0..rrlen). */
static size_t
reply(unsigned char *out, const unsigned char *q, size_t qlen, int rcode, int ancount,
    const unsigned char *rr, size_t rrlen)
{
	memcpy(out, q, qlen);
	out[2] = 0x81;			/* QR, RD */
	out[3] = (unsigned char)(0x80 | rcode);	/* RA */
	out[6] = 0;
	out[7] = (unsigned char)ancount;
	memcpy(out + qlen, rr, rrlen);
	return qlen + rrlen;
}

static int
has4(const struct dns_addrs *a, const char *text)
{
	unsigned char	ip[4];
	size_t		i;

	inet_pton(AF_INET, text, ip);
	for (i = 0; i < a->n; i++)
		if (a->a[i].family == AF_INET && memcmp(a->a[i].ip, ip, 4) == 0)
			return 1;
	return 0;
}

static void
test_query(void)
{
	unsigned char	q[DNS_MAX_QUERY];
	char		name[300];
	size_t		n;
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'a', 'p', 'i', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 28, 0, 1 };

	n = dns_query_build(q, "api.example", 0x1234, DNS_T_AAAA);
	test_cond("a query is header, labels, type and class",
	    n == sizeof(want) && memcmp(q, want, n) == 0);
	test_cond("a final dot makes the same query",
	    dns_query_build(q, "api.example.", 0x1234, DNS_T_AAAA) == sizeof(want) &&
	    memcmp(q, want, n) == 0);
	test_cond("an empty name is refused", dns_query_build(q, "", 1, DNS_T_A) == 0);
	test_cond("a lone dot is refused", dns_query_build(q, ".", 1, DNS_T_A) == 0);
	test_cond("an empty label is refused", dns_query_build(q, "a..b", 1, DNS_T_A) == 0);
	test_cond("a leading dot is refused", dns_query_build(q, ".a", 1, DNS_T_A) == 0);
	memset(name, 'a', 64);
	name[64] = '\0';
	test_cond("a 64-byte label is refused", dns_query_build(q, name, 1, DNS_T_A) == 0);
	name[63] = '\0';
	test_cond("a 63-byte label is sent", dns_query_build(q, name, 1, DNS_T_A) == 12 + 65 + 4);
	/* Labels of 63, 63, 63 and 61 bytes: 253 bytes of text, the most there can be. */
	memset(name, 'b', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	test_cond("a 253-byte name is sent",
	    dns_query_build(q, name, 1, DNS_T_A) == DNS_MAX_QUERY);
	name[253] = 'c';
	name[254] = '\0';
	test_cond("a 254-byte name is refused", dns_query_build(q, name, 1, DNS_T_A) == 0);
}

static void
test_reply(void)
{
	unsigned char		q[DNS_MAX_QUERY], m[600];
	struct dns_addrs	a;
	size_t			qlen, n;
	int			rcode = -1;
	/* CNAME api.example -> lb.example (a pointer to the question's name), then the A
	 * records of lb.example: 10.0.0.7, and 10.0.0.7 again (kept once), 10.0.0.8. */
	static const unsigned char rr[] = {
		0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 5, 2, 'l', 'b', 0xc0, 16,
		0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
		0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
		0xc0, 29, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 8 };
	/* An AAAA record in reply to an A query, and an A record of 5 bytes. */
	static const unsigned char odd[] = {
		0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 1,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3, 4, 5 };

	qlen = dns_query_build(q, "api.example", 0xbeef, DNS_T_A);
	memset(&a, 0, sizeof(a));
	n = reply(m, q, qlen, 0, 4, rr, sizeof(rr));
	test_cond("A records after a CNAME are the answer",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_ADDRS && rcode == 0 &&
	    a.n == 2 && has4(&a, "10.0.0.7") && has4(&a, "10.0.0.8"));
	memset(&a, 0, sizeof(a));
	test_cond("a record cut short is a failure",
	    dns_reply_parse(m, n - 1, q, qlen, &a, &rcode) == DNS_REPLY_FAIL);
	memset(&a, 0, sizeof(a));
	test_cond("more records counted than sent is a failure",
	    (m[7] = 5, dns_reply_parse(m, n, q, qlen, &a, &rcode)) == DNS_REPLY_FAIL);
	m[7] = 4;
	m[0] ^= 1;
	test_cond("another id is not our reply",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_OTHER);
	m[0] ^= 1;
	m[14] = 'x';
	test_cond("another question is not our reply",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_OTHER);
	m[14] = 'P';
	memset(&a, 0, sizeof(a));
	test_cond("the question in other case is our reply",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_ADDRS && a.n == 2);
	m[2] = 0x01;
	test_cond("a query is not a reply",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_OTHER);
	m[2] = 0x81;
	test_cond("a reply shorter than the question is not ours",
	    dns_reply_parse(m, qlen - 1, q, qlen, &a, &rcode) == DNS_REPLY_OTHER);
	n = reply(m, q, qlen, 3, 0, rr, 0);
	test_cond("NXDOMAIN is no such name",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_NONAME && rcode == 3);
	n = reply(m, q, qlen, 2, 0, rr, 0);
	test_cond("SERVFAIL is a failure with its code",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_FAIL && rcode == 2);
	n = reply(m, q, qlen, 0, 0, rr, 0);
	memset(&a, 0, sizeof(a));
	test_cond("no records is an answer without addresses",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_ADDRS && a.n == 0);
	n = reply(m, q, qlen, 0, 2, odd, sizeof(odd));
	test_cond("records of another type or size are skipped",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_ADDRS && a.n == 0);
	/* A name of labels, not a pointer, that runs off the end. */
	n = reply(m, q, qlen, 0, 1, (const unsigned char *)"\x05" "ab", 3);
	test_cond("a name running off the end is a failure",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_FAIL);
	n = reply(m, q, qlen, 0, 1, (const unsigned char *)"\x80", 1);
	test_cond("a label type 10 is a failure",
	    dns_reply_parse(m, n, q, qlen, &a, &rcode) == DNS_REPLY_FAIL);
}

static void
test_hosts(void)
{
	struct dns_addrs	a;
	const char		*l;

	memset(&a, 0, sizeof(a));
	l = "10.1.2.3\tapi.example  API  # api.other";
	dns_hosts_line(l, strlen(l), "api", &a);
	test_cond("a hosts line names its aliases", a.n == 1 && has4(&a, "10.1.2.3"));
	dns_hosts_line(l, strlen(l), "API.example.", &a);
	test_cond("in any case, a final dot ignored, and once", a.n == 1);
	memset(&a, 0, sizeof(a));
	dns_hosts_line(l, strlen(l), "api.other", &a);
	test_cond("a comment names nothing", a.n == 0);
	dns_hosts_line(l, 9, "api.example", &a);
	test_cond("the line ends at its length", a.n == 0);
	l = "fd00::1 v6.example\r";
	dns_hosts_line(l, strlen(l), "v6.example", &a);
	test_cond("an IPv6 line, CR ignored", a.n == 1 && a.a[0].family == AF_INET6 &&
	    a.a[0].ip[0] == 0xfd && a.a[0].ip[15] == 1);
	memset(&a, 0, sizeof(a));
	l = "10.1.2.300 bad.example";
	dns_hosts_line(l, strlen(l), "bad.example", &a);
	l = "  # 10.1.2.3 bad.example";
	dns_hosts_line(l, strlen(l), "bad.example", &a);
	l = "10.1.2.3";
	dns_hosts_line(l, strlen(l), "10.1.2.3", &a);
	test_cond("a bad address, a comment, a line without names: nothing", a.n == 0);
	l = "10.1.2.3 ex\0ample.test";
	dns_hosts_line(l, 20, "ex", &a);
	test_cond("a NUL ends the line", a.n == 1);
}

static void
test_conf(void)
{
	struct dns_conf	c;
	const char	*lines[] = {
		"nameserver 10.96.0.10",
		"nameserver fd00::a  # a comment",
		"; nameserver 10.0.0.99",
		"nameserver 10.0.0.300",
		"nameserver 10.0.0.3",
		"nameserver 10.0.0.4",
		"domain ignored.example",
		"search default.svc.cluster.local svc.cluster.local cluster.local",
		"options ndots:5 timeout:0 attempts:99 rotate edns0 ndots:x",
	};
	char		long_line[600];
	size_t		i;

	dns_conf_init(&c);
	test_cond("defaults: ndots 1, 5 s, 2 tries",
	    c.nns == 0 && c.ndots == 1 && c.timeout == 5 && c.attempts == 2 &&
	    c.search[0] == '\0');
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		dns_conf_line(lines[i], strlen(lines[i]), &c);
	test_cond("three nameservers, the bad and the commented out skipped",
	    c.nns == 3 && c.ns[0].family == AF_INET && c.ns[0].ip[3] == 10 &&
	    c.ns[1].family == AF_INET6 && c.ns[2].ip[3] == 3);
	test_cond("the last search line wins",
	    strcmp(c.search, "default.svc.cluster.local svc.cluster.local cluster.local")
	    == 0);
	test_cond("options clamped, unknown ones ignored",
	    c.ndots == 5 && c.timeout == 1 && c.attempts == 10);
	dns_conf_line("options timeout:600", 19, &c);
	test_cond("a timeout over 60 s is 60 s", c.timeout == 60);
	memset(long_line, 0, sizeof(long_line));
	memcpy(long_line, "search ", 7);
	memset(long_line + 7, 'd', 200);
	long_line[207] = ' ';
	memset(long_line + 208, 'e', 100);
	dns_conf_line(long_line, strlen(long_line), &c);
	test_cond("a domain past the list's room is left out",
	    strlen(c.search) == 200 && c.search[0] == 'd');
}

static void
test_addr(void)
{
	struct dns_addr	a;

	test_cond("an IPv4 address", dns_addr_parse("10.1.2.3", 8, &a) == 0 &&
	    a.family == AF_INET && a.ip[0] == 10 && a.ip[3] == 3);
	test_cond("an IPv6 address", dns_addr_parse("::1", 3, &a) == 0 &&
	    a.family == AF_INET6 && a.ip[15] == 1);
	test_cond("only n bytes are read", dns_addr_parse("::1x", 3, &a) == 0 &&
	    a.family == AF_INET6);
	test_cond("a NUL inside the text is refused, not its end",
	    dns_addr_parse("::1\0x", 5, &a) == -1 && dns_addr_parse("1.2.3.4\0", 8, &a) == -1);
	test_cond("the longest IPv6 text", dns_addr_parse(
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 45, &a) == 0);
	test_cond("empty text refused", dns_addr_parse("", 0, &a) == -1);
}

static void
test_localhost(void)
{
	test_cond("localhost", dns_is_localhost("localhost") && dns_is_localhost("LocalHost."));
	test_cond("a name under localhost", dns_is_localhost("api.localhost"));
	test_cond("not a name ending in the letters",
	    !dns_is_localhost("mylocalhost") && !dns_is_localhost("localhost.example") &&
	    !dns_is_localhost("ocalhost"));
}

int
main(void)
{
	test_query();
	test_reply();
	test_hosts();
	test_conf();
	test_addr();
	test_localhost();
	return test_report();
}
