/*
 * fuzz_execcred.c: execcred_parse() over arbitrary bytes (an exec credential plugin's
 * stdout), for both API versions.
 *
 * Checks, beyond the sanitizers (the input is copied to a buffer of exactly its size):
 * - accepted credentials hold a token or a certificate and key pair (both or neither),
 *   a token of printable ASCII without spaces, and key_len/cert_len that match the text;
 * - a refusal leaves nothing in the value and gives a reason;
 * - a reply accepted for one apiVersion is refused for the other.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"
#include "execcred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char	*versions[] = {
	"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, why[512];
	size_t	 v;
	int	 ok[2];

	if ((s = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(s, data, size);
	for (v = 0; v < 2; v++) {
		struct cred_value	cv;
		const char		*t;

		memset(&cv, 0, sizeof(cv));
		why[0] = '\0';
		ok[v] = execcred_parse(s, size, versions[v], &cv, why, sizeof(why)) == 0;
		if (!ok[v]) {
			if (cv.token || cv.cert || cv.key || why[0] == '\0')
				abort();
			continue;
		}
		if (cv.token == NULL && cv.cert == NULL)
			abort();
		if ((cv.cert == NULL) != (cv.key == NULL))
			abort();
		if (cv.cert && (cv.cert_len != strlen((char *)cv.cert) ||
		    cv.key_len != strlen((char *)cv.key)))
			abort();
		for (t = cv.token; t && *t; t++)
			if (*t <= 0x20 || *t >= 0x7f)
				abort();
		cred_value_clear(&cv);
	}
	if (ok[0] && ok[1])
		abort();
	free(s);
	return 0;
}
