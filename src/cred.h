/*
 * cred.h: who we are to the API server, obtained when it is needed.
 *
 * The credentials come from one source, chosen by the kubeconfig's user: its own token,
 * token file or client certificate (static: obtained once), an exec credential plugin
 * (exec.c), or the oidc auth-provider (oidc.c). A source whose credentials expire is
 * asked again shortly before they do, and once more after the server answered 401 to
 * them, so a two-hour wait on fifteen-minute tokens keeps working.
 *
 * Only kube.c calls cred_current(): before each request, the watch included, and again
 * with rejected set after a 401. What a source returns is a secret: never logged, not
 * even with -v, and wiped before it is freed.
 *
 * A source is one function of the cred_get_fn shape (exec_cred_get in exec.c, oidc's in
 * oidc.c) and one case in cred.c's cred_source(); nothing else here knows them.
 */
#ifndef CL_CRED_H
#define CL_CRED_H

#include <stddef.h>
#include <stdint.h>

struct kcfg;

/*
 * Credentials are obtained again this long before they expire, or halfway through their
 * life when that is shorter (a plugin's 10 s token is renewed after 5 s, not at once).
 */
#define CRED_EARLY_MS	(60 * 1000)

/* What one source handed out. Owned by the cred (or by the source filling it). */
struct cred_value {
	char		*token;		/* bearer token, or NULL; wiped on free */
	unsigned char	*cert;		/* client certificate chain (PEM), or NULL */
	size_t		 cert_len;
	unsigned char	*key;		/* its key (PEM), or NULL; wiped on free */
	size_t		 key_len;
	const char	*where;		/* names the source in messages about the above,
					   e.g. "exec plugin \"aws\" of user \"ci\"" (static) */
	/* Where the certificate and key came from, for TLS messages about their contents
	 * (static strings or the kcfg's; NULL: where). */
	const char	*cert_where, *key_where;
	int64_t		 expires;	/* wall-clock ms (epoch) they stop working; 0: never */
};

/* A malloc'd copy of p[0..n) with a NUL after it (for a cred_value's fields), or NULL. */
void		*cred_dup(const void *p, size_t n);

/* Wipes and frees what v holds and zeroes it (not v itself, nor the where strings). */
void		 cred_value_clear(struct cred_value *v);

/*
 * A source: fills *out (zeroed by the caller) with fresh credentials, running no longer
 * than clock_ms() deadline. rejected: the server answered 401 to the last ones (a
 * source that caches, as oidc's id-token, must not hand the same ones out again).
 * Returns 0, or -1: logged once, naming the source and what it did, or errno EINTR when
 * a signal interrupted it (not logged; whatever it started is stopped). On -1 *out holds
 * nothing.
 */
typedef int	 cred_get_fn(const struct kcfg *k, int64_t deadline, int rejected,
		    struct cred_value *out);

struct cred;

/* Returns NULL on out of memory (logged). Does not own k, which must outlive it. */
struct cred	*cred_new(const struct kcfg *k);
void		 cred_free(struct cred *);

/* What changed since the last credentials cred_current() returned (or none yet). */
#define CRED_CHANGED_TOKEN	1	/* renew the bearer */
#define CRED_CHANGED_CERT	2	/* client certificate or key: a new TLS context */

/*
 * The credentials to send now, obtained first when there are none yet, when they are due
 * (cred_due), or when rejected is set (the server answered 401 to them; a static source
 * then fails, as there is nothing new to try). No source runs past clock_ms() deadline.
 * Returns 0 with *out valid until the next call and *changed a mask of CRED_CHANGED_*
 * (both on the first call), or -1 as cred_get_fn (logged once, or errno EINTR).
 */
int		 cred_current(struct cred *, int64_t deadline, int rejected,
		    const struct cred_value **out, int *changed);

/*
 * When (clock_ms()) the credentials last returned are due to be obtained again:
 * CLOCK_NEVER when they do not expire. kube.c ends a watch by then, so that the next
 * watch opens with fresh ones.
 */
int64_t		 cred_due(const struct cred *);

/* Names the source in messages: "kubeconfig PATH", "exec plugin \"aws\" of user \"ci\"". */
const char	*cred_where(const struct cred *);

/* Can a 401 be cured by asking again (exec or oidc), or is it final (static)? */
int		 cred_renewable(const struct cred *);

#endif
