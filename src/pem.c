/* pem.c: see pem.h. */
#define _DEFAULT_SOURCE	/* strndup */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pem.h"

#define PEM_MAX_OBJECTS	1024	/* a CA bundle has a few hundred at most */
#define PEM_MAX_LABEL	64
#define PEM_STR(x)	#x
#define PEM_XSTR(x)	PEM_STR(x)	/* a number's macro as a string literal */

/* Base64 alphabet values; 0xff for bytes outside it. */
static unsigned
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (unsigned)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (unsigned)(c - 'a') + 26;
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0') + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return 0xff;
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

unsigned char *
b64_decode(const char *src, size_t len, size_t *outlen, const char **err)
{
	unsigned char	*out;
	size_t		 i, o = 0, pad = 0;
	uint32_t	 acc = 0;
	unsigned	 nq = 0, v;

	*outlen = 0;
	if (len > PEM_MAX_INPUT) {
		*err = "base64 input larger than " PEM_XSTR(PEM_MAX_INPUT_MIB) " MiB";
		return NULL;
	}
	/* Every 4 input characters give at most 3 bytes; +1 so that empty input has a buffer. */
	if ((out = malloc(len / 4 * 3 + 3 + 1)) == NULL) {
		*err = "out of memory";
		return NULL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (is_space(c))
			continue;
		if (c == '=') {
			if (nq == 4) {
				*err = "too much '=' padding in base64";
				goto fail;
			}
			/* Padding only completes a quad of which 2 or 3 characters were data. */
			if (nq + pad < 2) {
				*err = "misplaced '=' in base64";
				goto fail;
			}
			pad++;
			if (nq + pad == 4) {
				acc <<= 6 * pad;
				out[o++] = (unsigned char)(acc >> 16);
				if (pad == 1)
					out[o++] = (unsigned char)(acc >> 8);
				acc = 0;
				nq = 4;	/* marks "finished": nothing but whitespace may follow */
			}
			continue;
		}
		if (pad > 0 || nq == 4) {
			*err = "base64 data after '=' padding";
			goto fail;
		}
		if ((v = b64_value(c)) == 0xff) {
			*err = "invalid character in base64";
			goto fail;
		}
		acc = (acc << 6) | v;
		if (++nq == 4) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
			nq = 0;
		}
	}
	if (nq != 0 && nq != 4) {
		*err = pad > 0 ? "too little '=' padding in base64" :
		    "truncated base64 (length not a multiple of 4)";
		goto fail;
	}
	*outlen = o;
	return out;
fail:
	buf_wipe_free(out, len / 4 * 3 + 3 + 1);
	return NULL;
}

/* Trims ASCII whitespace from both ends of [*s, *e). */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_space((unsigned char)**s))
		(*s)++;
	while (*e > *s && is_space((unsigned char)(*e)[-1]))
		(*e)--;
}

