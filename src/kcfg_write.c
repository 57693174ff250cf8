/*
 * kcfg_write.c: see kcfg_write.h. The edit is pure (tests/unit/test_kcfg_write.c and
 * the oidc fuzz target run it); kcfg_oidc_write does the file system part.
 *
 * Values are found through the YAML reader's byte offsets of scalars (yaml.h), so an
 * edit touches nothing outside them. The file is compared with what was read before
 * anything is written and again just before the rename: another writer's change (a
 * kubectl config set-context, a second carrier-lock that refreshed first) is never lost.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "kcfg.h"
#include "kcfg_int.h"
#include "kcfg_write.h"
#include "log.h"
#include "yaml.h"

/*
 * Where one value goes: replace [off, end), or (ins) insert a "key: value" line at off,
 * followed by ind spaces (the indentation of the key that stood there).
 */
struct spot {
	size_t		 off, end, ind;
	int		 ins;
	const char	*key, *val;
};

/* The config mapping of user's auth-provider in a parsed kubeconfig, or NULL. */
static const struct yaml_node *
find_config(const struct yaml_node *root, const char *user)
{
	const struct yaml_node	*users, *it, *nm, *u, *ap;
	size_t			 i;

	if ((users = yaml_get(root, "users", NULL)) == NULL || users->kind != YAML_SEQ)
		return NULL;
	for (i = 0; i < users->n; i++) {
		it = users->vals[i];
		nm = yaml_get(it, "name", NULL);
		if (nm == NULL || nm->kind != YAML_SCALAR || strcmp(nm->scalar, user) != 0)
			continue;
		if ((u = yaml_get(it, "user", NULL)) == NULL ||
		    (ap = yaml_get(u, "auth-provider", NULL)) == NULL)
			return NULL;
		return yaml_get(ap, "config", NULL);
	}
	return NULL;
}

/* Offset where line (1-based; CR LF, LF and lone CR end lines, as yaml.c counts) starts. */
static size_t
line_start(const char *t, size_t len, size_t line)
{
	size_t	i = 0, l = 1;

	while (l < line && i < len) {
		if (t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')
			i++;
		if (t[i] == '\r' || t[i] == '\n')
			l++;
		i++;
	}
	return i;
}

/* A value that a YAML reader (ours, and Go's) reads back as this same string unquoted. */
static int
plain_ok(const char *v)
{
	static const char	*words[] = { "null", "true", "false", "yes", "no", "on", "off",
				    "y", "n", "~" };
	size_t			 i;
	int			 alpha = 0;

	if (!((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z') ||
	    (v[0] >= '0' && v[0] <= '9')))
		return 0;
	for (i = 0; v[i] != '\0'; i++) {
		char c = v[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
			alpha = 1;
		else if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '~' ||
		    c == '+' || c == '/' || c == '='))
			return 0;
	}
	/* Without a letter it may read as a number (1e5 has one, but also digits only). */
	if (!alpha)
		return 0;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(v, words[i]) == 0)
			return 0;
	/* 1e5, 0x1F, .inf, .nan: letters but numbers. */
	if ((v[0] >= '0' && v[0] <= '9') || v[0] == '.')
		return 0;
	return 1;
}

static void
add_scalar(struct buf *b, const char *v)
{
	char	e[8];

	if (plain_ok(v)) {
		buf_add(b, v, strlen(v));
		return;
	}
	buf_add(b, "\"", 1);
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			buf_add(b, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			buf_add(b, e, 6);
		} else {
			buf_add(b, v, 1);
		}
	}
	buf_add(b, "\"", 1);
}

/*
 * Where key's new value goes in config: over its old one, or (a key config lacks) as a
 * line of its own above config's first key. Returns 0, or -1 with *why.
 */
