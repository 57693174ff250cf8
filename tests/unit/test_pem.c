/*
 * test_pem.c: base64 and PEM decoding (src/pem.c) and the certificate extension reader
 * (src/x509ext.c), driven by tests/data/pem/cases.txt over the fixtures of gen.sh.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "pem.h"
#include "test.h"
#include "x509ext.h"

#define DATA	"tests/data/pem/"

static char *
slurp(const char *name, size_t *len)
{
	char	path[512];

	*len = 0;
	snprintf(path, sizeof(path), DATA "%s", name);
	return test_slurp(path, len);
}

static void
test_b64(void)
{
	static const struct {
		const char	*in;
		const char	*out;	/* NULL: must fail */
	} cases[] = {
		/* RFC 4648 section 10 vectors. */
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" }, { "Zm9v", "foo" },
		{ "Zm9vYg==", "foob" }, { "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
		/* Whitespace anywhere is ignored. */
		{ " Zm9v\r\nYmFy\n", "foobar" }, { "Zm 9v\tYg =\n=", "foob" },
		/* Errors: padding, length, alphabet, data after padding. */
		{ "Zg=", NULL }, { "Zg", NULL }, { "Z===", NULL }, { "=", NULL },
		{ "Zm9v=", NULL }, { "Zg==Zg==", NULL }, { "Zg===", NULL }, { "Zm9v*", NULL },
		{ "Zm9-", NULL }, { "Zm9_", NULL }, { "Zm\0v", NULL }, { "Zm8==", NULL },
	};
	size_t		 i, outlen, inlen;
	unsigned char	*out;
	const char	*err;
	char		 descr[128];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		inlen = strlen(cases[i].in);
		if (i == 19)	/* the embedded NUL case */
			inlen = 4;
		err = NULL;
		out = b64_decode(cases[i].in, inlen, &outlen, &err);
		snprintf(descr, sizeof(descr), "b64_decode case %zu (\"%s\") %s", i,
		    strpbrk(cases[i].in, "\r\n\t") ? "with whitespace" : cases[i].in,
		    cases[i].out ? "decodes" : "fails with a message");
		if (cases[i].out != NULL)
			test_cond(descr, out != NULL && outlen == strlen(cases[i].out) &&
			    memcmp(out, cases[i].out, outlen) == 0);
		else
			test_cond(descr, out == NULL && err != NULL && *err != '\0');
		free(out);
	}

	/* The size limit is an error, not a cut. */
	{
		size_t	 n = PEM_MAX_INPUT + 4;
		char	*big = malloc(n);

		memset(big, 'A', n);
		out = b64_decode(big, n, &outlen, &err);
		test_cond("b64_decode refuses input over PEM_MAX_INPUT", out == NULL);
		free(out);
		out = b64_decode(big, PEM_MAX_INPUT, &outlen, &err);
		test_cond("b64_decode accepts input of exactly PEM_MAX_INPUT",
		    out != NULL && outlen == PEM_MAX_INPUT / 4 * 3);
		free(out);
		free(big);
	}
}

/* Labels in cases.txt write spaces as '_'. */
static int
label_eq(const char *label, const char *want)
{
	for (; *label && *want; label++, want++)
		if (*label != (*want == '_' ? ' ' : *want))
			return 0;
	return *label == *want;
}

static void
case_pem(char **f, int nf)
{
	struct pem_obj	*objs = NULL;
	const char	*err = "";
	size_t		 len = 0, errline = 0;
	char		*buf, descr[256];
	int		 n, i, ok;

	if ((buf = slurp(f[1], &len)) == NULL) {
		test_cond(f[1], 0);
		return;
	}
	n = pem_decode(buf, len, &objs, &err, &errline);
	if (strcmp(f[0], "pem") == 0) {
		ok = n == atoi(f[2]) && nf == 3 + n;
		for (i = 0; ok && i < n; i++)
			ok = label_eq(objs[i].label, f[3 + i]) && objs[i].der_len > 0;
		snprintf(descr, sizeof(descr), "pem_decode %s gives %s objects", f[1], f[2]);
		if (n < 0)
			printf("# %s: line %zu: %s\n", f[1], errline, err);
		test_cond(descr, ok);
	} else {
		snprintf(descr, sizeof(descr), "pem_decode %s fails at line %s saying \"%s\"",
		    f[1], f[2], f[3]);
		if (n >= 0 || errline != (size_t)atoi(f[2]) || strstr(err, f[3]) == NULL)
			printf("# got %d, line %zu: %s\n", n, errline, err);
		test_cond(descr, n < 0 && objs == NULL && errline == (size_t)atoi(f[2]) &&
		    strstr(err, f[3]) != NULL);
	}
	pem_free(objs, n);
	free(buf);
}

