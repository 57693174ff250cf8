/*
 * dns.c: see dns.h. Every read of a reply is checked against its length before it is
 * made; names in replies are skipped, never followed, so a compression loop cannot
 * hold us.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "dns.h"

#define DNS_HEAD	12
#define DNS_C_IN	1

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

socklen_t
dns_sockaddr(const struct dns_addr *a, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	return sizeof(*s6);
}

int
dns_addrs_add(struct dns_addrs *out, const struct dns_addr *a)
{
	size_t	i, n = a->family == AF_INET ? 4 : 16;

	for (i = 0; i < out->n; i++)
		if (out->a[i].family == a->family && memcmp(out->a[i].ip, a->ip, n) == 0)
			return 0;
	if (out->n == DNS_MAX_ADDRS)
		return 0;
	out->a[out->n++] = *a;
	return 1;
}

size_t
dns_query_build(unsigned char *out, const char *name, unsigned id, int qtype)
{
	size_t	len = strlen(name), i, at, p;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_MAX_NAME)
		return 0;
	memset(out, 0, DNS_HEAD);
	out[0] = (unsigned char)(id >> 8);
	out[1] = (unsigned char)id;
	out[2] = 0x01;		/* RD: recursion desired */
	out[5] = 1;		/* QDCOUNT */
	/* at: the current label's length byte; p: where its next byte goes. */
	at = DNS_HEAD;
	p = at + 1;
	for (i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			out[p++] = (unsigned char)name[i];
			continue;
		}
		if (p - at - 1 == 0 || p - at - 1 > 63)
			return 0;
		out[at] = (unsigned char)(p - at - 1);
		at = p++;
	}
	out[at] = 0;
	out[p++] = (unsigned char)(qtype >> 8);
	out[p++] = (unsigned char)qtype;
	out[p++] = 0;
	out[p++] = DNS_C_IN;
	return p;
}

/* Skips the name at msg[at..len). Returns the offset after it, or 0 when it is cut
 * short or malformed. A pointer ends a name: it is not followed. */
static size_t
skip_name(const unsigned char *msg, size_t len, size_t at)
{
	while (at < len) {
		if (msg[at] == 0)
			return at + 1;
		if ((msg[at] & 0xc0) == 0xc0)
			return at + 2 <= len ? at + 2 : 0;
		if ((msg[at] & 0xc0) != 0)
			return 0;
		at += 1 + (size_t)msg[at];
	}
	return 0;
}

enum dns_reply
dns_reply_parse(const unsigned char *msg, size_t len, const unsigned char *q,
    size_t qlen, struct dns_addrs *out, int *rcode)
{
	struct dns_addr	a;
	size_t		i, at, an, rdlen;
	unsigned	qtype, type;

	/* The id, a reply (QR) to a standard query, and our question, byte for byte but
	 * for the case of letters (label lengths are at most 63, never letters). */
	if (len < qlen || qlen < DNS_HEAD + 5 || msg[0] != q[0] || msg[1] != q[1] ||
	    (msg[2] & 0xf8) != 0x80 || get16(msg + 4) != 1)
		return DNS_REPLY_OTHER;
	for (i = DNS_HEAD; i < qlen; i++)
		if (lower(msg[i]) != lower(q[i]))
			return DNS_REPLY_OTHER;
	*rcode = msg[3] & 0x0f;
	if (*rcode == 3)
		return DNS_REPLY_NONAME;
	if (*rcode != 0)
		return DNS_REPLY_FAIL;
	qtype = get16(q + qlen - 4);
	an = get16(msg + 6);
	at = qlen;
	while (an-- > 0) {
		if ((at = skip_name(msg, len, at)) == 0 || len - at < 10)
			return DNS_REPLY_FAIL;
		type = get16(msg + at);
		rdlen = get16(msg + at + 8);
		at += 10;
		if (len - at < rdlen)
			return DNS_REPLY_FAIL;
		/* Other records (the CNAMEs on the way to the name) are skipped. */
		if (type == qtype && get16(msg + at - 8) == DNS_C_IN &&
		    rdlen == (type == DNS_T_A ? 4u : 16u)) {
			memset(&a, 0, sizeof(a));
			a.family = type == DNS_T_A ? AF_INET : AF_INET6;
			memcpy(a.ip, msg + at, rdlen);
			dns_addrs_add(out, &a);
		}
		at += rdlen;
	}
	return DNS_REPLY_ADDRS;
}

