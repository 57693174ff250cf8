/*
 * tls_int.h: what tls.c (connections) and tls_cred.c (credentials) share. Not for other
 * modules: they see struct tls_ctx only as an opaque pointer (tls.h).
 */
#ifndef CL_TLS_INT_H
#define CL_TLS_INT_H

#include <stddef.h>

#include <bearssl.h>

#define TLS_MAX_CHAIN		16		/* client certificates sent */

struct tls_ctx {
	br_x509_trust_anchor	*tas;
	size_t			 n_tas;
	br_x509_certificate	*chain;		/* client chain, EE first; DER owned */
	size_t			 chain_len;
	int			 key_type;	/* 0 (no client auth), BR_KEYTYPE_RSA or _EC */
	br_rsa_private_key	 rsa;		/* points into keybuf */
	br_ec_private_key	 ec;		/* points into keybuf */
	unsigned char		 ec_public[BR_EC_KBUF_PUB_MAX_SIZE];	/* as the key file */
	size_t			 ec_public_len;	/* has it, or 0 */
	unsigned		 ec_usages;	/* BR_KEYTYPE_SIGN and/or BR_KEYTYPE_KEYX */
	unsigned		 ec_issuer_key_type;
	unsigned char		*keybuf;	/* private key bytes; wiped on free */
	size_t			 keybuf_len;
	int			 insecure;
	char			*where;
};

/*
 * The client engine of every connection (tls_engine.c): zeroes cc and sets it up for
 * TLS 1.2 with the suites, curves and hashes API servers negotiate, xc as its X.509
 * engine over tas[0..n_tas) (borrowed: they must outlive the connection).
 */
void		 tls_engine_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
		    const br_x509_trust_anchor *tas, size_t n_tas);

/*
 * RSA everywhere (server signatures, client keys): BearSSL's i31 code, whose big-integer
 * routines the curves use already, not its default i62, which links a second modular
 * exponentiation (1.6 KiB less, for about 1.4 ms more per call with a 2048-bit client
 * key: issue 13's size budget).
 */
#define tls_rsa_pkcs1_sign	br_rsa_i31_pkcs1_sign
#define tls_rsa_pkcs1_vrfy	br_rsa_i31_pkcs1_vrfy
#define tls_rsa_compute_modulus	br_rsa_i31_compute_modulus
#define tls_rsa_compute_pubexp	br_rsa_i31_compute_pubexp

/* P-256, P-384 and X25519 only; other curves fail as unsupported (0 from mul etc.). */
extern const br_ec_impl tls_ec;

/* Names for -v ("ECDHE-RSA-AES128-GCM-SHA256", "X25519"); static strings. */
const char	*tls_suite_name(unsigned suite);
const char	*tls_curve_name(int curve);

#endif
