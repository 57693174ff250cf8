/* tls.c: see tls.h. BearSSL does the protocol; this file feeds it and explains its errors. */
#define _DEFAULT_SOURCE	/* explicit_bzero, strndup, getrandom, inet_pton */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <bearssl.h>

#include "log.h"
#include "net.h"
#include "pem.h"
#include "tls.h"
#include "x509ext.h"

#define TLS_MAX_CHAIN		16		/* client certificates sent */
#define TLS_MAX_EE_CERT		(64 * 1024)	/* server certificate kept for the IP check */
#define TLS_MAX_SAN_IPS		8		/* IP subjectAltNames named in an error */
#define TLS_SEED_LEN		32

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

/*
 * An X.509 engine that delegates to BearSSL's minimal engine and then checks the
 * end-entity certificate's IP subjectAltNames against the address we connected to.
 */
struct x509_ipcheck {
	const br_x509_class	 *vtable;
	const br_x509_class	**inner;
	unsigned char		  ip[16];
	size_t			  iplen;
	unsigned		  ncert;	/* certificates started so far */
	int			  too_big;	/* EE certificate exceeds TLS_MAX_EE_CERT */
	int			  malformed;	/* its subjectAltName could not be read */
	int			  nips;		/* IP SANs found (may exceed TLS_MAX_SAN_IPS) */
	struct x509ext_ip	  ips[TLS_MAX_SAN_IPS];
	size_t			  ee_len;
	unsigned char		  ee[TLS_MAX_EE_CERT];
};

/* insecure-skip-tls-verify: accepts any chain, yields the end-entity key. */
struct x509_insecure {
	const br_x509_class	*vtable;
	br_x509_decoder_context	 dc;
	unsigned		 ncert;
};

struct tls_conn {
	br_ssl_client_context	 sc;
	br_x509_minimal_context	 xc;
	struct x509_ipcheck	 ipc;
	struct x509_insecure	 ins;
	int			 fd;
	int64_t			 deadline;
	int			 dead;		/* a socket failure ended the connection */
	int			 eof;		/* ... and it was the peer closing the socket */
	int			 io_errno;	/* ... or this errno */
	const char		*server_name;
	int			 is_ip;
	char			 err[256];
	unsigned char		 iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* ---------------------------------------------------------------------------------------
 * Credentials: trust anchors, client chain and key.
 */

/* Growable byte buffer for the DN callback of br_x509_decoder. */
struct dnbuf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 oom;
};

static void
dn_append(void *ctx, const void *buf, size_t len)
{
	struct dnbuf	*d = ctx;
	unsigned char	*np;
	size_t		 ncap;

	if (d->oom)
		return;
	if (len > d->cap - d->len) {
		/* A DN is bounded by its certificate, itself bounded by PEM_MAX_INPUT. */
		ncap = d->cap * 2 + len + 64;
		if ((np = realloc(d->p, ncap)) == NULL) {
			d->oom = 1;
			return;
		}
		d->p = np;
		d->cap = ncap;
	}
	memcpy(d->p + d->len, buf, len);
	d->len += len;
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
		struct dnbuf		 dn = { NULL, 0, 0, 0 };
		br_x509_trust_anchor	*ta;
		br_x509_pkey		*pk;
		int			 e;

		if (strcmp(objs[i].label, "CERTIFICATE") != 0)
			continue;
		br_x509_decoder_init(&dc, dn_append, &dn);
		br_x509_decoder_push(&dc, objs[i].der, objs[i].der_len);
		pk = br_x509_decoder_get_pkey(&dc);
		if (dn.oom) {
			free(dn.p);
			log_error("%s: out of memory", where);
			goto done;
		}
		if ((e = br_x509_decoder_last_error(&dc)) != 0 || pk == NULL) {
			free(dn.p);
			log_error("%s: certificate-authority data: certificate %d: %s", where,
			    i + 1, tls_error_str(e ? e : BR_ERR_X509_UNSUPPORTED, ebuf,
			    sizeof(ebuf)));
			goto done;
		}
		ta = &t->tas[t->n_tas];
		ta->dn.data = dn.p;
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
 * The moduli are compared, then a signature made with sk must verify with pk (which
 * also covers the exponent: BearSSL's br_rsa_compute_pubexp() cannot recover it for
 * primes p = 1 mod 4).
 */
static int
rsa_key_matches(const br_rsa_private_key *sk, const br_rsa_public_key *pk)
{
	static const unsigned char hash[32] = "carrier-lock key/cert match.....";
	br_rsa_compute_modulus	 modulus = br_rsa_compute_modulus_get_default();
	unsigned char		*n = NULL, *sig = NULL, out[32];
	size_t			 nlen;
	int			 rc = -1;

	if ((nlen = modulus(NULL, sk)) == 0)
		return -1;
	if ((n = malloc(nlen)) == NULL || (sig = malloc(nlen)) == NULL ||
	    modulus(n, sk) != nlen)
		goto done;
	rc = 0;
	if (!bigint_eq(n, nlen, pk->n, pk->nlen))
		goto done;
	if (br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, sizeof(hash), sk,
	    sig) != 1) {
		rc = -1;
		goto done;
	}
	rc = br_rsa_pkcs1_vrfy_get_default()(sig, (sk->n_bitlen + 7) / 8, BR_HASH_OID_SHA256,
	    sizeof(out), pk, out) == 1 && memcmp(out, hash, sizeof(out)) == 0;
done:
	free(n);
	free(sig);
	return rc;
}

