/*
 * fuzz_pem.c: base64, PEM and the DER readers of x509ext.c over arbitrary bytes.
 * The input is used three ways: as base64 text, as PEM text, and as certificate and
 * private key DER (also the DER of each PEM object found, so the corpus's certificates
 * and keys reach deep).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pem.h"
#include "x509ext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_der(const unsigned char *der, size_t len)
{
	struct x509ext_ip	 ips[4];
	const unsigned char	*point;
	size_t			 point_len;
	unsigned		 bits;
	char			 text[64];
	int			 n, i;

	n = x509ext_san_ips(der, len, ips, 4);
	if (n < -1)
		abort();
	for (i = 0; i < n && i < 4; i++) {
		if (ips[i].len != 4 && ips[i].len != 16)
			abort();
		x509ext_ip_str(ips[i].addr, ips[i].len, text, sizeof(text));
	}
	if (x509ext_key_usage(der, len, &bits) < -1)
		abort();
	n = x509ext_ec_key_public(der, len, &point, &point_len);
	if (n < -1 || n > 1 ||
	    (n == 1 && (point < der || point_len > len || point + point_len > der + len)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pem_obj	*objs;
	unsigned char	*out;
	const char	*err;
	size_t		 outlen, errline;
	int		 n, i;

	out = b64_decode((const char *)data, size, &outlen, &err);
	if (out != NULL && outlen > size / 4 * 3 + 2)
		abort();
	free(out);

	n = pem_decode((const char *)data, size, &objs, &err, &errline);
	if (n < 0 && (err == NULL || errline > size + 1))
		abort();
	for (i = 0; i < n; i++) {
		if (objs[i].der_len == 0 || objs[i].label[0] == '\0')
			abort();
		fuzz_der(objs[i].der, objs[i].der_len);
	}
	pem_free(objs, n);

	fuzz_der(data, size);
	return 0;
}
