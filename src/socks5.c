/* socks5.c: see socks5.h. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "socks5.h"
#include "text.h"

#define S5_VER		5
#define S5_AUTH_VER	1	/* RFC 1929's sub-negotiation version */
#define S5_NOAUTH	0
#define S5_USERPASS	2
#define S5_NONE		0xff
#define S5_CONNECT	1
#define S5_IPV4		1
#define S5_NAME		3
#define S5_IPV6		4

size_t
socks5_greeting(unsigned char *out, int auth)
{
	out[0] = S5_VER;
	out[1] = auth ? 2 : 1;
	out[2] = S5_NOAUTH;
	if (!auth)
		return 3;
	out[3] = S5_USERPASS;
	return 4;
}

int
socks5_method_check(const unsigned char b[2], int auth, const char **why)
{
	if (b[0] != S5_VER) {
		*why = "not a SOCKS5 reply (wrong version byte)";
		return -1;
	}
	if (b[1] == S5_NONE) {
		*why = auth ? "accepts none of the authentication methods offered "
		    "(none, user/password)" :
		    "requires authentication (put user:password@ in the proxy URL)";
		return -1;
	}
	if (b[1] == S5_NOAUTH || (auth && b[1] == S5_USERPASS))
		return b[1];
	*why = "chose an authentication method that was not offered";
	return -1;
}

size_t
socks5_auth_build(unsigned char *out, const char *user, const char *pass)
{
	size_t	ul = strlen(user), pl = pass != NULL ? strlen(pass) : 0;

	if (ul == 0 || ul > 255 || pl > 255)
		return 0;
	out[0] = S5_AUTH_VER;
	out[1] = (unsigned char)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (unsigned char)pl;
	if (pl > 0)
		memcpy(out + 3 + ul, pass, pl);
	return 3 + ul + pl;
}

int
socks5_auth_check(const unsigned char b[2], const char **why)
{
	if (b[0] != S5_AUTH_VER) {
		*why = "bad user/password reply (wrong version byte)";
		return -1;
	}
	if (b[1] != 0) {
		*why = "rejected the user name and password";
		return -1;
	}
	return 0;
}

size_t
socks5_request_build(unsigned char *out, const char *host, const char *port)
{
	uint64_t	pv;
	size_t		n, hl = strlen(host);

	if (text_u64(port, strlen(port), 65535, &pv) != 0 || pv == 0)
		return 0;
	out[0] = S5_VER;
	out[1] = S5_CONNECT;
	out[2] = 0;
	if (inet_pton(AF_INET, host, out + 4) == 1) {
		out[3] = S5_IPV4;
		n = 8;
	} else if (inet_pton(AF_INET6, host, out + 4) == 1) {
		out[3] = S5_IPV6;
		n = 20;
	} else {
		if (hl == 0 || hl > 255)
			return 0;
		out[3] = S5_NAME;
		out[4] = (unsigned char)hl;
		memcpy(out + 5, host, hl);
		n = 5 + hl;
	}
	out[n] = (unsigned char)(pv >> 8);
	out[n + 1] = (unsigned char)(pv & 0xff);
	return n + 2;
}

long
socks5_reply_parse(const unsigned char *b, size_t len, int *rep, const char **why)
{
	size_t	need;

	if (len >= 1 && b[0] != S5_VER) {
		*why = "not a SOCKS5 reply (wrong version byte)";
		return -1;
	}
	if (len >= 3 && b[2] != 0) {
		*why = "malformed SOCKS5 reply (reserved byte not zero)";
		return -1;
	}
	if (len < 4)
		return 0;
	switch (b[3]) {
	case S5_IPV4:
		need = 4 + 4 + 2;
		break;
	case S5_IPV6:
		need = 4 + 16 + 2;
		break;
	case S5_NAME:
		if (len < 5)
			return 0;
		if (b[4] == 0) {
			*why = "malformed SOCKS5 reply (empty bound name)";
			return -1;
		}
		need = 5 + (size_t)b[4] + 2;
		break;
	default:
		*why = "malformed SOCKS5 reply (unknown address type)";
		return -1;
	}
	if (len < need)
		return 0;
	*rep = b[1];
	return (long)need;
}

const char *
socks5_rep_str(int rep)
{
	static const char *const text[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};

	if (rep >= 0 && (size_t)rep < sizeof(text) / sizeof(text[0]))
		return text[rep];
	return "unassigned reply code";
}
