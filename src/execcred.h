/*
 * execcred.h: the ExecCredential objects of client.authentication.k8s.io/v1 and v1beta1:
 * the request an exec plugin gets in KUBERNETES_EXEC_INFO, and its reply on stdout.
 * Pure: no I/O, nothing logged; the reply is untrusted bytes and holds secrets.
 */
#ifndef CL_EXECCRED_H
#define CL_EXECCRED_H

#include <stddef.h>

struct cred_value;
struct kcfg;

/* Longest reply read from a plugin; a longer one is an error, never cut. */
#define EXECCRED_MAX_REPLY	(1024 * 1024)

/*
 * The request for k's exec plugin: kind, apiVersion, spec.interactive and, when
 * provideClusterInfo is set, spec.cluster (server, tls-server-name,
 * insecure-skip-tls-verify, certificate-authority-data, proxy-url, config). Returns a
 * malloc'd string (the caller frees it), or NULL on out of memory.
 */
char	*execcred_request(const struct kcfg *k, int interactive);

/*
 * Parses a plugin's reply buf[0..len) to a request of api_version: kind ExecCredential,
 * the same apiVersion, and in status a token, or clientCertificateData and clientKeyData
 * (PEM), or both, and optionally expirationTimestamp (RFC 3339). Returns 0 with the
 * token, certificate, key and expiry (wall-clock ms, 0: none) set in *out (which must be
 * empty; free with cred_value_clear), or -1 with why (size whysz) saying what is wrong,
 * without any secret of the reply. Duplicate keys are refused.
 */
int	 execcred_parse(const char *buf, size_t len, const char *api_version,
	    struct cred_value *out, char *why, size_t whysz);

#endif
