/*
 * test_bearssl_kat.c: known-answer tests for the BearSSL 0.6 code paths carrier-lock
 * uses (see SECURITY.md, "BearSSL audit"), against vectors from independent sources:
 *
 * - SHA-256: FIPS 180-2 examples ("abc", the 448-bit message, ""), and our message.
 * - ECDHE: P-256 and X25519 shared secrets computed by OpenSSL 3.0
 *   (tests/data/kat/openssl.txt), through every BearSSL implementation that the TLS
 *   client could pick (br_ec_all_m31 is the default on x86_64 and dispatches P-256 to
 *   br_ec_p256_m31 and X25519 to br_ec_c25519_m31), the 15-bit ones and the generic
 *   i31/i15 code; each must also derive OpenSSL's public key from the private scalar.
 * - ECDSA P-256: an OpenSSL signature verified by the i31 and i15 verifiers (and a
 *   tampered one refused); the client's signing path (br_skey_decoder on a SEC1 key,
 *   br_ecdsa_sign_asn1_get_default) producing signatures the verifier accepts.
 * - RSA PKCS#1 v1.5 with SHA-256 (deterministic): 2048- and 4096-bit keys decoded by
 *   br_skey_decoder, signed by the default (i62 on x86_64), i32, i31 and i15 code,
 *   each signature byte-identical to OpenSSL's.
 * - br_skey_decoder must not write past its context (our vendor/ patch, found by
 *   fuzzing the decoder; see SECURITY.md).
 *
 * Run from the repository root (./build.sh unit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "test.h"
#include "utf8.h"

#define KAT_DIR	"tests/data/kat/"

struct vec {
	char		name[64];
	unsigned char	b[512];
	size_t		len;
};

static struct vec	vecs[32];
static size_t		nvecs;

/* One hex digit, or -1 (src/utf8.c does the decoding). */
static int
hexval(int c)
{
	char	ch = (char)c;

	return (int)utf8_hex(&ch, 1, 1);
}

static size_t
unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;

	while (s[0] != '\0' && s[1] != '\0' && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
		if (n == cap)
			return 0;
		out[n++] = (unsigned char)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
	}
	return n;
}

static int
load_vectors(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	 line[2048], name[64], hex[1500];

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && nvecs < sizeof(vecs) / sizeof(vecs[0])) {
		if (line[0] == '#' || sscanf(line, "%63s %1499s", name, hex) != 2)
			continue;
		snprintf(vecs[nvecs].name, sizeof(vecs[nvecs].name), "%s", name);
		vecs[nvecs].len = unhex(hex, vecs[nvecs].b, sizeof(vecs[nvecs].b));
		nvecs++;
	}
	fclose(f);
	return 0;
}

static const struct vec *
vec(const char *name)
{
	size_t	i;

	for (i = 0; i < nvecs; i++)
		if (strcmp(vecs[i].name, name) == 0)
			return &vecs[i];
	fprintf(stderr, "test_bearssl_kat: no vector %s\n", name);
	exit(1);
}

static void
sha256(const void *data, size_t len, unsigned char out[32])
{
	br_sha256_context	c;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
}

static void
test_sha256(void)
{
	static const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char	 h[32], want[32];
	const struct vec *msg = vec("msg");

	sha256("abc", 3, h);
	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, 32);
	test_cond("SHA-256 of \"abc\" (FIPS 180-2)", memcmp(h, want, 32) == 0);
	sha256(m448, strlen(m448), h);
	unhex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", want, 32);
	test_cond("SHA-256 of the 448-bit message (FIPS 180-2)", memcmp(h, want, 32) == 0);
	sha256("", 0, h);
	unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, 32);
	test_cond("SHA-256 of the empty string", memcmp(h, want, 32) == 0);
	sha256(msg->b, msg->len, h);
	test_cond("SHA-256 of the KAT message = OpenSSL's", memcmp(h, vec("msg_sha256")->b, 32) == 0);
}

struct named_ec {
	const char		*name;
	const br_ec_impl	*impl;
};

