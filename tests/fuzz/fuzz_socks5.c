/*
 * fuzz_socks5.c: the SOCKS5 codec (socks5.h) over arbitrary proxy replies, and its
 * builders over arbitrary names.
 *
 * Checks, beyond the sanitizers:
 * - socks5_reply_parse() of a complete reply returns a length within the input and
 *   SOCKS5_MAX_REPLY, and every shorter prefix of it asks for more (0), never an error;
 *   an error on a prefix stays an error on the whole input;
 * - the method and authentication checks return only what was offered;
 * - a CONNECT request for the input as a host name fits SOCKS5_MAX_MSG and names it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char	 msg[SOCKS5_MAX_MSG + 16];
	const char	*why;
	char		*host;
	size_t		 i, n;
	long		 r, rp;
	int		 rep = -1, m;

	r = socks5_reply_parse(data, size, &rep, &why);
	if (r > 0 && ((size_t)r > size || r > SOCKS5_MAX_REPLY || rep < 0 || rep > 255))
		abort();
	for (i = 0; i < size && i < 300; i++) {
		rp = socks5_reply_parse(data, i, &rep, &why);
		if (r > 0 && (size_t)i < (size_t)r && rp != 0)
			abort();
		if (rp < 0 && r >= 0)
			abort();
		if (rp > 0 && rp != r)
			abort();
	}
	if (size >= 2) {
		m = socks5_method_check(data, 0, &why);
		if (m != -1 && m != 0)
			abort();
		m = socks5_method_check(data, 1, &why);
		if (m != -1 && m != 0 && m != 2)
			abort();
		if (socks5_auth_check(data, &why) == 0 && (data[0] != 1 || data[1] != 0))
			abort();
	}
	if ((host = malloc(size + 1)) == NULL)
		abort();
	memcpy(host, data, size);
	host[size] = '\0';
	n = socks5_request_build(msg, host, "6443");
	if (n > SOCKS5_MAX_MSG)
		abort();
	if (n > 0 && msg[3] == 3 && (msg[4] != strlen(host) || memcmp(msg + 5, host, msg[4])))
		abort();
	n = socks5_auth_build(msg, host, host);
	if (n > SOCKS5_MAX_MSG)
		abort();
	free(host);
	return 0;
}
