/*
 * fuzz_http.c: http_head_parse() and then the chunked decoder over what follows.
 *
 * The first input byte picks a split point; the rest is a response. Checks, beyond
 * the sanitizers: a prefix of the head never parses differently from the whole; the
 * head length is within bounds; the chunked body decodes to the same bytes whether
 * fed whole or in two pieces split at the chosen point, and never to more bytes than
 * it came in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes in[0..len) in two feeds split at cut. Returns bytes out, or -1 on error. */
static long
decode(const char *in, size_t len, size_t cut, char *out, int *done)
{
	struct http_chunked	 c;
	const char		*err;
	size_t			 got1 = 0, got2 = 0;
	long			 n;

	memset(&c, 0, sizeof(c));
	if (cut > len)
		cut = len;
	n = http_chunked_feed(&c, in, cut, out, len, &got1, &err);
	if (n < 0)
		return err != NULL ? -1 : (abort(), -1);
	if ((size_t)n != cut && !c.done)
		abort();
	if (!c.done) {
		n = http_chunked_feed(&c, in + cut, len - cut, out + got1, len - got1, &got2, &err);
		if (n < 0)
			return err != NULL ? -1 : (abort(), -1);
	}
	if (got1 + got2 > len)
		abort();
	*done = c.done;
	return (long)(got1 + got2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head	 h, h2;
	const char		*buf, *err;
	size_t			 len, cut;
	long			 n, n2;
	char			*out1, *out2;
	int			 done1 = 0, done2 = 0;
	long			 l1, l2;

	if (size < 1)
		return 0;
	cut = data[0];
	buf = (const char *)data + 1;
	len = size - 1;

	n = http_head_parse(buf, len, &h, &err);
	if (n < 0 && err == NULL)
		abort();
	if (n > 0 && ((size_t)n > len || n > HTTP_MAX_HEAD || h.status < 100 || h.status > 999))
		abort();
	if (n > 0 && h.chunked && h.has_length)
		abort();
	if (n > 0 && cut < (size_t)n) {
		n2 = http_head_parse(buf, cut, &h2, &err);
		if (n2 != 0)
			abort();	/* a prefix of a good head is incomplete, not an error */
	}
	if (n <= 0 || !h.chunked)
		return 0;

	len -= (size_t)n;
	buf += n;
	if ((out1 = malloc(len + 1)) == NULL || (out2 = malloc(len + 1)) == NULL)
		abort();
	l1 = decode(buf, len, len, out1, &done1);
	l2 = decode(buf, len, cut * 7 % (len + 1), out2, &done2);
	if ((l1 < 0) != (l2 < 0))
		abort();
	if (l1 >= 0 && (l1 != l2 || done1 != done2 || memcmp(out1, out2, (size_t)l1) != 0))
		abort();
	free(out1);
	free(out2);
	return 0;
}
