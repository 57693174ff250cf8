/*
 * pem.h: base64 and PEM decoding of untrusted input (kubeconfig *-data, files).
 */
#ifndef CL_PEM_H
#define CL_PEM_H

#include <stddef.h>

#define PEM_MAX_INPUT_MIB	1	/* larger inputs are refused, not cut */
#define PEM_MAX_INPUT		(PEM_MAX_INPUT_MIB * 1024 * 1024)

/*
 * Decodes standard base64 (RFC 4648, '=' padding, ASCII whitespace ignored).
 * Returns a malloc'd buffer (caller frees) and sets *outlen, or NULL if src is not
 * valid base64 or larger than PEM_MAX_INPUT (*err then says why, static string).
 */
unsigned char	*b64_decode(const char *src, size_t len, size_t *outlen, const char **err);

struct pem_obj {
	char		*label;		/* e.g. "CERTIFICATE", "EC PRIVATE KEY" */
	unsigned char	*der;
	size_t		 der_len;
};

/*
 * Decodes every PEM object in src. Returns the count (>= 0) and sets *objs to a malloc'd
 * array that pem_free() frees, or -1 on malformed input (*err says why and *errline is
 * the 1-based line). Text outside BEGIN/END blocks is ignored, as OpenSSL does.
 */
int	 pem_decode(const char *src, size_t len, struct pem_obj **objs,
	    const char **err, size_t *errline);
/* Wipes the DER bytes (keys may be inside) and frees. */
void	 pem_free(struct pem_obj *objs, int n);

#endif
