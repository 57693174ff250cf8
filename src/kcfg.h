/*
 * kcfg.h: resolving where to talk to and as whom, as kubectl does.
 *
 * Order: --kubeconfig PATH, else $KUBECONFIG (a ':' list; for each key, the first file
 * that sets it wins: current-context and each named cluster, user and context), else
 * ~/.kube/config, else in-cluster (KUBERNETES_SERVICE_HOST/PORT and the service-account
 * files). Errors are logged once with file:line ("kubeconfig /x/config:12: context
 * \"foo\" names cluster \"bar\", which is not defined") and kcfg_load returns -1.
 */
#ifndef CL_KCFG_H
#define CL_KCFG_H

#include <stddef.h>

#define KCFG_MAX_FILE_MIB	4	/* kubeconfig, CA, cert, key and token files */
#define KCFG_MAX_FILE		(KCFG_MAX_FILE_MIB * 1024 * 1024)
#define KCFG_MAX_SERVER		512	/* bytes of a server URL */

/* An exec credential plugin's interactiveMode. */
enum kcfg_exec_mode {
	KCFG_EXEC_NEVER,
	KCFG_EXEC_IF_AVAILABLE,
	KCFG_EXEC_ALWAYS,
};

struct kcfg_exec_env {
	char	*name;		/* not empty, no '=' */
	char	*value;
};

/* A user's "exec:" entry, as written (kcfg_exec.c); run by exec.c. */
struct kcfg_exec {
	char			*command;	/* as written, for messages */
	char			*path;		/* command had a '/': made absolute against
						   the kubeconfig's directory; else NULL:
						   looked up on PATH when run */
	char			**argv;		/* command, then args; NULL-terminated */
	struct kcfg_exec_env	*env;		/* added to the plugin's environment */
	size_t			 nenv;
	char			*api_version;	/* client.authentication.k8s.io/v1 or v1beta1 */
	char			*install_hint;	/* or NULL */
	int			 provide_cluster_info;
	enum kcfg_exec_mode	 mode;
	char			*where;		/* "exec plugin \"CMD\" of user \"NAME\"" */
	char			*line_where;	/* "kubeconfig PATH:LINE" of the entry */
};

/*
 * The oidc auth-provider of the user (kcfg_oidc.c reads it, oidc.c uses it). The tokens
 * and the client secret are secrets: wiped on free, never printed.
 */
struct kcfg_oidc {
	char		*where;		/* "auth-provider oidc of user \"x\"", for messages */
	char		*user;		/* the user entry's name, to find it again in the file */
	char		*issuer;	/* idp-issuer-url */
	char		*client_id;
	char		*client_secret;	/* or NULL */
	char		*id_token;	/* or NULL */
	char		*refresh_token;	/* or NULL */
	unsigned char	*ca;	size_t ca_len;	/* idp-certificate-authority(-data) PEM, or NULL */
	char		*ca_where;
	/* The write-back: the file that holds the entry (NULL in-cluster), its bytes as
	 * read (kcfg_write.c rewrites only when they are still these), or NULL with
	 * nowrite saying why the entry cannot be edited in them. */
	char		*path;
	char		*text;	size_t text_len;
	const char	*nowrite;	/* static */
};

struct kcfg {
	char		*server;	/* "https://host:port[/path]" as written, without a
					   trailing '/'; for messages and exec plugins */
	char		*path;		/* its path ("" none; no trailing '/'), which
					   prefixes every API path (Rancher's /k8s/clusters/ID) */
	char		*scheme;	/* "https" or "http" */
	char		*host;		/* name or IP literal, brackets removed */
	char		*port;		/* explicit, else "443"/"80" */
	char		*tls_server_name; /* or NULL */
	char		*proxy_url;	/* the cluster's proxy-url as written (checked by
					   proxy_parse(); not https://), or NULL; may hold
					   user:password: never printed; wiped on free */
	int		 insecure;
	unsigned char	*ca;	size_t ca_len;		/* PEM bytes, or NULL */
	unsigned char	*cert;	size_t cert_len;	/* PEM bytes, or NULL */
	unsigned char	*key;	size_t key_len;		/* PEM bytes, or NULL; wiped on free */
	char		*token;				/* or NULL; wiped on free */
	struct kcfg_oidc *oidc;		/* the oidc auth-provider, or NULL */
	/* Where each of ca, cert and key came from, for messages about their contents:
	 * "kubeconfig PATH:LINE: certificate-authority-data of cluster \"x\"". Or NULL. */
	char		*ca_where, *cert_where, *key_where;
	char		*namespace;	/* context's namespace, in-cluster's, else "default" */
	char		*context;	/* context name used ("in-cluster" when so) */
	char		*source;	/* for messages: "kubeconfig /path" or "in-cluster config" */
	struct kcfg_exec *exec;		/* the user's exec plugin, or NULL */
	char		*exec_config;	/* JSON of the cluster's extension named
					   client.authentication.k8s.io/exec, or NULL */
};

/*
 * Fills k. explicit_path is --kubeconfig or NULL; context is --context, or NULL or ""
 * for the current-context (kubectl treats an empty --context as not given).
 * Returns 0 or -1 (logged). Free with kcfg_free() in both cases.
 * Unsupported user entries (auth-providers other than oidc, username/password) are
 * errors that name them.
 */
int	kcfg_load(struct kcfg *k, const char *explicit_path, const char *context);
void	kcfg_free(struct kcfg *k);

/*
 * The file paths and environment used, overridable for tests: the in-cluster
 * service-account directory (default /var/run/secrets/kubernetes.io/serviceaccount).
 */
extern const char *kcfg_sa_dir;

#endif
