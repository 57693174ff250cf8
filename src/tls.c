/*
 * tls.c: see tls.h. BearSSL does the protocol; this file feeds it, checks IP names and
 * explains its errors. Credentials (trust anchors, client keys) are in tls_cred.c.
 */
#define _DEFAULT_SOURCE	/* getrandom */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <bearssl.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "pem.h"
#include "tls.h"
#include "tls_int.h"
#include "x509ext.h"

#define TLS_MAX_EE_CERT		(64 * 1024)	/* server certificate kept for the IP check */
#define TLS_MAX_SAN_IPS		8		/* IP subjectAltNames named in an error */
#define TLS_SEED_LEN		32


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
	int	 err = br_ssl_engine_last_error(&c->sc.eng);
	int	 closed = (br_ssl_engine_current_state(&c->sc.eng) & BR_SSL_CLOSED) != 0;
	char	 ebuf[200];

	snprintf(c->err, sizeof(c->err), "%s", c->dead && c->eof ?
	    "connection closed by the server" :
	    c->dead && c->io_errno == ETIMEDOUT ? "write timed out" :
	    c->dead ? strerror(c->io_errno) :
	    saved_errno == ETIMEDOUT ? "read timed out" :
	    saved_errno == EINTR ? "interrupted" :
	    !closed && saved_errno == EPROTO ? "unread data from the server blocks the write" :
	    err == BR_ERR_OK ? "connection closed by the server" :
	    tls_error_str(err, ebuf, sizeof(ebuf)));
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
	buf_wipe(seed, sizeof(seed));
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
	tls_engine_init(&c->sc, &c->xc, t->tas, t->n_tas);
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
		    tls_rsa_pkcs1_sign);
	else if (t->key_type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(&c->sc, t->chain, t->chain_len, &t->ec,
		    t->ec_usages, t->ec_issuer_key_type, &tls_ec,
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
	{
		br_ssl_session_parameters sp;

		br_ssl_engine_get_session_parameters(&c->sc.eng, &sp);
		log_verbose("%s: TLS 1.2 %s, %s", where, tls_suite_name(sp.cipher_suite),
		    tls_curve_name(br_ssl_engine_get_ecdhe_curve(&c->sc.eng)));
	}
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
	buf_wipe_free(c, sizeof(*c));
}

const char *
tls_conn_error(const struct tls_conn *c)
{
	return c->err;
}
