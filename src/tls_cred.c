/* tls_cred.c: trust anchors, client certificate chain and key for tls.h's tls_ctx_new(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "buf.h"
#include "log.h"
#include "pem.h"
#include "tls.h"
#include "tls_int.h"
#include "x509ext.h"

/* ---------------------------------------------------------------------------------------
 * Credentials: trust anchors, client chain and key.
 */

/* br_x509_decoder's DN callback. A DN is bounded by its certificate (PEM_MAX_INPUT). */
static void
dn_append(void *ctx, const void *buf, size_t len)
{
	buf_add(ctx, buf, len);
}

static unsigned char *
memdup(const void *p, size_t len)
{
	unsigned char *q = malloc(len ? len : 1);

	if (q != NULL && len > 0)
		memcpy(q, p, len);
	return q;
}

/* Copies the key the decoder found into pk, with its own memory. Returns 0 or -1. */
static int
pkey_copy(br_x509_pkey *pk, const br_x509_pkey *src)
{
	*pk = *src;
	if (src->key_type == BR_KEYTYPE_RSA) {
		pk->key.rsa.n = memdup(src->key.rsa.n, src->key.rsa.nlen);
		pk->key.rsa.e = memdup(src->key.rsa.e, src->key.rsa.elen);
		return pk->key.rsa.n != NULL && pk->key.rsa.e != NULL ? 0 : -1;
	}
	pk->key.ec.q = memdup(src->key.ec.q, src->key.ec.qlen);
	return pk->key.ec.q != NULL ? 0 : -1;
}

static void
pkey_free(br_x509_pkey *pk)
{
	if (pk->key_type == BR_KEYTYPE_RSA) {
		free(pk->key.rsa.n);
		free(pk->key.rsa.e);
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		free(pk->key.ec.q);
	}
	pk->key_type = 0;
}

/* Decodes every CERTIFICATE of the CA bundle into trust anchors. Returns 0 or -1 (logged). */
static int
load_anchors(struct tls_ctx *t, const struct tls_config *cfg)
{
	const char	*where = cfg->ca_where != NULL ? cfg->ca_where : t->where;
	struct pem_obj	*objs = NULL;
	const char	*err;
	size_t		 errline;
	int		 n, i, rc = -1;
	char		 ebuf[160];

	if ((n = pem_decode((const char *)cfg->ca_pem, cfg->ca_pem_len, &objs, &err,
	    &errline)) < 0) {
		log_error("%s: certificate-authority data: line %zu: %s", where, errline, err);
		return -1;
	}
	if ((t->tas = calloc((size_t)n + 1, sizeof(*t->tas))) == NULL) {
		log_error("%s: out of memory", where);
		goto done;
	}
	for (i = 0; i < n; i++) {
		br_x509_decoder_context	 dc;
		struct buf		 dn = { 0 };
		br_x509_trust_anchor	*ta;
		br_x509_pkey		*pk;
		int			 e;

		if (strcmp(objs[i].label, "CERTIFICATE") != 0)
			continue;
		br_x509_decoder_init(&dc, dn_append, &dn);
		br_x509_decoder_push(&dc, objs[i].der, objs[i].der_len);
		pk = br_x509_decoder_get_pkey(&dc);
		if (dn.err != 0) {
			buf_free(&dn);
			log_error("%s: out of memory", where);
			goto done;
		}
		if ((e = br_x509_decoder_last_error(&dc)) != 0 || pk == NULL) {
			buf_free(&dn);
			log_error("%s: certificate-authority data: certificate %d: %s", where,
			    i + 1, tls_error_str(e ? e : BR_ERR_X509_UNSUPPORTED, ebuf,
			    sizeof(ebuf)));
			goto done;
		}
		ta = &t->tas[t->n_tas];
		ta->dn.data = (unsigned char *)dn.p;
		ta->dn.len = dn.len;
		ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
		t->n_tas++;
		if (pkey_copy(&ta->pkey, pk) != 0) {
			log_error("%s: out of memory", where);
			goto done;
		}
	}
	if (t->n_tas == 0) {
		log_error("%s: no certificate in certificate-authority data", where);
		goto done;
	}
	rc = 0;
done:
	pem_free(objs, n);
	return rc;
}