static int
starts_with(const char *s, const char *e, const char *prefix)
{
	size_t n = strlen(prefix);

	return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

/*
 * Parses "-----BEGIN label-----" or "-----END label-----" ([s, e) trimmed, kw is
 * "BEGIN" or "END"), pointing *label at the label. Returns 0, or -1 if malformed.
 */
static int
boundary_label(const char *s, const char *e, const char *kw, const char **label,
    size_t *labellen)
{
	size_t	n = 5 + strlen(kw) + 1, i;

	if ((size_t)(e - s) < n + 5 || memcmp(e - 5, "-----", 5) != 0)
		return -1;
	*label = s + n;
	*labellen = (size_t)(e - s) - n - 5;
	if (*labellen == 0 || *labellen > PEM_MAX_LABEL)
		return -1;
	for (i = 0; i < *labellen; i++) {
		unsigned char c = (unsigned char)(*label)[i];

		if (c < 0x20 || c > 0x7e)
			return -1;
	}
	if ((*label)[0] == ' ' || (*label)[0] == '-' || (*label)[*labellen - 1] == ' ' ||
	    (*label)[*labellen - 1] == '-')
		return -1;
	return 0;
}

void
pem_free(struct pem_obj *objs, int n)
{
	int	i;

	if (objs == NULL)
		return;
	for (i = 0; i < n; i++) {
		buf_wipe_free(objs[i].der, objs[i].der_len);
		free(objs[i].label);
	}
	free(objs);
}

int
pem_decode(const char *src, size_t len, struct pem_obj **objs, const char **err,
    size_t *errline)
{
	struct pem_obj	*arr = NULL, *tmp;
	char		*body = NULL;
	size_t		 bodylen = 0, line = 0, begin_line = 0, labellen = 0, cap = 0;
	const char	*p = src, *end = src + len, *label = NULL;
	int		 n = 0, inside = 0;

	*objs = NULL;
	*errline = 0;
	if (len > PEM_MAX_INPUT) {
		*err = "PEM input larger than " PEM_XSTR(PEM_MAX_INPUT_MIB) " MiB";
		return -1;
	}
	/* Base64 text of all blocks together is never longer than the input. */
	if ((body = malloc(len + 1)) == NULL) {
		*err = "out of memory";
		return -1;
	}
	while (p < end) {
		const char	*s = p, *e, *nl;

		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		e = nl != NULL ? nl : end;
		p = nl != NULL ? nl + 1 : end;
		trim(&s, &e);
		if (!inside) {
			if (starts_with(s, e, "-----BEGIN")) {
				if (boundary_label(s, e, "BEGIN", &label, &labellen) != 0) {
					*err = "malformed PEM BEGIN line";
					goto fail;
				}
				inside = 1;
				begin_line = line;
				bodylen = 0;
			} else if (starts_with(s, e, "-----END")) {
				*err = "PEM END line without BEGIN line";
				goto fail;
			}
			continue;
		}
		if (starts_with(s, e, "-----END")) {
			const char	*endlabel;
			size_t		 endlabellen, derlen;
			unsigned char	*der;

			if (boundary_label(s, e, "END", &endlabel, &endlabellen) != 0) {
				*err = "malformed PEM END line";
				goto fail;
			}
			if (endlabellen != labellen || memcmp(endlabel, label, labellen) != 0) {
				*err = "PEM END label does not match its BEGIN label";
				goto fail;
			}
			if ((der = b64_decode(body, bodylen, &derlen, err)) == NULL) {
				*errline = begin_line;
				goto fail_noline;
			}
			if (derlen == 0) {
				free(der);
				*err = "empty PEM block";
				*errline = begin_line;
				goto fail_noline;
			}
			if ((size_t)n == cap) {
				if (cap == PEM_MAX_OBJECTS) {
					buf_wipe_free(der, derlen);
					*err = "too many PEM blocks (more than "
					    PEM_XSTR(PEM_MAX_OBJECTS) ")";
					goto fail;
				}
				cap = cap == 0 ? 4 : cap * 2;
				cap = cap > PEM_MAX_OBJECTS ? PEM_MAX_OBJECTS : cap;
				if ((tmp = realloc(arr, cap * sizeof(*arr))) == NULL) {
					buf_wipe_free(der, derlen);
					*err = "out of memory";
					goto fail;
				}
				arr = tmp;
			}
			arr[n].der = der;
			arr[n].der_len = derlen;
			if ((arr[n].label = strndup(label, labellen)) == NULL) {
				buf_wipe_free(der, derlen);
				*err = "out of memory";
				goto fail;
			}
			n++;
			inside = 0;
			continue;
		}
		if (starts_with(s, e, "-----")) {
			*err = "PEM boundary inside a block (missing END line?)";
			goto fail;
		}
		if (memchr(s, ':', (size_t)(e - s)) != NULL) {
			*err = starts_with(s, e, "Proc-Type:") || starts_with(s, e, "DEK-Info:") ?
			    "encrypted PEM (Proc-Type/DEK-Info) is not supported" :
			    "PEM headers are not supported";
			goto fail;
		}
		for (; s < e; s++) {
			unsigned char c = (unsigned char)*s;

			if (is_space(c))
				continue;
			if (c != '=' && b64_value(c) == 0xff) {
				*err = "invalid character in PEM base64";
				goto fail;
			}
			body[bodylen++] = (char)c;
		}
	}
	if (inside) {
		*err = "PEM block has no END line (truncated?)";
		*errline = begin_line;
		goto fail_noline;
	}
	buf_wipe_free(body, len + 1);
	*objs = arr;
	return n;
fail:
	*errline = line;
fail_noline:
	buf_wipe_free(body, len + 1);
	pem_free(arr, n);
	return -1;
}
