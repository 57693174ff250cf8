/*
 * tls.h: a TLS 1.2 client on BearSSL, over a connected socket from net.h.
 *
 * The caller owns every buffer passed in; tls_ctx_new() copies what it keeps.
 * Errors are reported once via log_error() with the server (or the kubeconfig
 * source, for credential problems) and BearSSL's error by name, e.g.
 * "https://127.0.0.1:6443: TLS handshake failed: BR_ERR_X509_NOT_TRUSTED
 * (certificate not signed by the kubeconfig's certificate authority)".
 * Key and certificate bytes are never printed and are wiped before free.
 */
#ifndef CL_TLS_H
#define CL_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tls_config {
	const unsigned char	*ca_pem;	/* PEM bundle, 1+ certificates; may be NULL if insecure */
	size_t			 ca_pem_len;
	const unsigned char	*cert_pem;	/* client certificate chain (PEM), or NULL */
	size_t			 cert_pem_len;
	const unsigned char	*key_pem;	/* client key (PEM: PKCS#1 RSA, SEC1 EC, PKCS#8), or NULL */
	size_t			 key_pem_len;
	int			 insecure;	/* insecure-skip-tls-verify: no chain or name check */
	const char		*where;		/* for messages about the above, e.g. "kubeconfig /x/y" */
	/* Where the CA, certificate and key came from ("kubeconfig /x/y:12: ..."), for
	 * messages about their contents; each may be NULL (then "where" is used). */
	const char		*ca_where, *cert_where, *key_where;
};

struct tls_ctx;
struct tls_conn;

/*
 * Decodes trust anchors, client chain and key. Returns NULL on error (logged, naming
 * cfg->where and which item is bad: "no certificate in certificate-authority data",
 * "client key does not match client certificate", ...). Free with tls_ctx_free().
 */
struct tls_ctx	*tls_ctx_new(const struct tls_config *cfg);
void		 tls_ctx_free(struct tls_ctx *);

/*
 * Runs the handshake on fd, checking the server certificate against server_name:
 * a DNS name (SNI sent, name matched by BearSSL) or an IPv4/IPv6 literal (no SNI;
 * matched against the certificate's IP subjectAltNames by our own code). "where"
 * names the server in messages. Returns NULL on failure (logged, except when interrupted:
 * errno is then EINTR and nothing is logged). Does not own fd.
 */
struct tls_conn	*tls_conn_new(struct tls_ctx *, int fd, const char *server_name,
		    int64_t deadline, const char *where);
/*
 * Returns bytes read (> 0), 0 on clean close or EOF, -1 on error/deadline (errno set, not logged).
 * EOF without close_notify also returns 0: HTTP's own framing detects a cut body.
 * When the deadline passes (errno ETIMEDOUT) or a signal interrupts (EINTR) the
 * connection stays usable: call again with a new deadline. Other errors are final
 * (errno EPROTO for TLS errors, else the socket's errno); tls_conn_error() describes them.
 */
ssize_t		 tls_read(struct tls_conn *, void *buf, size_t len, int64_t deadline);
/*
 * Returns 0 or -1 (errno set, not logged). Flushes before returning. Any failure,
 * including the deadline, is final for the connection (a record may be half sent).
 */
int		 tls_write_all(struct tls_conn *, const void *buf, size_t len, int64_t deadline);
/* Frees the connection state; does not close the fd and sends nothing. */
void		 tls_conn_free(struct tls_conn *);

/*
 * The last failure of tls_read/tls_write_all on c as one phrase for messages (httpc
 * prints it), e.g. "BR_ERR_RECV_FATAL_ALERT (server sent fatal alert 42 bad_certificate)"
 * or "read timed out"; "" when none. Valid until the next call on c.
 */
const char	*tls_conn_error(const struct tls_conn *c);

/*
 * BearSSL error code err (BR_ERR_*, including BR_ERR_RECV_FATAL_ALERT + alert and
 * BR_ERR_SEND_FATAL_ALERT + alert) as "NAME (sentence)" into buf (cut to size); returns buf.
 */
const char	*tls_error_str(int err, char *buf, size_t size);

#endif
