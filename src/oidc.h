/*
 * oidc.h: the oidc auth-provider of a kubeconfig user, as kubectl's (client-go's
 * plugin/pkg/client/auth/oidc) uses it: the id-token is sent while its "exp" is ahead,
 * else it is refreshed at the issuer's token endpoint with the refresh-token, and the new
 * tokens are written back into the kubeconfig (kcfg_write.c).
 *
 * oidc_parse.c holds the pure parsers (fuzzed by tests/fuzz/fuzz_oidc.c); oidc.c the
 * requests. Tokens, the refresh token and the client secret are secrets: nothing here
 * prints them, not even with -v; what the issuer says is sanitised before it is printed.
 */
#ifndef CL_OIDC_H
#define CL_OIDC_H

#include <stddef.h>
#include <stdint.h>

struct kcfg;
struct cred_value;

#define OIDC_MAX_REPLY		(1024 * 1024)	/* discovery and token replies */
#define OIDC_MAX_TOKEN		(64 * 1024)	/* an id-token or refresh-token */

/* An issuer or token endpoint URL, split. */
struct oidc_url {
	int	 tls;		/* https */
	char	*origin;	/* "https://host[:port]" as written, for messages */
	char	*host;		/* name or IP literal, brackets removed */
	char	*port;		/* explicit, else "443"/"80" */
	char	*path;		/* "" or "/..." (with a query, if any) */
};

/*
 * Splits an http:// or https:// URL (no user info, no fragment; host[:port] as
 * hostport.h takes it, "host:" refused; a path of printable ASCII without spaces).
 * Returns 0, or -1 with *why a static phrase made to follow "URL: ". Free with
 * oidc_url_free in both cases.
 */
int	 oidc_url_parse(const char *url, struct oidc_url *u, const char **why);
void	 oidc_url_free(struct oidc_url *u);

/*
 * The "exp" claim of a JWT (three base64url parts; the payload a JSON object), in
 * seconds since the epoch, into *exp: 0 when there is none (client-go then treats the
 * token as expired); a fraction is cut, as client-go does. Returns 0, or -1 with *why
 * (static) when tok is not a JWT or exp is not a number.
 */
int	 jwt_exp(const char *tok, size_t len, int64_t *exp, const char **why);

/*
 * The token_endpoint of an OpenID discovery document (a JSON object) into a malloc'd
 * string. Returns 0, or -1 with *why (static).
 */
int	 oidc_discovery_parse(const char *body, size_t len, char **token_endpoint,
	    const char **why);

/*
 * A token endpoint's 200 reply: *id_token (required, a string fit for an HTTP header)
 * and *refresh_token (NULL when absent or empty), both malloc'd (wipe before free).
 * Returns 0, or -1 with *why (static) and nothing allocated.
 */
int	 oidc_token_parse(const char *body, size_t len, char **id_token,
	    char **refresh_token, const char **why);

/*
 * An OAuth error reply ({"error": ..., "error_description": ...}) as sanitised text
 * ("invalid_grant: Token is not active") into out; "" when the body is no such object.
 */
void	 oidc_error_text(const char *body, size_t len, char *out, size_t outsz);

/*
 * application/x-www-form-urlencoded value of s, as Go's url.QueryEscape, appended to a
 * buf.h buffer (b is a struct buf *; failures are sticky there).
 */
struct buf;
void	 oidc_form_escape(struct buf *b, const char *s);

/*
 * cred.h's source for a user with the oidc auth-provider (k->oidc): the id-token to send
 * now, into out->token (out->expires its exp in epoch ms, 0 when unknown or already
 * past), with the user's client certificate, if any. The one in k->oidc is used while
 * rejected is 0 and its exp is more than CRED_EARLY_MS ahead (client-go's margin is
 * 10 s; ours is the one cred.c renews by). Else the tokens are refreshed at the issuer,
 * kept in k->oidc and written back into the kubeconfig (kcfg_write.h: a write that fails
 * is a warning, the new tokens still serve this run). No request runs past clock_ms()
 * deadline. Returns 0, or -1 logged once with the issuer and what it did.
 */
int	 oidc_cred_get(const struct kcfg *k, int64_t deadline, int rejected,
	    struct cred_value *out);

#endif
