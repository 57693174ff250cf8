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
 */
#ifndef CL_CRED_H
#define CL_CRED_H

#include <stddef.h>
#include <stdint.h>

struct kcfg;

/* Credentials are obtained again this long before they expire. */
#define CRED_EARLY_MS	(60 * 1000)

/* What one source handed out. Owned by the cred (or by the source filling it). */
struct cred_value {
	char		*token;		/* bearer token, or NULL; wiped on free */
	unsigned char	*cert;		/* client certificate chain (PEM), or NULL */
	size_t		 cert_len;
	unsigned char	*key;		/* its key (PEM), or NULL; wiped on free */
	size_t		 key_len;
	const char	*where;		/* names the source in messages about the above,
					   e.g. "exec plugin aws of user \"ci\"" (static) */
	int64_t		 expires;	/* wall-clock ms (epoch) they stop working; 0: never */
};

/* Wipes and frees what v holds and zeroes it (not v itself, nor where). */
void		 cred_value_clear(struct cred_value *v);

struct cred;

/* Returns NULL on out of memory (logged). Does not own k, which must outlive it. */
struct cred	*cred_new(const struct kcfg *k);
void		 cred_free(struct cred *);

/*
 * The credentials to send now, obtained first when there are none yet, when they expire
 * within CRED_EARLY_MS, or when rejected is set (the server answered 401 to them; a
 * static source then fails, as there is nothing new to try). No source runs past
 * clock_ms() deadline. Returns 0 with *out valid until the next call (*changed set when
 * they differ from the last ones returned, so the caller renews its bearer or its TLS
 * context), or -1 (logged once, naming the source and what it did).
 */
int		 cred_current(struct cred *, int64_t deadline, int rejected,
		    const struct cred_value **out, int *changed);

/* Can a 401 be cured by asking again (exec or oidc), or is it final (static)? */
int		 cred_renewable(const struct cred *);

#endif
