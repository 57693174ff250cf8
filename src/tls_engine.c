/*
 * tls_engine.c: see tls_int.h. The client engine holds only what API servers negotiate
 * (Go's crypto/tls defaults, OpenSSL's): TLS 1.2, ECDHE with RSA or ECDSA certificates,
 * AES-GCM and ChaCha20-Poly1305, curves P-256, P-384 and X25519, SHA-256 and SHA-384.
 * No RSA key exchange, no CBC, CCM or 3DES, no static ECDH, no MD5/SHA-1 PRF: each of
 * them would link code into every binary for servers that kube-apiserver is not (issue
 * 13's size budget), and Go's server never picks them while a suite here is on offer.
 * SHA-224 and SHA-512 share the code of SHA-256 and SHA-384, so X.509 signatures made
 * with them are verified at no cost.
 */
#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#include "tls_int.h"

/* The server picks; Go picks by its own order, so ours matters only to other servers. */
static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

static const struct {
	uint16_t	 id;
	const char	*name;
} tls_suite_names[] = {
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256" },
	{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384" },
	{ BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305" },
};

#define TLS_CURVES	((1u << BR_EC_secp256r1) | (1u << BR_EC_secp384r1) | \
			 (1u << BR_EC_curve25519))

/*
 * The curve implementations br_ec_all_m31 would pick for these three curves, without
 * the generic code for P-521 and the rest. Also used for client keys (tls_cred.c), so a
 * P-521 client key is refused there as an unsupported curve, with its file named.
 */
static const br_ec_impl *
ec_pick(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1:	return &br_ec_prime_i31;
	case BR_EC_curve25519:	return &br_ec_c25519_i31;
	case BR_EC_secp384r1:	return &br_ec_prime_i31;
	default:		return NULL;
	}
}

static const unsigned char *
ec_generator(int curve, size_t *len)
{
	const br_ec_impl *e = ec_pick(curve);

	if (e == NULL) {
		*len = 0;
		return NULL;
	}
	return e->generator(curve, len);
}

static const unsigned char *
ec_order(int curve, size_t *len)
{
	const br_ec_impl *e = ec_pick(curve);

	if (e == NULL) {
		*len = 0;
		return NULL;
	}
	return e->order(curve, len);
}

static size_t
ec_xoff(int curve, size_t *len)
{
	const br_ec_impl *e = ec_pick(curve);

	if (e == NULL) {
		*len = 0;
		return 0;
	}
	return e->xoff(curve, len);
}

static uint32_t
ec_mul(unsigned char *g, size_t glen, const unsigned char *x, size_t xlen, int curve)
{
	const br_ec_impl *e = ec_pick(curve);

	return e != NULL ? e->mul(g, glen, x, xlen, curve) : 0;
}

static size_t
ec_mulgen(unsigned char *r, const unsigned char *x, size_t xlen, int curve)
{
	const br_ec_impl *e = ec_pick(curve);

	return e != NULL ? e->mulgen(r, x, xlen, curve) : 0;
}

static uint32_t
ec_muladd(unsigned char *a, const unsigned char *b, size_t len, const unsigned char *x,
    size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	const br_ec_impl *e = ec_pick(curve);

	return e != NULL ? e->muladd(a, b, len, x, xlen, y, ylen, curve) : 0;
}

const br_ec_impl tls_ec = {
	TLS_CURVES, ec_generator, ec_order, ec_xoff, ec_mul, ec_mulgen, ec_muladd,
};

void
tls_engine_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    const br_x509_trust_anchor *tas, size_t n_tas)
{
	br_ssl_engine_context	*eng = &cc->eng;

	br_ssl_client_zero(cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, tls_suites, sizeof(tls_suites) / sizeof(tls_suites[0]));
	/* The engine's hashes are what it offers for ServerKeyExchange signatures, too. */
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_rsavrfy(eng, tls_rsa_pkcs1_vrfy);
	br_ssl_engine_set_ec(eng, &tls_ec);
	br_ssl_engine_set_ecdsa(eng, br_ecdsa_vrfy_asn1_get_default());
	/*
	 * One portable constant-time implementation of each primitive, not BearSSL's
	 * defaults, which link AES-NI, PCLMUL and SSE2 variants beside them and pick at
	 * run time: the bytes a lock call encrypts are a few KiB, so their speed is
	 * invisible (issue 13 measured it), their size is not.
	 */
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct64_ctr_vtable);
	br_ssl_engine_set_ghash(eng, &br_ghash_ctmul64);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable, &br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, &br_chacha20_ct_run);
	br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmul_run);

	br_x509_minimal_init(xc, &br_sha256_vtable, tas, n_tas);
	br_x509_minimal_set_rsa(xc, tls_rsa_pkcs1_vrfy);
	br_x509_minimal_set_ecdsa(xc, &tls_ec, br_ecdsa_vrfy_asn1_get_default());
	br_x509_minimal_set_hash(xc, br_sha224_ID, &br_sha224_vtable);
	br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
	br_ssl_engine_set_x509(eng, &xc->vtable);
}

const char *
tls_suite_name(unsigned suite)
{
	size_t	i;

	for (i = 0; i < sizeof(tls_suite_names) / sizeof(tls_suite_names[0]); i++)
		if (tls_suite_names[i].id == suite)
			return tls_suite_names[i].name;
	return "unknown suite";
}

const char *
tls_curve_name(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1:	return "P-256";
	case BR_EC_secp384r1:	return "P-384";
	case BR_EC_curve25519:	return "X25519";
	default:		return "unknown curve";
	}
}