/* ECDH: priv * peer == shared (x coordinate), and mulgen(priv) == pub. */
static void
test_ecdh(int curve, const char *what, const struct named_ec *impls, size_t n,
    const char *priv, const char *pub, const char *peer, const char *shared)
{
	const struct vec	*vp = vec(priv), *vq = vec(pub), *vb = vec(peer), *vs = vec(shared);
	size_t			 i;
	char			 d[160];

	for (i = 0; i < n; i++) {
		unsigned char	pt[BR_EC_KBUF_PUB_MAX_SIZE], g[BR_EC_KBUF_PUB_MAX_SIZE];
		size_t		xoff, xlen, glen;
		uint32_t	ok;

		if ((impls[i].impl->supported_curves >> curve & 1) == 0) {
			snprintf(d, sizeof(d), "%s: %s does not support the curve", what,
			    impls[i].name);
			test_cond(d, 0);
			continue;
		}
		memcpy(pt, vb->b, vb->len);
		ok = impls[i].impl->mul(pt, vb->len, vp->b, vp->len, curve);
		xoff = impls[i].impl->xoff(curve, &xlen);
		snprintf(d, sizeof(d), "%s shared secret via %s = OpenSSL's", what, impls[i].name);
		test_cond(d, ok == 1 && xlen == vs->len && memcmp(pt + xoff, vs->b, xlen) == 0);

		if (curve == BR_EC_curve25519)
			continue;	/* mulgen of X25519 is checked below by the default */
		glen = impls[i].impl->mulgen(g, vp->b, vp->len, curve);
		snprintf(d, sizeof(d), "%s public key via %s = OpenSSL's", what, impls[i].name);
		test_cond(d, glen == vq->len && memcmp(g, vq->b, glen) == 0);

		/* A point off the curve must be refused (invalid-curve attacks). */
		memcpy(pt, vb->b, vb->len);
		pt[vb->len - 1] ^= 1;
		snprintf(d, sizeof(d), "%s via %s refuses a point off the curve", what,
		    impls[i].name);
		test_cond(d, impls[i].impl->mul(pt, vb->len, vp->b, vp->len, curve) == 0);
	}
}

static void
test_ecdsa(void)
{
	static const struct { const char *name; br_ecdsa_vrfy vrfy; } vrfys[] = {
		{ "i31", br_ecdsa_i31_vrfy_asn1 },
		{ "i15", br_ecdsa_i15_vrfy_asn1 },
		{ "default", NULL },
	};
	const struct vec	*pub = vec("p256_a_pub"), *sig = vec("p256_a_sig_asn1");
	const struct vec	*h = vec("msg_sha256");
	br_ec_public_key	 pk = { BR_EC_secp256r1, NULL, 0 };
	unsigned char		 q[65], bad[80], mine[BR_EC_KBUF_PUB_MAX_SIZE * 2];
	unsigned char		 pubbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	br_skey_decoder_context	 dc;
	const br_ec_private_key	*sk;
	br_ec_public_key	 derived;
	unsigned char		*der;
	size_t			 i, derlen = 0, n;
	char			 d[160];

	memcpy(q, pub->b, 65);
	pk.q = q;
	pk.qlen = 65;
	for (i = 0; i < sizeof(vrfys) / sizeof(vrfys[0]); i++) {
		br_ecdsa_vrfy v = vrfys[i].vrfy ? vrfys[i].vrfy : br_ecdsa_vrfy_asn1_get_default();

		snprintf(d, sizeof(d), "ECDSA P-256 verify (%s) accepts OpenSSL's signature",
		    vrfys[i].name);
		test_cond(d, v(br_ec_get_default(), h->b, 32, &pk, sig->b, sig->len) == 1);
		memcpy(bad, sig->b, sig->len);
		bad[sig->len - 3] ^= 0x40;
		snprintf(d, sizeof(d), "ECDSA P-256 verify (%s) refuses a tampered signature",
		    vrfys[i].name);
		test_cond(d, v(br_ec_get_default(), h->b, 32, &pk, bad, sig->len) == 0);
	}

	/* The client's path: SEC1 key file -> br_skey_decoder -> default signer. */
	if ((der = (unsigned char *)test_slurp(KAT_DIR "p256_a.der", &derlen)) == NULL) {
		test_cond("read " KAT_DIR "p256_a.der", 0);
		return;
	}
	br_skey_decoder_init(&dc);
	br_skey_decoder_push(&dc, der, derlen);
	sk = br_skey_decoder_get_ec(&dc);
	test_cond("skey decoder reads the SEC1 P-256 key",
	    br_skey_decoder_last_error(&dc) == 0 && sk != NULL && sk->curve == BR_EC_secp256r1 &&
	    sk->xlen == 32 && memcmp(sk->x, vec("p256_a_priv")->b, 32) == 0);
	if (sk == NULL) {
		free(der);
		return;
	}
	n = br_ec_compute_pub(br_ec_get_default(), &derived, pubbuf, sk);
	test_cond("br_ec_compute_pub of the decoded key = OpenSSL's public key",
	    n == 65 && memcmp(pubbuf, pub->b, 65) == 0);
	n = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable, h->b, sk,
	    mine);
	test_cond("ECDSA P-256 sign (default) gives a signature the verifier accepts",
	    n > 0 && br_ecdsa_i31_vrfy_asn1(br_ec_get_default(), h->b, 32, &pk, mine, n) == 1 &&
	    br_ecdsa_i15_vrfy_asn1(&br_ec_p256_m15, h->b, 32, &pk, mine, n) == 1);
	n = br_ecdsa_i15_sign_asn1(&br_ec_p256_m15, &br_sha256_vtable, h->b, sk, mine);
	test_cond("ECDSA P-256 sign (i15, m15) gives a signature the verifier accepts",
	    n > 0 && br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, h->b, 32, &pk, mine, n) == 1);
	memset(&dc, 0, sizeof(dc));
	free(der);
}