/* The next word of line[*at..len): its start, its length in *n (0 at the end). */
static const char *
next_word(const char *line, size_t len, size_t *at, size_t *n)
{
	size_t	s;

	while (*at < len && is_blank(line[*at]))
		(*at)++;
	s = *at;
	while (*at < len && !is_blank(line[*at]))
		(*at)++;
	*n = *at - s;
	return line + s;
}

int
dns_addr_parse(const char *w, size_t n, struct dns_addr *a)
{
	char	text[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(text) || memchr(w, '\0', n) != NULL)
		return -1;
	memcpy(text, w, n);
	text[n] = '\0';
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	if (inet_pton(AF_INET, text, a->ip) == 1)
		return 0;
	a->family = AF_INET6;
	return inet_pton(AF_INET6, text, a->ip) == 1 ? 0 : -1;
}

/* The line up to a comment, a NUL or its end. */
static size_t
line_end(const char *line, size_t len, int also)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (line[i] == '\0' || line[i] == '#' || line[i] == also)
			break;
	return i;
}

static int
word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(w, s, n) == 0;
}

void
dns_hosts_line(const char *line, size_t len, const char *name, struct dns_addrs *out)
{
	struct dns_addr	 a;
	const char	*w;
	size_t		 at = 0, n, i, nlen = strlen(name);

	if (nlen > 0 && name[nlen - 1] == '.')
		nlen--;
	len = line_end(line, len, '#');
	w = next_word(line, len, &at, &n);
	if (dns_addr_parse(w, n, &a) != 0)
		return;
	for (;;) {
		w = next_word(line, len, &at, &n);
		if (n == 0)
			return;
		if (n > 0 && w[n - 1] == '.')
			n--;
		if (n != nlen)
			continue;
		for (i = 0; i < n && lower(w[i]) == lower(name[i]); i++)
			;
		if (i == n) {
			dns_addrs_add(out, &a);
			return;
		}
	}
}

void
dns_conf_init(struct dns_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->ndots = 1;
	c->timeout = 5;
	c->attempts = 2;
}

/* Reads "key:N" of an options line into *v, clamped to lo..hi. */
static void
option_num(const char *w, size_t n, const char *key, unsigned lo, unsigned hi,
    unsigned *v)
{
	size_t		k = strlen(key), i;
	unsigned	x = 0;

	if (n <= k || memcmp(w, key, k) != 0)
		return;
	for (i = k; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return;
		if (x < 1000)
			x = x * 10 + (unsigned)(w[i] - '0');
	}
	*v = x < lo ? lo : x > hi ? hi : x;
}

void
dns_conf_line(const char *line, size_t len, struct dns_conf *c)
{
	const char	*w, *key;
	size_t		 at = 0, n, kn, used;

	len = line_end(line, len, ';');
	key = next_word(line, len, &at, &kn);
	if (word_is(key, kn, "nameserver")) {
		w = next_word(line, len, &at, &n);
		if (c->nns < DNS_MAX_NS && dns_addr_parse(w, n, &c->ns[c->nns]) == 0)
			c->nns++;
	} else if (word_is(key, kn, "search") || word_is(key, kn, "domain")) {
		/* Domains that do not fit the list are left out, as musl does. */
		used = 0;
		c->search[0] = '\0';
		while ((w = next_word(line, len, &at, &n)), n > 0) {
			if (used + n + 2 > sizeof(c->search))
				break;
			if (used > 0)
				c->search[used++] = ' ';
			memcpy(c->search + used, w, n);
			used += n;
			c->search[used] = '\0';
		}
	} else if (word_is(key, kn, "options")) {
		while ((w = next_word(line, len, &at, &n)), n > 0) {
			option_num(w, n, "ndots:", 0, 15, &c->ndots);
			option_num(w, n, "timeout:", 1, 60, &c->timeout);
			option_num(w, n, "attempts:", 1, 10, &c->attempts);
		}
	}
}

int
dns_is_localhost(const char *name)
{
	size_t	n = strlen(name), i;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n < 9)
		return 0;
	for (i = 0; i < 9; i++)
		if (lower(name[n - 9 + i]) != "localhost"[i])
			return 0;
	return n == 9 || name[n - 10] == '.';
}