/* The DER of the first object of a PEM fixture, or (last) of its last one. */
static unsigned char *
fixture_nth_der(const char *name, size_t *len, int last)
{
	struct pem_obj	*objs;
	const char	*err;
	size_t		 flen, errline;
	char		*buf;
	unsigned char	*der = NULL;
	int		 n;

	if ((buf = slurp(name, &flen)) == NULL)
		return NULL;
	if ((n = pem_decode(buf, flen, &objs, &err, &errline)) > 0) {
		int i = last ? n - 1 : 0;

		der = malloc(objs[i].der_len);
		memcpy(der, objs[i].der, objs[i].der_len);
		*len = objs[i].der_len;
	}
	pem_free(objs, n);
	free(buf);
	return der;
}

#define fixture_der(name, len)		fixture_nth_der(name, len, 0)
/* A key after its EC PARAMETERS. */
#define fixture_last_der(name, len)	fixture_nth_der(name, len, 1)

static void
case_san(char **f, int nf)
{
	struct x509ext_ip	 ips[8];
	unsigned char		*der, want[16];
	size_t			 len = 0, i;
	char			 descr[256];
	int			 n, ok;

	if ((der = fixture_der(f[1], &len)) == NULL) {
		test_cond(f[1], 0);
		return;
	}
	n = x509ext_san_ips(der, len, ips, 8);
	ok = n == nf - 2;
	for (i = 0; ok && i < (size_t)n; i++) {
		int af = strchr(f[2 + i], ':') ? AF_INET6 : AF_INET;

		ok = inet_pton(af, f[2 + i], want) == 1 &&
		    ips[i].len == (af == AF_INET ? 4u : 16u) &&
		    memcmp(ips[i].addr, want, ips[i].len) == 0;
	}
	snprintf(descr, sizeof(descr), "x509ext_san_ips %s finds %d IPs", f[1], nf - 2);
	test_cond(descr, ok);

	/* Every strict prefix of a certificate is malformed, never read past its end. */
	ok = 1;
	for (i = 0; i < len; i++) {
		unsigned char *cut = malloc(i ? i : 1);

		memcpy(cut, der, i);
		if (x509ext_san_ips(cut, i, ips, 8) != -1)
			ok = 0;
		free(cut);
	}
	snprintf(descr, sizeof(descr), "x509ext_san_ips %s: every truncation is malformed",
	    f[1]);
	test_cond(descr, ok);
	free(der);
}

static void
case_ku(char **f)
{
	unsigned char	*der;
	size_t		 len = 0;
	unsigned	 bits = 12345;
	char		 descr[256];
	int		 r;

	if ((der = fixture_der(f[1], &len)) == NULL) {
		test_cond(f[1], 0);
		return;
	}
	r = x509ext_key_usage(der, len, &bits);
	snprintf(descr, sizeof(descr), "x509ext_key_usage %s is %s", f[1], f[2]);
	if (strcmp(f[2], "none") == 0)
		test_cond(descr, r == 0 && bits == 12345);
	else
		test_cond(descr, r == 1 && bits == (unsigned)atoi(f[2]));
	free(der);
}

/* ecpub KEY same|differs CERT, or ecpub KEY none|malformed. */
static void
case_ecpub(char **f, int nf)
{
	br_x509_decoder_context	 dc;
	br_x509_pkey		*pk;
	unsigned char		*der, *cert = NULL;
	const unsigned char	*point = NULL;
	size_t			 len = 0, clen = 0, plen = 0, i;
	char			 descr[256];
	int			 r, ok;

	if ((der = fixture_last_der(f[1], &len)) == NULL) {
		test_cond(f[1], 0);
		return;
	}
	r = x509ext_ec_key_public(der, len, &point, &plen);
	snprintf(descr, sizeof(descr), "x509ext_ec_key_public %s: %s%s%s", f[1], f[2],
	    nf == 4 ? " " : "", nf == 4 ? f[3] : "");
	if (strcmp(f[2], "none") == 0)
		ok = r == 0;
	else if (strcmp(f[2], "malformed") == 0)
		ok = r == -1;
	else if (nf == 4 && (cert = fixture_last_der(f[3], &clen)) != NULL) {
		br_x509_decoder_init(&dc, NULL, NULL);
		br_x509_decoder_push(&dc, cert, clen);
		pk = br_x509_decoder_get_pkey(&dc);
		ok = r == 1 && pk != NULL && pk->key_type == BR_KEYTYPE_EC &&
		    point >= der && point + plen <= der + len &&
		    (plen == pk->key.ec.qlen && memcmp(point, pk->key.ec.q, plen) == 0) ==
		    (strcmp(f[2], "same") == 0);
	} else
		ok = 0;
	test_cond(descr, ok);
	free(cert);

	/* Every strict prefix of a key is malformed, never read past its end. */
	ok = 1;
	for (i = 0; i < len; i++) {
		unsigned char *cut = malloc(i ? i : 1);

		memcpy(cut, der, i);
		if (x509ext_ec_key_public(cut, i, &point, &plen) != -1)
			ok = 0;
		free(cut);
	}
	snprintf(descr, sizeof(descr), "x509ext_ec_key_public %s: every truncation is "
	    "malformed", f[1]);
	test_cond(descr, ok);
	free(der);
}

