/*
 * dns.h: the bytes of name resolution as pure functions: DNS queries and replies
 * (RFC 1035: A and AAAA over UDP), and one line of /etc/hosts or /etc/resolv.conf.
 * No I/O, so every parser is fuzzed (tests/fuzz/fuzz_dns.c); resolve.c does the
 * reading and the talking.
 *
 * Why our own and not getaddrinfo(): musl's resolver (with the stdio, scanf and sorting
 * code it pulls in) was 15 KiB of a binary that must stay under 256 KiB, and it takes
 * no deadline. What is kept of its behaviour is said in resolve.h.
 */
#ifndef CL_DNS_H
#define CL_DNS_H

#include <stddef.h>

#include <sys/socket.h>

#define DNS_MAX_ADDRS	16	/* addresses kept for one name: more are not tried */
#define DNS_MAX_NAME	253	/* a name's text, without the final dot (RFC 1035 2.3.4) */
#define DNS_MAX_QUERY	(12 + DNS_MAX_NAME + 2 + 4)
#define DNS_MAX_NS	3	/* nameservers used, as every libc resolver does */
#define DNS_MAX_SEARCH	256	/* bytes of the search list, NUL included */

#define DNS_T_A		1
#define DNS_T_AAAA	28

struct dns_addr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	ip[16];		/* 4 bytes used for AF_INET */
};

struct dns_addrs {
	size_t		n;
	struct dns_addr	a[DNS_MAX_ADDRS];
};

/* What resolv.conf says; dns_conf_init() sets the defaults every libc uses. */
struct dns_conf {
	size_t		nns;		/* 0 after parsing: the caller uses 127.0.0.1 */
	struct dns_addr	ns[DNS_MAX_NS];
	char		search[DNS_MAX_SEARCH];	/* domains separated by one space */
	unsigned	ndots;		/* 1; at most 15 */
	unsigned	timeout;	/* seconds per try: 5; 1 to 60 */
	unsigned	attempts;	/* 2; 1 to 10 */
};

/* The outcome of one reply, for the query it answers. */
enum dns_reply {
	DNS_REPLY_OTHER,	/* not a reply to this query (another id, question): ignore it */
	DNS_REPLY_ADDRS,	/* an answer: its addresses (maybe none) were added */
	DNS_REPLY_NONAME,	/* NXDOMAIN: no such name */
	DNS_REPLY_FAIL		/* SERVFAIL, REFUSED, another error, or malformed */
};

/*
 * Builds a recursive query for name (text, an optional final dot) and qtype with id
 * into out (DNS_MAX_QUERY bytes). Returns its length, or 0 when the name cannot be
 * sent: empty, a label empty or over 63 bytes, over DNS_MAX_NAME bytes.
 */
size_t	dns_query_build(unsigned char *out, const char *name, unsigned id, int qtype);

/*
 * Parses msg[0..len) as the reply to q[0..qlen) (a dns_query_build() result). Adds the
 * A or AAAA records of the answer section that are not there yet to *out, while it has
 * room. *rcode is the reply's code (for messages) when it is one.
 */
enum dns_reply dns_reply_parse(const unsigned char *msg, size_t len,
	    const unsigned char *q, size_t qlen, struct dns_addrs *out, int *rcode);

/*
 * Reads one line of /etc/hosts (no newline; a NUL ends it early). When it names name
 * (case-insensitive, a final dot ignored), adds its address to *out (when not there
 * and there is room). Malformed lines are ignored, as by every libc.
 */
void	dns_hosts_line(const char *line, size_t len, const char *name,
	    struct dns_addrs *out);

void	dns_conf_init(struct dns_conf *c);
/*
 * Reads one line of /etc/resolv.conf into *c: nameserver (IPv4 or IPv6 address, the
 * first DNS_MAX_NS), search and domain (the last such line wins), options ndots:,
 * timeout: and attempts: (clamped to their ranges). Everything else is ignored, as by
 * every libc.
 */
void	dns_conf_line(const char *line, size_t len, struct dns_conf *c);

/* Fills *ss with a and port. Returns the length of the address it made. */
socklen_t dns_sockaddr(const struct dns_addr *a, unsigned port,
	    struct sockaddr_storage *ss);

/* Parses all of w[0..n) as an IPv4 or IPv6 address into *a. Returns 0, or -1 (a NUL in
 * w[0..n) is -1, not the end of the text). */
int	dns_addr_parse(const char *w, size_t n, struct dns_addr *a);

/* Adds a to *out unless it is there or out is full. Returns 1 when added. */
int	dns_addrs_add(struct dns_addrs *out, const struct dns_addr *a);

/* Whether name is "localhost" or ends in ".localhost" (RFC 6761 6.3; a final dot ignored). */
int	dns_is_localhost(const char *name);

#endif