/* 1 when sk is the private half of the EC public key pk, 0 when not, -1 on error. */
static int
ec_key_matches(const br_ec_private_key *sk, const br_ec_public_key *pk)
{
	unsigned char	q[BR_EC_KBUF_PUB_MAX_SIZE];
	size_t		qlen;

	if (sk->curve != pk->curve)
		return 0;
	if ((qlen = br_ec_compute_pub(br_ec_get_default(), NULL, q, sk)) == 0)
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
	size_t			 errline, off;
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
	} else {
		log_error("%s: client key has an unsupported type", where);
		goto done;
	}
	rc = 0;
	goto done;
oom:
	log_error("%s: out of memory", where);
done:
	if (kd != NULL) {
		explicit_bzero(kd, sizeof(*kd));
		free(kd);
	}
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
	    ec_key_matches(&t->ec, &pk->key.ec);
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
	for (i = 0; i < t->chain_len; i++) {
		explicit_bzero(t->chain[i].data, t->chain[i].data_len);
		free(t->chain[i].data);
	}
	free(t->chain);
	if (t->keybuf != NULL)
		explicit_bzero(t->keybuf, t->keybuf_len);
	free(t->keybuf);
	free(t->where);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* ---------------------------------------------------------------------------------------
 * X.509 engines: IP subjectAltName check around the minimal engine, and "insecure".
 */

static void
ipc_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct x509_ipcheck *c = (struct x509_ipcheck *)(void *)ctx;

	c->ncert = 0;
	c->ee_len = 0;
	c->too_big = 0;
	c->malformed = 0;
	c->nips = 0;
	(*c->inner)->start_chain(c->inner, server_name);
}

static void
ipc_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct x509_ipcheck *c = (struct x509_ipcheck *)(void *)ctx;

	if (c->ncert == 0 && length > TLS_MAX_EE_CERT)
		c->too_big = 1;
	c->ncert++;
	(*c->inner)->start_cert(c->inner, length);
}

static void
ipc_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct x509_ipcheck *c = (struct x509_ipcheck *)(void *)ctx;

	if (c->ncert == 1 && !c->too_big) {
		if (len > sizeof(c->ee) - c->ee_len)
			c->too_big = 1;
		else {
			memcpy(c->ee + c->ee_len, buf, len);
			c->ee_len += len;
		}
	}
	(*c->inner)->append(c->inner, buf, len);
}

static void
ipc_end_cert(const br_x509_class **ctx)
{
	struct x509_ipcheck *c = (struct x509_ipcheck *)(void *)ctx;

	(*c->inner)->end_cert(c->inner);
}

