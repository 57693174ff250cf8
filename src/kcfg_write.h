/*
 * kcfg_write.h: writing refreshed oidc tokens back into the kubeconfig that held them,
 * as kubectl does, but as a text edit: only the two values change, every other byte
 * (comments, order, quoting, line breaks) stays as it was.
 */
#ifndef CL_KCFG_WRITE_H
#define CL_KCFG_WRITE_H

#include <stddef.h>

struct kcfg_oidc;

/*
 * text[0..len) with the id-token and (when refresh_token is not NULL) the refresh-token
 * of the oidc auth-provider of user "user" replaced by the given values: a value in the
 * file is replaced where it stands (plain when that reads back the same, else
 * double-quoted); a key the config lacks is added as a line above its first key, with
 * that key's indentation. The result is parsed again and must yield the new values.
 * Returns the new text (malloc'd, NUL-terminated; wipe and free it) with *outlen, or
 * NULL with *why (static) when the entry is not found, a value is an empty key that
 * cannot be edited in place, or the config is in flow style and lacks a key.
 */
char	*kcfg_oidc_edit(const char *text, size_t len, const char *user,
	    const char *id_token, const char *refresh_token, size_t *outlen,
	    const char **why);

/*
 * Writes the new tokens into o->path: only when the file still holds o->text (else it
 * changed since it was read and is left alone), through a temporary file in the same
 * directory (mode and, as root, owner of the original; fsync; rename; fsync of the
 * directory). A symlink is followed: its target is rewritten. On success o->text is the
 * new text. Returns 0, or -1 with one warning logged (the tokens still work in memory).
 */
int	 kcfg_oidc_write(struct kcfg_oidc *o, const char *id_token,
	    const char *refresh_token);

/*
 * Reads o->path again and, when the user's config there holds another refresh-token
 * than o (another process refreshed and wrote back since o was read), takes the file's
 * id-token and refresh-token into o and its text as the new base of the write-back.
 * Returns 1 when it did, 0 when the file holds nothing newer or cannot be read (not
 * logged: the caller goes on with what it has).
 */
int	 kcfg_oidc_reload(struct kcfg_oidc *o);

#endif