/* Big-endian unsigned integers equal, ignoring leading zero bytes. */
static int
bigint_eq(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	while (blen > 0 && *b == 0) {
		b++;
		blen--;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/*
 * 1 when sk is the private half of the RSA public key pk, 0 when not, -1 on error.
 * The moduli are compared (equal moduli are the same primes), and the public exponent
 * where BearSSL can recover it from sk (it cannot for primes p = 1 mod 4). No signature
 * is made: that costs an RSA private operation per run, and the one mismatch it would
 * add (a key whose exponents do not belong together: corrupt inside) fails the
 * handshake anyway.
 */
static int
rsa_key_matches(const br_rsa_private_key *sk, const br_rsa_public_key *pk)
{
	unsigned char	*n, ebuf[4];
	size_t		 nlen;
	uint32_t	 e;
	int		 rc;

	if ((nlen = tls_rsa_compute_modulus(NULL, sk)) == 0)
		return -1;
	if ((n = malloc(nlen)) == NULL || tls_rsa_compute_modulus(n, sk) != nlen) {
		free(n);
		return -1;
	}
	rc = bigint_eq(n, nlen, pk->n, pk->nlen);
	free(n);
	if (rc && (e = tls_rsa_compute_pubexp(sk)) != 0) {
		ebuf[0] = (unsigned char)(e >> 24);
		ebuf[1] = (unsigned char)(e >> 16);
		ebuf[2] = (unsigned char)(e >> 8);
		ebuf[3] = (unsigned char)e;
		rc = bigint_eq(ebuf, sizeof(ebuf), pk->e, pk->elen);
	}
	return rc;
}

/*
 * 1 when sk is the private half of the EC public key pk, 0 when not, -1 on error. The
 * public key the key file carries (filed, filed_len; 0 when none) is compared first: the
 * same point is taken as a match without the point multiplication (a fifth of an EC
 * client's CPU per run). As for RSA above, the one mismatch that adds (a file whose own
 * two halves do not belong together: corrupt inside) fails the handshake anyway. A point
 * that differs is no verdict: the key itself decides.
 */
static int
ec_key_matches(const br_ec_private_key *sk, const unsigned char *filed, size_t filed_len,
    const br_ec_public_key *pk)
{
	unsigned char	q[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t		qlen;

	if (sk->curve != pk->curve)
		return 0;
	if (filed_len > 0 && filed_len == pk->qlen && memcmp(filed, pk->q, filed_len) == 0)
		return 1;
	if ((qlen = br_ec_compute_pub(&tls_ec, NULL, q, sk)) == 0)
		return -1;
	return qlen == pk->qlen && memcmp(q, pk->q, qlen) == 0;
}

static const char *
keytype_name(int type)
{
	return type == BR_KEYTYPE_RSA ? "RSA" : type == BR_KEYTYPE_EC ? "EC" : "unknown";
}

/*
 * Decodes the one private key in key_pem into t (own memory), skipping "EC PARAMETERS".
 * Returns 0 or -1 (logged).
 */
static int
load_key(struct tls_ctx *t, const struct tls_config *cfg)
{
	const char	*where = cfg->key_where != NULL ? cfg->key_where : t->where;
	struct pem_obj		*objs = NULL;
	br_skey_decoder_context	*kd = NULL;
	const char		*err;
	const unsigned char	*point;
	size_t			 errline, off, point_len;
	int			 n, i, found = -1, rc = -1, e;
	char			 ebuf[160];

	if ((n = pem_decode((const char *)cfg->key_pem, cfg->key_pem_len, &objs, &err,
	    &errline)) < 0) {
		log_error("%s: client key data: line %zu: %s", where, errline, err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *l = objs[i].label;

		if (strcmp(l, "EC PARAMETERS") == 0)
			continue;
		if (strcmp(l, "ENCRYPTED PRIVATE KEY") == 0) {
			log_error("%s: client key is encrypted, which is not supported", where);
			goto done;
		}
		if (strcmp(l, "RSA PRIVATE KEY") != 0 && strcmp(l, "EC PRIVATE KEY") != 0 &&
		    strcmp(l, "PRIVATE KEY") != 0) {
			log_error("%s: client key data: unexpected PEM block \"%s\" (expected "
			    "RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)", where,
			    log_sanitize(ebuf, sizeof(ebuf), l, strlen(l)));
			goto done;
		}
		if (found >= 0) {
			log_error("%s: client key data holds more than one private key", where);
			goto done;
		}
		found = i;
	}
	if (found < 0) {
		log_error("%s: no private key in client key data", where);
		goto done;
	}
	/* Heap, not stack: it holds the key and is wiped before free. */
	if ((kd = calloc(1, sizeof(*kd))) == NULL) {
		log_error("%s: out of memory", where);
		goto done;
	}
	br_skey_decoder_init(kd);
	br_skey_decoder_push(kd, objs[found].der, objs[found].der_len);
	if ((e = br_skey_decoder_last_error(kd)) != 0) {
		/* The decoder reports ASN.1 faults with X.509 codes: not about any certificate. */
		log_error("%s: client key (%s) cannot be decoded: malformed or unsupported "
		    "key encoding (BearSSL decoder error %d)", where, objs[found].label, e);
		goto done;
	}
	t->key_type = br_skey_decoder_key_type(kd);
	if (t->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(kd);

		t->keybuf_len = sk->plen + sk->qlen + sk->dplen + sk->dqlen + sk->iqlen;
		if ((t->keybuf = malloc(t->keybuf_len)) == NULL)
			goto oom;
		t->rsa.n_bitlen = sk->n_bitlen;
		off = 0;
#define TAKE(f) do {								\
		memcpy(t->keybuf + off, sk->f, sk->f##len);			\
		t->rsa.f = t->keybuf + off;					\
		t->rsa.f##len = sk->f##len;					\
		off += sk->f##len;						\
	} while (0)
		TAKE(p);
		TAKE(q);
		TAKE(dp);
		TAKE(dq);
		TAKE(iq);
#undef TAKE
	} else if (t->key_type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(kd);

		t->keybuf_len = sk->xlen;
		if ((t->keybuf = malloc(t->keybuf_len)) == NULL)
			goto oom;
		memcpy(t->keybuf, sk->x, sk->xlen);
		t->ec.curve = sk->curve;
		t->ec.x = t->keybuf;
		t->ec.xlen = sk->xlen;
		/* Malformed or absent there (BearSSL read the key): the key decides alone. */
		if (x509ext_ec_key_public(objs[found].der, objs[found].der_len, &point,
		    &point_len) == 1 && point_len <= sizeof(t->ec_public)) {
			memcpy(t->ec_public, point, point_len);
			t->ec_public_len = point_len;
		}
	} else {
		log_error("%s: client key has an unsupported type", where);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	log_error("%s: out of memory", where);
done:
	if (kd != NULL)
		buf_wipe_free(kd, sizeof(*kd));
	pem_free(objs, n);
	return rc;
}

/*
 * Decodes the client chain, and checks that the key belongs to its first certificate
 * and that the certificate allows what TLS will use the key for. Returns 0 or -1 (logged).
 */
static int
load_chain(struct tls_ctx *t, const struct tls_config *cfg)
{
	const char	*where = cfg->cert_where != NULL ? cfg->cert_where : t->where;
	/* A key that does not fit the certificate is reported where the key is. */
	const char	*kwhere = cfg->key_where != NULL ? cfg->key_where : t->where;
	struct pem_obj		*objs = NULL;
	br_x509_decoder_context	 dc;
	br_x509_pkey		*pk;
	const char		*err;
	size_t			 errline;
	int			 n, i, e, m, rc = -1;
	unsigned		 ku;
	char			 ebuf[160];

	if ((n = pem_decode((const char *)cfg->cert_pem, cfg->cert_pem_len, &objs, &err,
	    &errline)) < 0) {
		log_error("%s: client certificate data: line %zu: %s", where, errline, err);
		return -1;
	}
	if ((t->chain = calloc((size_t)n + 1, sizeof(*t->chain))) == NULL) {
		log_error("%s: out of memory", where);
		goto done;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(objs[i].label, "CERTIFICATE") != 0)
			continue;
		if (t->chain_len == TLS_MAX_CHAIN) {
			log_error("%s: client certificate chain longer than %d certificates",
			    where, TLS_MAX_CHAIN);
			goto done;
		}
		/* Take the DER: pem_free() skips NULL. */
		t->chain[t->chain_len].data = objs[i].der;
		t->chain[t->chain_len].data_len = objs[i].der_len;
		objs[i].der = NULL;
		t->chain_len++;
	}
	if (t->chain_len == 0) {
		log_error("%s: no certificate in client certificate data", where);
		goto done;
	}
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, t->chain[0].data, t->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if ((e = br_x509_decoder_last_error(&dc)) != 0 || pk == NULL) {
		log_error("%s: client certificate cannot be decoded: %s", where,
		    tls_error_str(e ? e : BR_ERR_X509_UNSUPPORTED, ebuf, sizeof(ebuf)));
		goto done;
	}
	if (pk->key_type != t->key_type) {
		log_error("%s: client key does not match client certificate (key is %s, "
		    "certificate's key is %s)", kwhere, keytype_name(t->key_type),
		    keytype_name(pk->key_type));
		goto done;
	}
	m = t->key_type == BR_KEYTYPE_RSA ? rsa_key_matches(&t->rsa, &pk->key.rsa) :
	    ec_key_matches(&t->ec, t->ec_public, t->ec_public_len, &pk->key.ec);
	if (m < 0) {
		log_error("%s: client key is invalid or uses an unsupported curve", where);
		goto done;
	}
	if (m == 0) {
		log_error("%s: client key does not match client certificate", kwhere);
		goto done;
	}
	if (t->key_type == BR_KEYTYPE_EC) {
		t->ec_issuer_key_type = br_x509_decoder_get_signer_key_type(&dc);
		if (t->ec_issuer_key_type != BR_KEYTYPE_RSA &&
		    t->ec_issuer_key_type != BR_KEYTYPE_EC) {
			log_error("%s: client certificate is signed with an unsupported "
			    "algorithm", where);
			goto done;
		}
		switch (x509ext_key_usage(t->chain[0].data, t->chain[0].data_len, &ku)) {
		case 0:
			t->ec_usages = BR_KEYTYPE_SIGN | BR_KEYTYPE_KEYX;
			break;
		case 1:
			t->ec_usages = 0;
			if (ku & X509EXT_KU_DIGITAL_SIGNATURE)
				t->ec_usages |= BR_KEYTYPE_SIGN;
			if (ku & X509EXT_KU_KEY_AGREEMENT)
				t->ec_usages |= BR_KEYTYPE_KEYX;
			break;
		default:
			log_error("%s: client certificate has a malformed keyUsage", where);
			goto done;
		}
		if (t->ec_usages == 0) {
			log_error("%s: client certificate's keyUsage allows neither "
			    "digitalSignature nor keyAgreement", where);
			goto done;
		}
	}
	rc = 0;
done:
	pem_free(objs, n);
	return rc;
}

struct tls_ctx *
tls_ctx_new(const struct tls_config *cfg)
{
	static int	 warned;
	struct tls_ctx	*t;
	const char	*where = cfg->where != NULL ? cfg->where : "TLS configuration";

	if ((t = calloc(1, sizeof(*t))) == NULL || (t->where = strdup(where)) == NULL) {
		log_error("%s: out of memory", where);
		free(t);
		return NULL;
	}
	t->insecure = cfg->insecure;
	if (t->insecure) {
		if (!warned)
			log_warn("%s: insecure-skip-tls-verify is set: the server's certificate "
			    "is not verified", t->where);
		warned = 1;
	} else if (cfg->ca_pem == NULL || cfg->ca_pem_len == 0) {
		log_error("%s: no certificate-authority data, and insecure-skip-tls-verify "
		    "is not set", t->where);
		goto fail;
	} else if (load_anchors(t, cfg) != 0) {
		goto fail;
	}
	if ((cfg->cert_pem != NULL) != (cfg->key_pem != NULL)) {
		log_error("%s: client %s given without client %s", t->where,
		    cfg->cert_pem != NULL ? "certificate" : "key",
		    cfg->cert_pem != NULL ? "key" : "certificate");
		goto fail;
	}
	if (cfg->key_pem != NULL && (load_key(t, cfg) != 0 || load_chain(t, cfg) != 0))
		goto fail;
	return t;
fail:
	tls_ctx_free(t);
	return NULL;
}

void
tls_ctx_free(struct tls_ctx *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_tas; i++) {
		free(t->tas[i].dn.data);
		pkey_free(&t->tas[i].pkey);
	}
	free(t->tas);
	for (i = 0; i < t->chain_len; i++)
		buf_wipe_free(t->chain[i].data, t->chain[i].data_len);
	free(t->chain);
	buf_wipe_free(t->keybuf, t->keybuf_len);
	free(t->where);
	buf_wipe_free(t, sizeof(*t));
}

