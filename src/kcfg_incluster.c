/*
 * kcfg_incluster.c: the pod's service account, as client-go's InClusterConfig reads
 * it: server https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host
 * in brackets), token and ca.crt from kcfg_sa_dir, the namespace file if present.
 * Unlike client-go, a missing ca.crt is an error: a static binary has no system roots.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcfg.h"
#include "kcfg_int.h"
#include "log.h"
#include "text.h"

const char *kcfg_sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

int
kcfg_incluster_possible(const char **why)
{
	const char	*h = getenv("KUBERNETES_SERVICE_HOST");
	const char	*p = getenv("KUBERNETES_SERVICE_PORT");

	*why = NULL;
	if (h == NULL || h[0] == '\0')
		*why = "KUBERNETES_SERVICE_HOST not set";
	else if (p == NULL || p[0] == '\0')
		*why = "KUBERNETES_SERVICE_PORT not set";
	return *why == NULL;
}

/* Reads kcfg_sa_dir/name; NULL (logged unless missing_ok and it does not exist). */
static unsigned char *
kcfg_sa_read(const char *name, size_t *len, int missing_ok)
{
	unsigned char	*b;
	const char	*why;
	char		 path[4096], q[512];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", kcfg_sa_dir, name) >= sizeof(path)) {
		log_error("in-cluster config: service account directory path too long");
		return NULL;
	}
	if ((b = kcfg_read_file(path, len, &why)) == NULL && !(missing_ok && errno == ENOENT))
		log_error("in-cluster config: %s: %s", log_sanitize(q, sizeof(q), path,
		    strlen(path)), why);
	return b;
}

int
kcfg_incluster_load(struct kcfg *k)
{
	const char	*host = getenv("KUBERNETES_SERVICE_HOST");
	const char	*port = getenv("KUBERNETES_SERVICE_PORT");
	struct kcfg_file f = { (char *)"", (char *)".", NULL, 1 };
	unsigned char	*ns;
	size_t		 len, i;
	char		 url[512], q[128];
	int		 v6;

	if (host == NULL || port == NULL)
		return -1;
	/* What a pod's environment can hold; anything else is not ours to guess at. */
	for (i = 0; host[i] != '\0'; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:",
		    host[i])) {
			log_error("in-cluster config: KUBERNETES_SERVICE_HOST \"%s\" is not a "
			    "host name or IP address", log_sanitize(q, sizeof(q), host,
			    strlen(host)));
			return -1;
		}
	v6 = strchr(host, ':') != NULL;
	if ((size_t)snprintf(url, sizeof(url), "https://%s%s%s:%s", v6 ? "[" : "", host,
	    v6 ? "]" : "", port) >= sizeof(url)) {
		log_error("in-cluster config: KUBERNETES_SERVICE_HOST or _PORT too long");
		return -1;
	}
	if ((k->source = strdup("in-cluster config")) == NULL ||
	    (k->context = strdup("in-cluster")) == NULL) {
		log_error("out of memory");
		return -1;
	}
	/* Port and host checks as for a kubeconfig server. */
	if (kcfg_server_parse(k, &f, 0, "in-cluster", url) != 0)
		return -1;
	if ((k->token = (char *)kcfg_sa_read("token", &len, 0)) == NULL)
		return -1;
	kcfg_trim(k->token, &len);
	for (i = 0; i < len; i++)
		if (k->token[i] <= 0x20 || k->token[i] >= 0x7f)
			break;
	if (len == 0 || i < len) {
		log_error("in-cluster config: %s/token is empty or holds spaces or control "
		    "characters", kcfg_sa_dir);
		return -1;
	}
	if ((k->ca = kcfg_sa_read("ca.crt", &k->ca_len, 0)) == NULL)
		return -1;
	if ((ns = kcfg_sa_read("namespace", &len, 1)) == NULL) {
		if (errno != ENOENT)
			return -1;
		k->namespace = strdup("default");
	} else {
		kcfg_trim((char *)ns, &len);
		k->namespace = (char *)ns;
		if (!text_dns_name(k->namespace, 63, 0)) {
			log_error("in-cluster config: %s/namespace holds \"%s\", not a valid "
			    "namespace name", kcfg_sa_dir, log_sanitize(q, sizeof(q),
			    k->namespace, len));
			return -1;
		}
	}
	if (k->namespace == NULL) {
		log_error("out of memory");
		return -1;
	}
	log_verbose("in-cluster config: server %s, namespace %s", k->server, k->namespace);
	return 0;
}
