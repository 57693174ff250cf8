/*
 * kcfg_int.h: what kcfg.c (finding and merging kubeconfig files), kcfg_entry.c (one
 * cluster and one user entry), kcfg_oidc.c (its oidc auth-provider), kcfg_write.c (the
 * tokens written back) and kcfg_incluster.c (the service account) share. Calls go one
 * way: kcfg.c -> kcfg_entry.c -> kcfg_oidc.c, kcfg_incluster.c -> kcfg_util.c. Not for
 * other modules.
 */
#ifndef CL_KCFG_INT_H
#define CL_KCFG_INT_H

#include <stddef.h>

struct kcfg;
struct kcfg_exec;
struct kcfg_oidc;
struct yaml_node;

/* One loaded kubeconfig file. */
struct kcfg_file {
	char			*path;
	char			*dir;	/* relative paths in the file are relative to this */
	struct yaml_node	*root;	/* a MAP */
	int			 incluster; /* messages say "in-cluster config", not a path */
};

/* kcfg_util.c */

/*
 * Reads a whole regular file of at most KCFG_MAX_FILE bytes into a malloc'd buffer,
 * NUL-terminated (not counted in *len). Returns NULL with *why set to a static reason
 * (strerror or a size message) and errno kept; the caller logs with the path.
 */
unsigned char	*kcfg_read_file(const char *path, size_t *len, const char **why);

/*
 * Logs "kubeconfig PATH:LINE: MESSAGE" (no ":LINE" when line is 0) once.
 * Returns -1, for "return kcfg_err(...)".
 */
int		 kcfg_err(const struct kcfg_file *, size_t line, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* Copies s into buf (size n) with bytes outside printable ASCII replaced, for messages. */
const char	*kcfg_q(char *buf, size_t n, const char *s);

/*
 * The string value of key in map, NULL when absent, null or "". Returns -1 (logged)
 * if the value is a mapping or sequence. *line is the key's line, or 0.
 */
int		 kcfg_get_str(const struct kcfg_file *, const struct yaml_node *map,
		    const char *key, const char *what, const char **out, size_t *line);

/*
 * Strips leading and trailing whitespace of the NUL-terminated s of *len bytes in
 * place, as client-go does with token and namespace files; updates *len.
 */
void		 kcfg_trim(char *s, size_t *len);

/* kcfg_entry.c */

/* Fills k's server fields from the server URL; errors are logged as file:line. */
int		 kcfg_server_parse(struct kcfg *k, const struct kcfg_file *, size_t line,
		    const char *cluster, const char *url);
/* Fills the cluster fields of k from a "cluster:" mapping (may be NULL: refused). */
int		 kcfg_cluster_parse(struct kcfg *k, const struct kcfg_file *,
		    const char *name, const struct yaml_node *cluster, size_t line);
/* Fills the credentials in k from a "user:" mapping (NULL: anonymous). */
int		 kcfg_user_parse(struct kcfg *k, const struct kcfg_file *,
		    const char *name, const struct yaml_node *user);

/* kcfg_exec.c */

/* Fills k->exec from the "exec:" mapping e of user (at line). Returns 0 or -1 (logged). */
int		 kcfg_exec_parse(struct kcfg *k, const struct kcfg_file *, const char *user,
		    const struct yaml_node *e, size_t line);
/*
 * Fills k->exec_config with the JSON of the "client.authentication.k8s.io/exec" entry of
 * cluster c's extensions ("what" names the cluster). Returns 0 or -1 (logged).
 */
int		 kcfg_exec_extension(struct kcfg *k, const struct kcfg_file *,
		    const char *what, const struct yaml_node *c);
void		 kcfg_exec_free(struct kcfg_exec *);
/*
 * PEM bytes from KEY-data (base64) or else KEY (a file path relative to f's directory),
 * for entry "what" ("cluster \"x\""). Sets *out (NULL if neither is set) and *where
 * (for messages about the contents). Returns 0 or -1 (logged).
 */
int		 kcfg_pem_field(const struct kcfg_file *f, const struct yaml_node *m,
		    const char *key, const char *what, unsigned char **out, size_t *outlen,
		    char **where);

/* kcfg_oidc.c */

/*
 * Fills k->oidc from user name's "auth-provider:" value ap (key at line); refuses
 * auth-providers other than oidc, naming what replaced them. Returns 0 or -1 (logged).
 */
int		 kcfg_oidc_parse(struct kcfg *k, const struct kcfg_file *f, const char *name,
		    const struct yaml_node *ap, size_t line);
void		 kcfg_oidc_free(struct kcfg_oidc *o);

/* kcfg_incluster.c */

/*
 * Is an in-cluster configuration possible (both service variables set and not
 * empty)? If not, *why says which variable is missing, for the "tried" message.
 */
int		 kcfg_incluster_possible(const char **why);
/* Fills k from the service variables and kcfg_sa_dir. Returns 0 or -1 (logged). */
int		 kcfg_incluster_load(struct kcfg *k);

#endif