static void
test_cases(void)
{
	FILE	*f;
	char	 line[1024], *fields[16], *tok;
	int	 nf, ncases = 0;

	if ((f = fopen(DATA "cases.txt", "r")) == NULL) {
		test_cond("open " DATA "cases.txt", 0);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		nf = 0;
		for (tok = strtok(line, " \t\n"); tok != NULL && nf < 16; tok = strtok(NULL, " \t\n"))
			fields[nf++] = tok;
		if (nf == 0 || fields[0][0] == '#')
			continue;
		if ((strcmp(fields[0], "pem") == 0 && nf >= 3) ||
		    (strcmp(fields[0], "pemerr") == 0 && nf == 4))
			case_pem(fields, nf);
		else if (strcmp(fields[0], "san") == 0 && nf >= 2)
			case_san(fields, nf);
		else if (strcmp(fields[0], "ku") == 0 && nf == 3)
			case_ku(fields);
		else if (strcmp(fields[0], "ecpub") == 0 && (nf == 3 || nf == 4))
			case_ecpub(fields, nf);
		else
			continue;	/* test_tls.c's cases */
		ncases++;
	}
	fclose(f);
	test_cond("cases.txt has pem, san, ku and ecpub cases", ncases >= 25);
}

static void
test_pem_inline(void)
{
	static const char two[] =
	    "-----BEGIN A-----\nZm9v\n-----END A-----\n"
	    "junk\n"
	    "  -----BEGIN B C-----  \r\nZm9v\nYmFy\n-----END B C-----";
	static const char stray_end[] = "x\n-----END A-----\n";
	static const char nested[] = "-----BEGIN A-----\n-----BEGIN A-----\nZm9v\n";
	static const char header[] = "-----BEGIN A-----\nFoo: bar\n\nZm9v\n-----END A-----\n";
	static const char badlabel[] = "-----BEGIN -----\nZm9v\n-----END -----\n";
	struct pem_obj	*objs;
	const char	*err;
	size_t		 errline;
	int		 n;

	n = pem_decode(two, sizeof(two) - 1, &objs, &err, &errline);
	test_cond("pem_decode: two blocks, text between, CRLF, no final newline",
	    n == 2 && strcmp(objs[0].label, "A") == 0 && objs[0].der_len == 3 &&
	    memcmp(objs[0].der, "foo", 3) == 0 && strcmp(objs[1].label, "B C") == 0 &&
	    objs[1].der_len == 6 && memcmp(objs[1].der, "foobar", 6) == 0);
	pem_free(objs, n);
	n = pem_decode(stray_end, sizeof(stray_end) - 1, &objs, &err, &errline);
	test_cond("pem_decode: END without BEGIN is an error at its line", n == -1 && errline == 2);
	n = pem_decode(nested, sizeof(nested) - 1, &objs, &err, &errline);
	test_cond("pem_decode: BEGIN inside a block is an error at its line",
	    n == -1 && errline == 2);
	n = pem_decode(header, sizeof(header) - 1, &objs, &err, &errline);
	test_cond("pem_decode: RFC 1421 headers are refused", n == -1 && errline == 2);
	n = pem_decode(badlabel, sizeof(badlabel) - 1, &objs, &err, &errline);
	test_cond("pem_decode: empty label is refused", n == -1 && errline == 1);
	n = pem_decode("", 0, &objs, &err, &errline);
	test_cond("pem_decode: empty input has no objects", n == 0);
	pem_free(objs, n);
	pem_free(NULL, 0);
}

int
main(void)
{
	test_b64();
	test_pem_inline();
	test_cases();
	return test_report();
}
