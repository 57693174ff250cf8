/*
 * fuzz_oidc.c: the oidc auth-provider's parsers over arbitrary bytes: jwt_exp (the
 * input as a token, and as a JWT payload), the discovery and token replies, OAuth error
 * text, issuer URLs, and kcfg_oidc_edit (the input as a kubeconfig whose user "alice"
 * gets new tokens).
 *
 * Checks, beyond the sanitizers: a failure has a reason and allocates nothing; a parsed
 * id_token or refresh_token is printable ASCII without spaces (it goes into a header and
 * a YAML scalar); error text is printable; an edit that succeeds reads back with the new
 * values (kcfg_oidc_edit parses its result again and checks that) and has no NUL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcfg_write.h"
#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_token(const char *t)
{
	if (t == NULL)
		return;
	if (*t == '\0')
		abort();
	for (; *t != '\0'; t++)
		if (*t <= 0x20 || *t >= 0x7f)
			abort();
}

static void
edit(const char *s, size_t n, const char *rt)
{
	const char	*why = NULL;
	char		*out;
	size_t		 olen;

	out = kcfg_oidc_edit(s, n, "alice", "new.id.token", rt, &olen, &why);
	if (out == NULL) {
		if (why == NULL)
			abort();
		return;
	}
	if (strlen(out) != olen)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, *te = NULL, *id = NULL, *rt = NULL, msg[512], *p;
	const char	*why;
	int64_t		 exp;
	struct oidc_url	 u;
	size_t		 n;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	why = NULL;
	if (jwt_exp(s, size, &exp, &why) != 0 && why == NULL)
		abort();

	why = NULL;
	if (oidc_discovery_parse(s, size, &te, &why) == 0) {
		if (te == NULL || te[0] == '\0')
			abort();
	} else if (te != NULL || why == NULL)
		abort();
	free(te);

	why = NULL;
	if (oidc_token_parse(s, size, &id, &rt, &why) == 0) {
		if (id == NULL)
			abort();
		check_token(id);
		check_token(rt);
	} else if (id != NULL || rt != NULL || why == NULL)
		abort();
	free(id);
	free(rt);

	oidc_error_text(s, size, msg, sizeof(msg));
	for (p = msg; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();

	n = strlen(s);
	why = NULL;
	if (oidc_url_parse(s, &u, &why) == 0) {
		if (u.host == NULL || u.host[0] == '\0' || u.port == NULL || u.path == NULL ||
		    (u.path[0] != '\0' && u.path[0] != '/' && u.path[0] != '?'))
			abort();
	} else if (why == NULL)
		abort();
	oidc_url_free(&u);

	if (n == size) {
		edit(s, size, "new-refresh");
		edit(s, size, NULL);
	}
	free(s);
	return 0;
}