static unsigned
ipc_end_chain(const br_x509_class **ctx)
{
	struct x509_ipcheck	*c = (struct x509_ipcheck *)(void *)ctx;
	unsigned		 r;
	size_t			 i;

	/* end_chain returns 0 on success (BR_ERR_X509_OK is internal to the engine). */
	if ((r = (*c->inner)->end_chain(c->inner)) != 0)
		return r;
	if (c->ncert == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	if (c->too_big)
		return BR_ERR_X509_LIMIT_EXCEEDED;
	c->nips = x509ext_san_ips(c->ee, c->ee_len, c->ips, TLS_MAX_SAN_IPS);
	if (c->nips < 0) {
		c->malformed = 1;
		return BR_ERR_X509_BAD_SERVER_NAME;
	}
	/* All entries are compared, also those past TLS_MAX_SAN_IPS: re-read when needed. */
	for (i = 0; i < (size_t)c->nips && i < TLS_MAX_SAN_IPS; i++)
		if (c->ips[i].len == c->iplen && memcmp(c->ips[i].addr, c->ip, c->iplen) == 0)
			return 0;
	if (c->nips > TLS_MAX_SAN_IPS) {
		struct x509ext_ip	*all;
		int			 n, j, ok = 0;

		if ((all = calloc((size_t)c->nips, sizeof(*all))) == NULL)
			return BR_ERR_X509_LIMIT_EXCEEDED;
		n = x509ext_san_ips(c->ee, c->ee_len, all, (size_t)c->nips);
		for (j = 0; j < n && j < c->nips; j++)
			if (all[j].len == c->iplen && memcmp(all[j].addr, c->ip, c->iplen) == 0)
				ok = 1;
		free(all);
		if (ok)
			return 0;
	}
	return BR_ERR_X509_BAD_SERVER_NAME;
}

static const br_x509_pkey *
ipc_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct x509_ipcheck *c = (const struct x509_ipcheck *)(const void *)ctx;

	return (*c->inner)->get_pkey(c->inner, usages);
}

static const br_x509_class ipcheck_vtable = {
	sizeof(struct x509_ipcheck),
	ipc_start_chain, ipc_start_cert, ipc_append, ipc_end_cert, ipc_end_chain,
	ipc_get_pkey,
};

static void
ins_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct x509_insecure *c = (struct x509_insecure *)(void *)ctx;

	(void)server_name;
	br_x509_decoder_init(&c->dc, NULL, NULL);
	c->ncert = 0;
}

static void
ins_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct x509_insecure *c = (struct x509_insecure *)(void *)ctx;

	(void)length;
	c->ncert++;
}

static void
ins_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct x509_insecure *c = (struct x509_insecure *)(void *)ctx;

	if (c->ncert == 1)
		br_x509_decoder_push(&c->dc, buf, len);
}

static void
ins_end_cert(const br_x509_class **ctx)
{
	(void)ctx;
}

static unsigned
ins_end_chain(const br_x509_class **ctx)
{
	struct x509_insecure	*c = (struct x509_insecure *)(void *)ctx;
	int			 e;

	if (c->ncert == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	if ((e = br_x509_decoder_last_error(&c->dc)) != 0)
		return (unsigned)e;
	return br_x509_decoder_get_pkey(&c->dc) != NULL ? 0 : BR_ERR_X509_UNSUPPORTED;
}

static const br_x509_pkey *
ins_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct x509_insecure *c = (struct x509_insecure *)(void *)ctx;

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&c->dc);
}

static const br_x509_class insecure_vtable = {
	sizeof(struct x509_insecure),
	ins_start_chain, ins_start_cert, ins_append, ins_end_cert, ins_end_chain,
	ins_get_pkey,
};

/* ---------------------------------------------------------------------------------------
 * Connections. The engine is driven here rather than by br_sslio, whose callbacks can
 * only fail the engine: a read deadline must leave the connection usable (watch streams
 * wait on it), so a timed-out read returns without touching the engine.
 */

/*
 * Marks the connection dead after a socket failure. BearSSL has no public call to fail
 * its engine, so the engine is simply never driven again.
 */
static void
conn_kill(struct tls_conn *c, int err)
{
	c->dead = 1;
	c->io_errno = err;
}

/*
 * Runs the engine until its state has one of the target bits. Returns 0, or -1 with
 * errno set: ETIMEDOUT/EINTR from a read (engine intact), EPROTO when the engine failed
 * or closed, else the socket's errno (the connection is then dead: c->dead).
 */
