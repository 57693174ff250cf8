/*
 * test_hostport.c: hostport_split() over a table of authorities: names, bracketed IPv6
 * (checked as addresses), ports at and past their bounds, the empty-port flag, and
 * bytes no host may hold (high bytes, a NUL inside the length).
 */
#include <stdio.h>
#include <string.h>

#include "hostport.h"
#include "test.h"

#define E	HOSTPORT_EMPTY_PORT

#define NOHOST	"has no host"
#define NOCLOSE	"bad IPv6 address (no closing ']')"
#define BADV6	"bad IPv6 address"
#define AFTER	"unexpected text after ']'"
#define BRACKET	"an IPv6 address must be in brackets ([::1]:PORT)"
#define BADCHAR	"bad character in host name"
#define PORT	"port must be a number from 1 to 65535"

static const struct hcase {
	const char	*s;
	size_t		 len;		/* 0: strlen(s) */
	int		 flags;
	const char	*host;		/* NULL: an error, why */
	const char	*port;		/* NULL: none */
	int		 bracketed;
	const char	*why;
} cases[] = {
	{ "h", 0, 0, "h", NULL, 0, NULL },
	{ "h.example:6443", 0, 0, "h.example", "6443", 0, NULL },
	{ "A-b_c.D:1", 0, 0, "A-b_c.D", "1", 0, NULL },
	{ "127.0.0.1:8080", 0, 0, "127.0.0.1", "8080", 0, NULL },
	{ "h:65535", 0, 0, "h", "65535", 0, NULL },
	{ "h:00080", 0, 0, "h", "00080", 0, NULL },
	{ "[::1]", 0, 0, "::1", NULL, 1, NULL },
	{ "[::1]:443", 0, 0, "::1", "443", 1, NULL },
	{ "[ABCD:ef01::1]:8443", 0, 0, "ABCD:ef01::1", "8443", 1, NULL },
	{ "[::ffff:1.2.3.4]:80", 0, 0, "::ffff:1.2.3.4", "80", 1, NULL },
	{ "[1:2:3:4:5:6:7:8]", 0, 0, "1:2:3:4:5:6:7:8", NULL, 1, NULL },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:1", 0, 0,
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "1", 1, NULL },
	/* The length bounds the text: what follows is not read. */
	{ "h:80/path", 4, 0, "h", "80", 0, NULL },
	{ "[::1]:80", 5, 0, "::1", NULL, 1, NULL },
	{ "h:8080", 3, 0, "h", "8", 0, NULL },
	/* "host:": the scheme's port with the flag (Go's rule), else an error. */
	{ "h:", 0, E, "h", NULL, 0, NULL },
	{ "[::1]:", 0, E, "::1", NULL, 1, NULL },
	{ "h:", 0, 0, NULL, NULL, 0, PORT },
	{ "[::1]:", 0, 0, NULL, NULL, 0, PORT },
	{ "h:3128", 0, E, "h", "3128", 0, NULL },

	{ "", 0, 0, NULL, NULL, 0, NOHOST },
	{ "", 0, E, NULL, NULL, 0, NOHOST },
	{ ":80", 0, 0, NULL, NULL, 0, NOHOST },
	{ ":", 0, E, NULL, NULL, 0, NOHOST },
	{ "h:0", 0, 0, NULL, NULL, 0, PORT },
	{ "h:00000", 0, 0, NULL, NULL, 0, PORT },
	{ "h:65536", 0, 0, NULL, NULL, 0, PORT },
	{ "h:99999", 0, 0, NULL, NULL, 0, PORT },
	{ "h:000080", 0, 0, NULL, NULL, 0, PORT },
	{ "h:18446744073709551617", 0, 0, NULL, NULL, 0, PORT },
	{ "h:123456789012345678901234567890123456789012345678901234567890", 0, 0, NULL,
	    NULL, 0, PORT },
	{ "h:12ab", 0, 0, NULL, NULL, 0, PORT },
	{ "h:-1", 0, 0, NULL, NULL, 0, PORT },
	{ "h:+80", 0, 0, NULL, NULL, 0, PORT },
	{ "h: 80", 0, 0, NULL, NULL, 0, PORT },
	{ "h:0x50", 0, E, NULL, NULL, 0, PORT },
	{ "[::1]:x", 0, 0, NULL, NULL, 0, PORT },
	{ "[::1]:65536", 0, 0, NULL, NULL, 0, PORT },
	{ "[", 0, 0, NULL, NULL, 0, NOCLOSE },
	{ "[::1", 0, 0, NULL, NULL, 0, NOCLOSE },
	{ "[::1:3128", 0, E, NULL, NULL, 0, NOCLOSE },
	{ "[::1]", 4, 0, NULL, NULL, 0, NOCLOSE },
	{ "[]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[]:80", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[::1]x", 0, 0, NULL, NULL, 0, AFTER },
	{ "[::1]]", 0, 0, NULL, NULL, 0, AFTER },
	{ "[::1][::2]", 0, 0, NULL, NULL, 0, AFTER },
	/* Bracketed text must be an IPv6 address, not only its characters. */
	{ "[1.2.3.4]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[:::]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[:]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[...]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[1:2:3:4:5:6:7:8:9]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[12345::1]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[::g]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[fe80::1%25eth0]:443", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[fe80::1%eth0]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[h.example]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[ ::1]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000]", 0, 0, NULL, NULL, 0, BADV6 },
	{ "[::1\0:2]", 8, 0, NULL, NULL, 0, BADV6 },
	{ "[\xff::1]", 0, 0, NULL, NULL, 0, BADV6 },
	/* An IPv6 address (or anything with two colons) without brackets. */
	{ "::1", 0, 0, NULL, NULL, 0, BRACKET },
	{ "fe80::1:6443", 0, 0, NULL, NULL, 0, BRACKET },
	{ "a:b:c", 0, 0, NULL, NULL, 0, BRACKET },
	{ "h:80:", 0, E, NULL, NULL, 0, BRACKET },
	{ "::", 0, E, NULL, NULL, 0, BRACKET },
	{ "pro xy:3128", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "h/x", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "h]:80", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "h[1]", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "h[::1]", 0, 0, NULL, NULL, 0, BRACKET },
	{ "u@h", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "h\xc3\xa9.example", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "\xff:80", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "\x80", 0, 0, NULL, NULL, 0, BADCHAR },
	{ "h\0", 2, 0, NULL, NULL, 0, BADCHAR },
	{ "h:\xb9", 0, 0, NULL, NULL, 0, PORT },
	{ "h:8\xd9\xa0", 0, 0, NULL, NULL, 0, PORT },
};

