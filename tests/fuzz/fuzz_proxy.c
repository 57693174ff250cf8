/*
 * fuzz_proxy.c: proxy URLs (proxy_parse, proxy_redact: kubeconfig proxy-url and the
 * *_PROXY variables) and a proxy's reply to CONNECT (proxy_connect_reply) over
 * arbitrary bytes.
 *
 * Checks, beyond the sanitizers:
 * - an accepted URL has a host, a port of 1..65535, and a "shown" form without '@'
 *   that parses again to the same host, port and kind;
 * - the redacted text holds only printable ASCII and no '@';
 * - a complete CONNECT reply head lies within the input, with a status of 100..999 and
 *   a printable reason; an incomplete one never exceeds HTTP_MAX_HEAD.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_url(const char *s, int lenient)
{
	struct proxy	 p = { 0 }, q = { 0 };
	const char	*why;
	char		*end;
	long		 port;

	if (proxy_parse(s, lenient, &p, &why) == 0) {
		port = strtol(p.port, &end, 10);
		if (p.host[0] == '\0' || *end != '\0' || port < 1 || port > 65535 ||
		    strchr(p.shown, '@') != NULL)
			abort();
		if (proxy_parse(p.shown, 0, &q, &why) != 0 || strcmp(q.host, p.host) != 0 ||
		    strcmp(q.port, p.port) != 0 || q.kind != p.kind)
			abort();
	}
	proxy_clear(&p);
	proxy_clear(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, red[512], reason[128];
	const char	*why;
	size_t		 i;
	long		 n;
	int		 status = 0;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check_url(s, 0);
	check_url(s, 1);
	proxy_redact(s, red, sizeof(red));
	for (i = 0; red[i] != '\0'; i++)
		if (red[i] < 0x20 || red[i] > 0x7e)
			abort();
	if (strchr(red, '@') != NULL && strchr(s, '@') == NULL)
		abort();
	n = proxy_connect_reply((const char *)data, size, &status, reason, sizeof(reason), &why);
	if (n > 0 && ((size_t)n > size || status < 100 || status > 999))
		abort();
	if (n == 0 && size >= HTTP_MAX_HEAD)
		abort();
	for (i = 0; reason[i] != '\0'; i++)
		if (reason[i] < 0x20 || reason[i] > 0x7e)
			abort();
	free(s);
	return 0;
}
