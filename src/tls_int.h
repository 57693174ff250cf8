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
	unsigned		 ec_usages;	/* BR_KEYTYPE_SIGN and/or BR_KEYTYPE_KEYX */
	unsigned		 ec_issuer_key_type;
	unsigned char		*keybuf;	/* private key bytes; wiped on free */
	size_t			 keybuf_len;
	int			 insecure;
	char			*where;
};

#endif