static void
test_rsa_key(const char *keyfile, const char *sigfile, const char *what)
{
	const unsigned char *oid = BR_HASH_OID_SHA256;
	const struct { const char *name; br_rsa_pkcs1_sign sign; } signers[] = {
		{ "default", br_rsa_pkcs1_sign_get_default() },
		{ "i62", br_rsa_i62_pkcs1_sign_get() },
		{ "i32", br_rsa_i32_pkcs1_sign },
		{ "i31", br_rsa_i31_pkcs1_sign },
		{ "i15", br_rsa_i15_pkcs1_sign },
	};
	br_skey_decoder_context	 dc;
	const br_rsa_private_key *sk;
	unsigned char		*der, *want, out[512];
	size_t			 derlen = 0, wantlen = 0, i;
	char			 d[160];

	der = (unsigned char *)test_slurp(keyfile, &derlen);
	want = (unsigned char *)test_slurp(sigfile, &wantlen);
	if (der == NULL || want == NULL) {
		snprintf(d, sizeof(d), "read %s and %s", keyfile, sigfile);
		test_cond(d, 0);
		free(der);
		free(want);
		return;
	}
	br_skey_decoder_init(&dc);
	br_skey_decoder_push(&dc, der, derlen);
	sk = br_skey_decoder_get_rsa(&dc);
	snprintf(d, sizeof(d), "skey decoder reads the %s PKCS#1 key", what);
	test_cond(d, br_skey_decoder_last_error(&dc) == 0 && sk != NULL &&
	    (sk->n_bitlen + 7) / 8 == wantlen);
	for (i = 0; sk != NULL && i < sizeof(signers) / sizeof(signers[0]); i++) {
		if (signers[i].sign == 0)
			continue;	/* i62 needs 64x64->128 multiplication */
		memset(out, 0, sizeof(out));
		snprintf(d, sizeof(d), "RSA PKCS#1 v1.5 SHA-256 sign, %s (%s) = OpenSSL's",
		    what, signers[i].name);
		test_cond(d, signers[i].sign(oid, vec("msg_sha256")->b, 32, sk, out) == 1 &&
		    memcmp(out, want, wantlen) == 0);
	}
	memset(&dc, 0, sizeof(dc));
	free(der);
	free(want);
}

/*
 * vendor/bearssl-skey-decoder-overflow.patch: an RSA key whose modulus INTEGER has
 * 1537..1560 bytes was copied past the end of the decoder's context. BearSSL is built
 * without sanitizers, so the context is followed by guard bytes that must stay intact.
 */