static int
same(const char *p, size_t n, const char *want)
{
	return p != NULL && strlen(want) == n && memcmp(p, want, n) == 0;
}

static void
show(char *out, size_t osz, const char *s, size_t n)
{
	size_t	i, o = 0;

	for (i = 0; i < n && o + 5 < osz; i++)
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
			out[o++] = s[i];
		else
			o += (size_t)snprintf(out + o, osz - o, "\\x%02x", (unsigned char)s[i]);
	out[o] = '\0';
}

int
main(void)
{
	struct hostport	 hp;
	const char	*why;
	char		 shown[256], d[512];
	size_t		 i, n;
	int		 rc, ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcase *c = &cases[i];

		n = c->len != 0 ? c->len : strlen(c->s);
		why = NULL;
		rc = hostport_split(c->s, n, c->flags, &hp, &why);
		show(shown, sizeof(shown), c->s, n);
		if (c->host != NULL) {
			ok = rc == 0 && same(hp.host, hp.host_len, c->host) &&
			    hp.bracketed == c->bracketed && (c->port == NULL ? hp.port == NULL :
			    same(hp.port, hp.port_len, c->port)) &&
			    hp.host >= c->s && hp.host + hp.host_len <= c->s + n &&
			    (hp.port == NULL || (hp.port >= c->s && hp.port + hp.port_len <= c->s + n));
			snprintf(d, sizeof(d), "\"%s\"%s -> host %s port %s%s", shown,
			    c->flags & E ? " (empty port ok)" : "", c->host,
			    c->port != NULL ? c->port : "none", c->bracketed ? " bracketed" : "");
		} else {
			ok = rc == -1 && why != NULL && strcmp(why, c->why) == 0;
			snprintf(d, sizeof(d), "\"%s\"%s -> \"%s\" (got %s)", shown,
			    c->flags & E ? " (empty port ok)" : "", c->why,
			    rc == 0 ? "success" : why != NULL ? why : "no reason");
		}
		test_cond(d, ok);
	}
	return test_report();
}