static int
spot_for(const char *t, size_t len, const struct yaml_node *cfg, const char *key,
    const char *val, struct spot *s, const char **why)
{
	const struct yaml_node	*v;
	size_t			 line, ls, i;

	memset(s, 0, sizeof(*s));
	s->key = key;
	s->val = val;
	if ((v = yaml_get(cfg, key, &line)) != NULL) {
		if (v->kind != YAML_SCALAR || v->end == 0 || v->end > len) {
			*why = "its old value is empty or not a string, so it cannot be "
			    "replaced in place";
			return -1;
		}
		s->off = v->off;
		s->end = v->end;
		return 0;
	}
	if (cfg->n == 0) {
		*why = "the config mapping is empty";
		return -1;
	}
	ls = line_start(t, len, cfg->key_lines[0]);
	for (i = ls; i < len && t[i] == ' '; i++)
		;
	/* Block style only: the first key must open its line. */
	if (i >= len || (strncmp(t + i, cfg->keys[0], strlen(cfg->keys[0])) != 0 &&
	    t[i] != '"' && t[i] != '\'')) {
		*why = "the config mapping is in flow style and lacks the key";
		return -1;
	}
	s->ins = 1;
	s->off = s->end = i;
	s->ind = i - ls;
	return 0;
}

static const char *
line_break(const char *t, size_t len, size_t from)
{
	while (from < len && t[from] != '\n' && t[from] != '\r')
		from++;
	if (from + 1 < len && t[from] == '\r' && t[from + 1] == '\n')
		return "\r\n";
	return from < len && t[from] == '\r' ? "\r" : "\n";
}

/* Does config of user in text hold these values? */
static int
check(const char *text, size_t len, const char *user, const char *id, const char *rt)
{
	struct yaml_node	*root;
	const struct yaml_node	*cfg, *v;
	const char		*err;
	size_t			 el;
	int			 ok = 0;

	if ((root = yaml_parse(text, len, &err, &el)) == NULL)
		return 0;
	if ((cfg = find_config(root, user)) != NULL &&
	    (v = yaml_get(cfg, "id-token", NULL)) != NULL && v->kind == YAML_SCALAR &&
	    strcmp(v->scalar, id) == 0) {
		ok = rt == NULL || ((v = yaml_get(cfg, "refresh-token", NULL)) != NULL &&
		    v->kind == YAML_SCALAR && strcmp(v->scalar, rt) == 0);
	}
	yaml_free(root);
	return ok;
}