static int
conn_run_until(struct tls_conn *c, unsigned target)
{
	br_ssl_engine_context	*eng = &c->sc.eng;
	unsigned		 state;
	unsigned char		*buf;
	size_t			 len;
	ssize_t			 n;

	for (;;) {
		if (c->dead) {
			errno = c->io_errno;
			return -1;
		}
		state = br_ssl_engine_current_state(eng);
		if (state & BR_SSL_CLOSED) {
			errno = EPROTO;
			return -1;
		}
		if (state & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			if (net_write_all(c->fd, buf, len, c->deadline) != 0) {
				conn_kill(c, errno != 0 ? errno : EIO);
				continue;
			}
			br_ssl_engine_sendrec_ack(eng, len);
			continue;
		}
		if (state & target)
			return 0;
		if (state & BR_SSL_RECVAPP) {
			/* Writing while unread application data blocks the engine. */
			errno = EPROTO;
			return -1;
		}
		if (state & BR_SSL_RECVREC) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			n = net_read(c->fd, buf, len, c->deadline);
			if (n < 0 && (errno == ETIMEDOUT || errno == EINTR))
				return -1;
			if (n <= 0) {
				c->eof = n == 0;
				conn_kill(c, n == 0 ? EPIPE : errno != 0 ? errno : EIO);
				continue;
			}
			br_ssl_engine_recvrec_ack(eng, (size_t)n);
			continue;
		}
		br_ssl_engine_flush(eng, 0);
	}
}

/* Describes in c->err why the connection failed (after conn_run_until() returned -1). */
static void
conn_describe(struct tls_conn *c, int saved_errno)
{
	int	err = br_ssl_engine_last_error(&c->sc.eng);
	char	ebuf[200];

	if (c->dead && c->eof)
		snprintf(c->err, sizeof(c->err), "connection closed by the server");
	else if (c->dead && c->io_errno == ETIMEDOUT)
		snprintf(c->err, sizeof(c->err), "write timed out");
	else if (c->dead)
		snprintf(c->err, sizeof(c->err), "%s", strerror(c->io_errno));
	else if (saved_errno == ETIMEDOUT)
		snprintf(c->err, sizeof(c->err), "read timed out");
	else if (saved_errno == EINTR)
		snprintf(c->err, sizeof(c->err), "interrupted");
	else if (err == BR_ERR_OK)
		snprintf(c->err, sizeof(c->err), "connection closed by the server");
	else
		snprintf(c->err, sizeof(c->err), "%s", tls_error_str(err, ebuf, sizeof(ebuf)));
}

/* Adds what we know about a name mismatch: the name, or the IP and the certificate's IPs. */
static void
conn_describe_name(struct tls_conn *c)
{
	char	 ip[64], list[160];
	size_t	 i, o = 0;

	if (!c->is_ip) {
		snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
		    ": certificate is not valid for \"%s\"", c->server_name);
		return;
	}
	if (c->ipc.malformed) {
		snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
		    ": certificate's subjectAltName is malformed");
		return;
	}
	list[0] = '\0';
	for (i = 0; i < (size_t)c->ipc.nips && i < TLS_MAX_SAN_IPS && o < sizeof(list); i++) {
		x509ext_ip_str(c->ipc.ips[i].addr, c->ipc.ips[i].len, ip, sizeof(ip));
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", ip);
	}
	snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
	    ": certificate is not valid for IP %s (its IP subjectAltNames: %s)",
	    c->server_name, c->ipc.nips > 0 ? list : "none");
}