static void
test_skey_overflow(void)
{
	static const size_t	 sizes[] = { 1536, 1537, 1550, 1560 };
	br_skey_decoder_context	*dc;
	unsigned char		*der, *mem, guard[64];
	size_t			 i, n, len;
	char			 d[160];

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		n = sizes[i];
		len = 4 + 3 + 4 + n;
		if ((der = malloc(len)) == NULL ||
		    (mem = malloc(sizeof(*dc) + sizeof(guard))) == NULL) {
			test_cond("malloc", 0);
			free(der);
			return;
		}
		dc = (br_skey_decoder_context *)(void *)mem;
		memset(guard, 0xa5, sizeof(guard));
		memcpy(mem + sizeof(*dc), guard, sizeof(guard));
		/* SEQUENCE { INTEGER 0, INTEGER (n bytes) ... } cut after the modulus. */
		der[0] = 0x30; der[1] = 0x82;
		der[2] = (unsigned char)((len - 4) >> 8); der[3] = (unsigned char)(len - 4);
		der[4] = 0x02; der[5] = 0x01; der[6] = 0x00;
		der[7] = 0x02; der[8] = 0x82;
		der[9] = (unsigned char)(n >> 8); der[10] = (unsigned char)n;
		memset(der + 11, 0x5a, n);
		br_skey_decoder_init(dc);
		br_skey_decoder_push(dc, der, len);
		snprintf(d, sizeof(d), "skey decoder: a %zu-byte modulus stays inside the "
		    "context and is refused", n);
		test_cond(d, br_skey_decoder_last_error(dc) != 0 &&
		    br_skey_decoder_get_rsa(dc) == NULL &&
		    memcmp(mem + sizeof(*dc), guard, sizeof(guard)) == 0);
		free(mem);
		free(der);
	}
}

int
main(void)
{
	static const struct named_ec p256[] = {
		{ "br_ec_get_default()", NULL }, { "br_ec_all_m31", &br_ec_all_m31 },
		{ "br_ec_p256_m31", &br_ec_p256_m31 }, { "br_ec_p256_m15", &br_ec_p256_m15 },
		{ "br_ec_all_m15", &br_ec_all_m15 }, { "br_ec_prime_i31", &br_ec_prime_i31 },
		{ "br_ec_prime_i15", &br_ec_prime_i15 },
	};
	static const struct named_ec x25519[] = {
		{ "br_ec_get_default()", NULL }, { "br_ec_all_m31", &br_ec_all_m31 },
		{ "br_ec_c25519_m31", &br_ec_c25519_m31 }, { "br_ec_c25519_m15", &br_ec_c25519_m15 },
		{ "br_ec_c25519_i31", &br_ec_c25519_i31 }, { "br_ec_c25519_i15", &br_ec_c25519_i15 },
	};
	struct named_ec	p[sizeof(p256) / sizeof(p256[0])], x[sizeof(x25519) / sizeof(x25519[0])];

	if (load_vectors(KAT_DIR "openssl.txt") != 0) {
		perror(KAT_DIR "openssl.txt");
		return 1;
	}
	memcpy(p, p256, sizeof(p));
	memcpy(x, x25519, sizeof(x));
	p[0].impl = x[0].impl = br_ec_get_default();
	test_cond("br_ec_get_default() is br_ec_all_m31 here (what the TLS client uses)",
	    br_ec_get_default() == &br_ec_all_m31);

	test_sha256();
	test_ecdh(BR_EC_secp256r1, "P-256 ECDH", p, sizeof(p) / sizeof(p[0]),
	    "p256_a_priv", "p256_a_pub", "p256_b_pub", "p256_ab_shared");
	test_ecdh(BR_EC_curve25519, "X25519", x, sizeof(x) / sizeof(x[0]),
	    "x25519_a_priv", "x25519_a_pub", "x25519_b_pub", "x25519_ab_shared");
	test_ecdsa();
	test_rsa_key(KAT_DIR "rsa2048.der", KAT_DIR "rsa2048_msg.sig", "2048-bit");
	test_rsa_key(KAT_DIR "rsa4096.der", KAT_DIR "rsa4096_msg.sig", "4096-bit");
	test_skey_overflow();
	return test_report();
}