char *
kcfg_oidc_edit(const char *text, size_t len, const char *user, const char *id_token,
    const char *refresh_token, size_t *outlen, const char **why)
{
	struct yaml_node	*root;
	const struct yaml_node	*cfg;
	struct spot		 sp[2], tmp;
	struct buf		 b = { .wipe = 1, .max = (size_t)KCFG_MAX_FILE };
	const char		*err, *nl;
	size_t			 el, pos = 0, n = 1, i, k;
	char			*out;

	*outlen = 0;
	if ((root = yaml_parse(text, len, &err, &el)) == NULL) {
		*why = "the file no longer parses";
		return NULL;
	}
	if ((cfg = find_config(root, user)) == NULL || cfg->kind != YAML_MAP) {
		yaml_free(root);
		*why = "the user's auth-provider config is not in the file";
		return NULL;
	}
	if (spot_for(text, len, cfg, "id-token", id_token, &sp[0], why) != 0 ||
	    (refresh_token != NULL && spot_for(text, len, cfg, "refresh-token",
	    refresh_token, &sp[n++], why) != 0)) {
		yaml_free(root);
		return NULL;
	}
	yaml_free(root);
	if (n == 2 && sp[1].off < sp[0].off) {
		tmp = sp[0];
		sp[0] = sp[1];
		sp[1] = tmp;
	}
	for (i = 0; i < n; i++) {
		buf_add(&b, text + pos, sp[i].off - pos);
		if (sp[i].ins) {
			nl = line_break(text, len, sp[i].off);
			buf_add(&b, sp[i].key, strlen(sp[i].key));
			buf_add(&b, ": ", 2);
			add_scalar(&b, sp[i].val);
			buf_add(&b, nl, strlen(nl));
			for (k = 0; k < sp[i].ind; k++)
				buf_add(&b, " ", 1);
			pos = sp[i].off;
		} else {
			add_scalar(&b, sp[i].val);
			pos = sp[i].end;
		}
	}
	buf_add(&b, text + pos, len - pos);
	if ((out = buf_take(&b, outlen)) == NULL) {
		*why = "out of memory, or the file would pass the size limit";
		return NULL;
	}
	if (!check(out, *outlen, user, id_token, refresh_token)) {
		buf_wipe_free(out, *outlen);
		*outlen = 0;
		*why = "the edited file would not read back with the new values";
		return NULL;
	}
	return out;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Is the file at path still exactly text? */
static int
unchanged(const char *path, const char *text, size_t len, const char **why)
{
	unsigned char	*cur;
	size_t		 clen;
	int		 same;

	if ((cur = kcfg_read_file(path, &clen, why)) == NULL)
		return 0;
	same = clen == len && memcmp(cur, text, len) == 0;
	buf_wipe_free(cur, clen);
	if (!same)
		*why = "the file changed since carrier-lock read it; it is left as it is";
	return same;
}

/*
 * The file that path names, following symlinks of its last component (at most 40, as
 * the kernel allows), into out: the write-back replaces that file, in its directory,
 * and leaves the links as they are. Directories on the way need not be resolved: the
 * new file is renamed over the old one through the same path. Returns 0, or -1 with
 * errno (ELOOP, ENAMETOOLONG, or lstat's or readlink's).
 */
static int
link_target(const char *path, char *out, size_t outsz)
{
	char		 link[PATH_MAX];
	const char	*slash;
	struct stat	 st;
	ssize_t		 n;
	size_t		 dir;
	int		 hops;

	if (strlen(path) >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(out, path);
	for (hops = 0; hops <= 40; hops++) {
		if (lstat(out, &st) != 0)
			return -1;
		if (!S_ISLNK(st.st_mode))
			return 0;
		if ((n = readlink(out, link, sizeof(link))) < 0)
			return -1;
		if ((size_t)n == sizeof(link)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		link[n] = '\0';
		/* A relative link is relative to the directory of the link itself. */
		slash = strrchr(out, '/');
		dir = link[0] == '/' || slash == NULL ? 0 : (size_t)(slash - out) + 1;
		if (dir + (size_t)n >= outsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(out + dir, link, (size_t)n + 1);
	}
	errno = ELOOP;
	return -1;
}

int
kcfg_oidc_write(struct kcfg_oidc *o, const char *id_token, const char *refresh_token)
{
	char		 real[PATH_MAX], tmpl[PATH_MAX + 32], q[512], *slash, *nt = NULL;
	const char	*why = NULL;
	size_t		 nlen = 0;
	struct stat	 st;
	int		 fd = -1, dfd, rc = -1;

	tmpl[0] = '\0';
	if (o->path == NULL) {
		why = "it was not read from a file";
		goto out;
	}
	if (o->text == NULL) {
		why = o->nowrite != NULL ? o->nowrite : "the file could not be read again";
		goto out;
	}
	if ((nt = kcfg_oidc_edit(o->text, o->text_len, o->user, id_token, refresh_token,
	    &nlen, &why)) == NULL)
		goto out;
	if (link_target(o->path, real, sizeof(real)) != 0 || stat(real, &st) != 0) {
		why = strerror(errno);
		goto out;
	}
	if (!unchanged(real, o->text, o->text_len, &why))
		goto out;
	if (snprintf(tmpl, sizeof(tmpl), "%s.carrier-lock-XXXXXX", real) >= (int)sizeof(tmpl)) {
		tmpl[0] = '\0';
		why = "path too long";
		goto out;
	}
	if ((fd = mkstemp(tmpl)) < 0) {
		why = strerror(errno);
		tmpl[0] = '\0';
		goto out;
	}
	if (fchmod(fd, st.st_mode & 07777) != 0 ||
	    (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) ||
	    write_all(fd, nt, nlen) != 0 || fsync(fd) != 0) {
		why = strerror(errno);
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		why = strerror(errno);
		goto out;
	}
	fd = -1;
	if (!unchanged(real, o->text, o->text_len, &why))
		goto out;
	if (rename(tmpl, real) != 0) {
		why = strerror(errno);
		goto out;
	}
	tmpl[0] = '\0';
	/* The rename is durable once its directory is. */
	if ((slash = strrchr(real, '/')) != NULL)
		*slash = '\0';
	if ((dfd = open(slash == NULL ? "." : real[0] != '\0' ? real : "/",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	buf_wipe_free(o->text, o->text_len);
	o->text = nt;
	o->text_len = nlen;
	nt = NULL;
	rc = 0;
	log_verbose("kubeconfig %s: the refreshed id-token and refresh-token of %s written "
	    "back", kcfg_q(q, sizeof(q), o->path), o->where);
out:
	if (fd >= 0)
		close(fd);
	if (tmpl[0] != '\0')
		unlink(tmpl);
	if (nt != NULL)
		buf_wipe_free(nt, nlen);
	if (rc != 0)
		log_warn("kubeconfig %s: the refreshed tokens of %s were not written back (%s); "
		    "this run goes on with them (an issuer that rotates refresh tokens refuses the old one "
		    "next time)",
		    kcfg_q(q, sizeof(q), o->path ? o->path : "?"), o->where, why ? why : "?");
	return rc;
}

static char *
scalar_dup(const struct yaml_node *cfg, const char *key)
{
	const struct yaml_node	*v = yaml_get(cfg, key, NULL);

	if (v == NULL || v->kind != YAML_SCALAR || v->scalar[0] == '\0')
		return NULL;
	return strdup(v->scalar);
}

static void
wipe_str(char *s)
{
	if (s != NULL)
		buf_wipe_free(s, strlen(s));
}

int
kcfg_oidc_reload(struct kcfg_oidc *o)
{
	unsigned char		*t;
	struct yaml_node	*root = NULL;
	const struct yaml_node	*cfg;
	const char		*why, *err;
	char			*id = NULL, *rt = NULL;
	size_t			 len, el;
	int			 r = 0;

	if (o->path == NULL || (t = kcfg_read_file(o->path, &len, &why)) == NULL)
		return 0;
	if ((root = yaml_parse((const char *)t, len, &err, &el)) == NULL ||
	    (cfg = find_config(root, o->user)) == NULL ||
	    (rt = scalar_dup(cfg, "refresh-token")) == NULL ||
	    (o->refresh_token != NULL && strcmp(rt, o->refresh_token) == 0) ||
	    (id = scalar_dup(cfg, "id-token")) == NULL)
		goto out;
	/* The same checks as a kubeconfig's: header-safe, a JWT (kcfg_oidc.c). */
	for (why = id; *why != '\0' && *why > 0x20 && *why < 0x7f; why++)
		;
	if (*why != '\0')
		goto out;
	for (why = rt; *why != '\0' && *why > 0x20 && *why < 0x7f; why++)
		;
	if (*why != '\0')
		goto out;
	wipe_str(o->id_token);
	wipe_str(o->refresh_token);
	o->id_token = id;
	o->refresh_token = rt;
	id = rt = NULL;
	buf_wipe_free(o->text, o->text_len);
	o->text = (char *)t;
	o->text_len = len;
	t = NULL;
	r = 1;
out:
	yaml_free(root);
	wipe_str(id);
	wipe_str(rt);
	if (t != NULL)
		buf_wipe_free(t, len);
	return r;
}