static void
seed_rng(struct tls_conn *c)
{
	unsigned char	seed[TLS_SEED_LEN];
	size_t		got = 0;
	ssize_t		n;

	/* getrandom() works without /dev (FROM scratch), where BearSSL's seeder does not. */
	while (got < sizeof(seed)) {
		n = getrandom(seed + got, sizeof(seed) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* Without it, BearSSL still tries RDRAND and /dev/urandom, or fails BR_ERR_NO_RANDOM. */
	if (got == sizeof(seed))
		br_ssl_engine_inject_entropy(&c->sc.eng, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
}

struct tls_conn *
tls_conn_new(struct tls_ctx *t, int fd, const char *server_name, int64_t deadline,
    const char *where)
{
	struct tls_conn	*c;
	struct in6_addr	 a6;
	struct in_addr	 a4;
	int		 saved;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_error("%s: out of memory", where);
		return NULL;
	}
	c->fd = fd;
	c->server_name = server_name;
	br_ssl_client_init_full(&c->sc, &c->xc, t->tas, t->n_tas);
	br_ssl_engine_set_versions(&c->sc.eng, BR_TLS12, BR_TLS12);
	if (inet_pton(AF_INET, server_name, &a4) == 1) {
		c->is_ip = 1;
		memcpy(c->ipc.ip, &a4, 4);
		c->ipc.iplen = 4;
	} else if (inet_pton(AF_INET6, server_name, &a6) == 1) {
		c->is_ip = 1;
		memcpy(c->ipc.ip, &a6, 16);
		c->ipc.iplen = 16;
	}
	if (t->insecure) {
		c->ins.vtable = &insecure_vtable;
		br_ssl_engine_set_x509(&c->sc.eng, &c->ins.vtable);
	} else if (c->is_ip) {
		c->ipc.vtable = &ipcheck_vtable;
		c->ipc.inner = &c->xc.vtable;
		br_ssl_engine_set_x509(&c->sc.eng, &c->ipc.vtable);
	}
	if (t->key_type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(&c->sc, t->chain, t->chain_len, &t->rsa,
		    br_rsa_pkcs1_sign_get_default());
	else if (t->key_type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(&c->sc, t->chain, t->chain_len, &t->ec,
		    t->ec_usages, t->ec_issuer_key_type, br_ec_get_default(),
		    br_ecdsa_sign_asn1_get_default());
	br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof(c->iobuf), 1);
	seed_rng(c);
	/* An IP literal is no SNI name (RFC 6066 3); the IP engine checks it instead. */
	if (!br_ssl_client_reset(&c->sc, c->is_ip ? NULL : server_name, 0)) {
		conn_describe(c, 0);
		log_error("%s: TLS setup failed: %s", where, c->err);
		goto fail;
	}
	c->deadline = deadline;
	if (conn_run_until(c, BR_SSL_SENDAPP | BR_SSL_RECVAPP) != 0) {
		saved = errno;
		if (saved == EINTR)
			goto fail;
		conn_describe(c, saved);
		if (br_ssl_engine_last_error(&c->sc.eng) == BR_ERR_X509_BAD_SERVER_NAME)
			conn_describe_name(c);
		else if (br_ssl_engine_last_error(&c->sc.eng) == BR_ERR_X509_NOT_TRUSTED)
			snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
			    "; CA from %s", t->where);
		log_error("%s: TLS handshake failed: %s", where, c->err);
		errno = saved;
		goto fail;
	}
	c->err[0] = '\0';
	return c;
fail:
	saved = errno;
	tls_conn_free(c);
	errno = saved;
	return NULL;
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t len, int64_t deadline)
{
	br_ssl_engine_context	*eng = &c->sc.eng;
	unsigned char		*app;
	size_t			 alen;
	int			 saved;

	if (len == 0)
		return 0;
	c->deadline = deadline;
	c->err[0] = '\0';
	if (conn_run_until(c, BR_SSL_RECVAPP) != 0) {
		saved = errno;
		if ((c->dead && c->eof) ||
		    ((br_ssl_engine_current_state(eng) & BR_SSL_CLOSED) &&
		    br_ssl_engine_last_error(eng) == BR_ERR_OK))
			return 0;
		conn_describe(c, saved);
		errno = saved;
		return -1;
	}
	app = br_ssl_engine_recvapp_buf(eng, &alen);
	if (alen > len)
		alen = len;
	memcpy(buf, app, alen);
	br_ssl_engine_recvapp_ack(eng, alen);
	return (ssize_t)alen;
}

int
tls_write_all(struct tls_conn *c, const void *buf, size_t len, int64_t deadline)
{
	br_ssl_engine_context	*eng = &c->sc.eng;
	const unsigned char	*p = buf;
	unsigned char		*app;
	size_t			 alen;
	int			 saved;

	c->deadline = deadline;
	c->err[0] = '\0';
	while (len > 0) {
		if (conn_run_until(c, BR_SSL_SENDAPP) != 0)
			goto fail;
		app = br_ssl_engine_sendapp_buf(eng, &alen);
		if (alen > len)
			alen = len;
		memcpy(app, p, alen);
		br_ssl_engine_sendapp_ack(eng, alen);
		p += alen;
		len -= alen;
	}
	br_ssl_engine_flush(eng, 0);
	if (conn_run_until(c, BR_SSL_SENDAPP | BR_SSL_RECVAPP) != 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	conn_describe(c, saved);
	/* A record may be half written: the connection cannot be used again. */
	if (!c->dead)
		conn_kill(c, saved);
	errno = saved;
	return -1;
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	/* Session keys and buffered plaintext (it may hold a bearer token). */
	explicit_bzero(c, sizeof(*c));
	free(c);
}

const char *
tls_conn_error(const struct tls_conn *c)
{
	return c->err;
}
