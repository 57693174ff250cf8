/*
 * fuzz_noproxy.c: noproxy_bypass() over arbitrary NO_PROXY text, host and port. The
 * input is "LIST\nHOST\nPORT" (missing parts are empty).
 *
 * Checks, beyond the sanitizers:
 * - localhost and loopback hosts always go direct, whatever the list;
 * - the decision for the list is the OR of the decisions for each of its entries alone
 *   (entries are independent, as in Go);
 * - the list in upper case decides the same (entries compare without regard to case);
 * - appending ",*" always sends the host direct.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noproxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *list, *host, *port, *nl, *one, *up, *star;
	size_t	 i, n;
	int	 got, any = 0;
	const char *s, *e;

	if (size > 4096 || (buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	list = buf;
	host = port = buf + strlen(buf);	/* "" unless given */
	if ((nl = strchr(list, '\n')) != NULL) {
		*nl = '\0';
		host = nl + 1;
		if ((nl = strchr(host, '\n')) != NULL) {
			*nl = '\0';
			port = nl + 1;
		}
	}
	got = noproxy_bypass(list, host, port);
	if (strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
	    strcmp(host, "::1") == 0)
		if (!got)
			abort();
	n = strlen(list);
	if ((one = malloc(n + 1)) == NULL || (up = malloc(n + 1)) == NULL ||
	    (star = malloc(n + 3)) == NULL)
		abort();
	for (s = list; ; s = e + 1) {
		e = s + strcspn(s, ",");
		memcpy(one, s, (size_t)(e - s));
		one[e - s] = '\0';
		any |= noproxy_bypass(one, host, port);
		if (*e == '\0')
			break;
	}
	if (any != got)
		abort();
	for (i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)list[i]);
	if (noproxy_bypass(up, host, port) != got)
		abort();
	memcpy(star, list, n);
	memcpy(star + n, ",*", 3);
	if (!noproxy_bypass(star, host, port))
		abort();
	free(one);
	free(up);
	free(star);
	free(buf);
	return 0;
}
