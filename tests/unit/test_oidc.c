/*
 * test_oidc.c: the oidc auth-provider's pure parts as case tables: jwt_exp, the
 * discovery and token-reply parsers, OAuth error text, issuer URLs, form escaping, and
 * kcfg_oidc_edit (the write-back's text edit: only the two values change). Then
 * kcfg_oidc_write on real files: mode kept, no temporary left, and a file that changed
 * since it was read left alone.
 */
#define _POSIX_C_SOURCE 200809L
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "kcfg.h"
#include "kcfg_write.h"
#include "oidc.h"
#include "test.h"

/* base64url of s, no padding, for building JWTs. */
static void
b64url(const char *s, char *out)
{
	static const char	a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), i, o = 0;
	uint32_t		 v;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = a[v >> 6 & 63];
		if (i + 2 < n)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

static char *
jwt(const char *payload)
{
	static char	buf[4096];
	char		pl[2048];

	b64url(payload, pl);
	snprintf(buf, sizeof(buf), "eyJhbGciOiJSUzI1NiJ9.%s.c2ln", pl);
	return buf;
}

static void
test_jwt(void)
{
	static const struct {
		const char	*descr, *payload;
		int		 rc;
		int64_t		 exp;
	} cases[] = {
		{ "integer exp", "{\"exp\":1700000000,\"sub\":\"a\"}", 0, 1700000000 },
		{ "fraction cut, as client-go", "{\"exp\":1700000000.9}", 0, 1700000000 },
		{ "exponent", "{\"exp\":1.7e9}", 0, 1700000000 },
		{ "exp as a numeric string (Go's json.Number takes it)", "{\"exp\":\"42\"}", 0, 42 },
		{ "no exp: 0 (expired)", "{\"sub\":\"a\"}", 0, 0 },
		{ "exp null: 0", "{\"exp\":null}", 0, 0 },
		{ "negative exp", "{\"exp\":-5}", 0, -5 },
		{ "negative exponent", "{\"exp\":170000000000e-2}", 0, 1700000000 },
		{ "exponent with fraction and sign", "{\"exp\":1.75E+1}", 0, 17 },
		{ "under one second: 0", "{\"exp\":5e-1}", 0, 0 },
		{ "negative fraction cut towards zero", "{\"exp\":-1.9}", 0, -1 },
		{ "huge: clamped to 1e15", "{\"exp\":1e300}", 0, 1000000000000000LL },
		{ "many digits: clamped", "{\"exp\":123456789012345678901234567890}", 0,
		    1000000000000000LL },
		{ "exp a word", "{\"exp\":\"soon\"}", -1, 0 },
		{ "exp an object", "{\"exp\":{}}", -1, 0 },
		{ "exp true", "{\"exp\":true}", -1, 0 },
		{ "payload an array", "[1]", -1, 0 },
		{ "payload not JSON", "exp=5", -1, 0 },
		{ "leading zero refused", "{\"exp\":01}", -1, 0 },
		{ "exp twice refused", "{\"exp\":1,\"exp\":2}", -1, 0 },
	};
	static const char	*bad[] = { "", "abc", "a.b", "a.b.c.d", "a.!!!.c", "a.Zg.c" };
	const char		*why;
	int64_t			 exp;
	size_t			 i;
	char			 d[256];
	int			 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *t = jwt(cases[i].payload);

		why = NULL;
		rc = jwt_exp(t, strlen(t), &exp, &why);
		snprintf(d, sizeof(d), "jwt_exp: %s", cases[i].descr);
		test_cond(d, rc == cases[i].rc && (rc != 0 || exp == cases[i].exp) &&
		    (rc == 0 || why != NULL));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(d, sizeof(d), "jwt_exp: \"%s\" is not a JWT", bad[i]);
		test_cond(d, jwt_exp(bad[i], strlen(bad[i]), &exp, &why) == -1);
	}
	/* Padding is tolerated (some issuers write it), '+' and '/' are not base64url. */
	test_cond("jwt_exp: padded payload", jwt_exp("h.eyJleHAiOjF9.s", 16, &exp, &why) == 0 &&
	    exp == 1);
	test_cond("jwt_exp: '+' refused", jwt_exp("h.eyJleHAiOj+9.s", 16, &exp, &why) == -1);
	test_cond("jwt_exp: length is honoured (no NUL needed)",
	    jwt_exp("h.eyJleHAiOjF9.sXXXX", 16, &exp, &why) == 0 && exp == 1);
}

static void
test_discovery(void)
{
	static const struct {
		const char	*descr, *body, *want;
	} cases[] = {
		{ "token_endpoint", "{\"issuer\":\"https://i\",\"token_endpoint\":\"https://i/t\"}",
		    "https://i/t" },
		{ "escaped slash", "{\"token_endpoint\":\"https:\\/\\/i\\/t\"}", "https://i/t" },
		{ "missing", "{\"issuer\":\"https://i\"}", NULL },
		{ "not a string", "{\"token_endpoint\":5}", NULL },
		{ "empty", "{\"token_endpoint\":\"\"}", NULL },
		{ "escaped NUL", "{\"token_endpoint\":\"a\\u0000b\"}", NULL },
		{ "not an object", "[\"token_endpoint\"]", NULL },
		{ "not JSON", "<html>", NULL },
		{ "trailing bytes", "{\"token_endpoint\":\"x\"} x", NULL },
	};
	const char	*why;
	char		*te, d[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = oidc_discovery_parse(cases[i].body, strlen(cases[i].body), &te, &why);
		snprintf(d, sizeof(d), "discovery: %s", cases[i].descr);
		test_cond(d, cases[i].want != NULL ? rc == 0 && strcmp(te, cases[i].want) == 0 :
		    rc == -1 && te == NULL && why != NULL);
		free(te);
	}
}

static void
test_token_reply(void)
{
	static const struct {
		const char	*descr, *body, *id, *rt;
	} cases[] = {
		{ "both", "{\"id_token\":\"a.b.c\",\"refresh_token\":\"r1\",\"token_type\":\"Bearer\"}",
		    "a.b.c", "r1" },
		{ "no refresh_token keeps the old", "{\"id_token\":\"a.b.c\"}", "a.b.c", NULL },
		{ "empty refresh_token keeps the old", "{\"id_token\":\"x\",\"refresh_token\":\"\"}",
		    "x", NULL },
		{ "refresh_token null", "{\"id_token\":\"x\",\"refresh_token\":null}", "x", NULL },
		{ "no id_token", "{\"access_token\":\"a\",\"refresh_token\":\"r\"}", NULL, NULL },
		{ "id_token not a string", "{\"id_token\":1}", NULL, NULL },
		{ "id_token empty", "{\"id_token\":\"\"}", NULL, NULL },
		{ "id_token with a space", "{\"id_token\":\"a b\"}", NULL, NULL },
		{ "id_token with CR LF (header injection)", "{\"id_token\":\"a\\r\\nX: y\"}", NULL,
		    NULL },
		{ "refresh_token with a newline", "{\"id_token\":\"a\",\"refresh_token\":\"r\\n\"}",
		    NULL, NULL },
		{ "refresh_token a number", "{\"id_token\":\"a\",\"refresh_token\":5}", NULL, NULL },
		{ "garbage", "\x00\x01", NULL, NULL },
		{ "id_token twice", "{\"id_token\":\"a\",\"id_token\":\"b\"}", NULL, NULL },
	};
	const char	*why;
	char		*id, *rt, d[256];
	size_t		 i;
	int		 rc, ok;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = oidc_token_parse(cases[i].body, strlen(cases[i].body) +
		    (cases[i].body[0] == '\0' ? 2 : 0), &id, &rt, &why);
		if (cases[i].id != NULL)
			ok = rc == 0 && strcmp(id, cases[i].id) == 0 && (cases[i].rt == NULL ?
			    rt == NULL : rt != NULL && strcmp(rt, cases[i].rt) == 0);
		else
			ok = rc == -1 && id == NULL && rt == NULL && why != NULL;
		snprintf(d, sizeof(d), "token reply: %s", cases[i].descr);
		test_cond(d, ok);
		free(id);
		free(rt);
	}
}

static void
test_error_text(void)
{
	char	out[256];
	const char *b = "{\"error\":\"invalid_grant\",\"error_description\":\"Token \\u001b[31mold\"}";

	oidc_error_text(b, strlen(b), out, sizeof(out));
	test_cond("error text: error and sanitised description",
	    strcmp(out, "invalid_grant: Token ?[31mold") == 0);
	oidc_error_text("{\"error\":\"x\"}", 13, out, sizeof(out));
	test_cond("error text: error alone", strcmp(out, "x") == 0);
	oidc_error_text("<html>", 6, out, sizeof(out));
	test_cond("error text: not JSON gives nothing", out[0] == '\0');
}

static void
test_url(void)
{
	static const struct {
		const char	*url, *host, *port, *path;
	} cases[] = {
		{ "https://idp.example.com", "idp.example.com", "443", "" },
		{ "https://idp.example.com/realms/x/", "idp.example.com", "443", "/realms/x/" },
		{ "http://127.0.0.1:5556/dex", "127.0.0.1", "5556", "/dex" },
		{ "https://[::1]:8443/t?a=b", "::1", "8443", "/t?a=b" },
		{ "ftp://x", NULL, NULL, NULL },
		{ "https://", NULL, NULL, NULL },
		{ "https://u:p@x/", NULL, NULL, NULL },
		{ "https://x:0", NULL, NULL, NULL },
		{ "https://x:99999", NULL, NULL, NULL },
		{ "https://x/a b", NULL, NULL, NULL },
		{ "https://x/#f", NULL, NULL, NULL },
		{ "https://x:/", NULL, NULL, NULL },
		{ "https://[::1/", NULL, NULL, NULL },
		{ "https://fe80::1:8443/", NULL, NULL, NULL },
		{ "https://[1.2.3.4]/", NULL, NULL, NULL },
		{ "https://[::1]x/", NULL, NULL, NULL },
		{ "http://[::ffff:10.0.0.1]", "::ffff:10.0.0.1", "80", "" },
		{ "https://idp.example:08443?x", "idp.example", "08443", "?x" },
	};
	struct oidc_url	 u;
	const char	*why;
	char		 d[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = oidc_url_parse(cases[i].url, &u, &why);
		snprintf(d, sizeof(d), "url: %s", cases[i].url);
		test_cond(d, cases[i].host != NULL ? rc == 0 && strcmp(u.host, cases[i].host) == 0 &&
		    strcmp(u.port, cases[i].port) == 0 && strcmp(u.path, cases[i].path) == 0 :
		    rc == -1);
		oidc_url_free(&u);
	}
}

static void
test_basic_request(void)
{
	size_t	 len;
	char	*raw = http_request_build_auth("POST", "i", "/token", "Basic", "YTpi",
	    "application/x-www-form-urlencoded", "grant_type=x", 12, &len);
	/* The request is len bytes, not a string. */
	char	*req = raw != NULL ? strndup(raw, len) : NULL;

	free(raw);
	test_cond("request: Authorization: Basic and the form's Content-Type", req != NULL &&
	    strstr(req, "\r\nAuthorization: Basic YTpi\r\n") != NULL &&
	    strstr(req, "\r\nContent-Type: application/x-www-form-urlencoded\r\n") != NULL &&
	    strstr(req, "Bearer") == NULL);
	free(req);
	test_cond("request: a scheme with CR LF refused", http_request_build_auth("GET", "i",
	    "/", "Basic\r\nX: y", "c", NULL, NULL, 0, &len) == NULL);
}

static void
test_form(void)
{
	struct buf	 b = { 0 };
	char		*s;

	oidc_form_escape(&b, "a b&c=d/é~_.-");
	s = buf_take(&b, NULL);
	test_cond("form escape as Go's QueryEscape", strcmp(s, "a+b%26c%3Dd%2F%C3%A9~_.-") == 0);
	free(s);
}

#define KC_HEAD \
	"# top comment\n" \
	"users:\n" \
	"- name: other\n" \
	"  user: {token: x}\n" \
	"- name: alice\n" \
	"  user:\n" \
	"    auth-provider:\n" \
	"      name: oidc\n" \
	"      config:\n"

static void
test_edit(void)
{
	static const struct {
		const char	*descr, *in, *id, *rt, *want;
	} cases[] = {
		{ "plain values replaced in place, comments kept",
		    KC_HEAD "        id-token: old.id.tok   # keep me\n"
		    "        refresh-token: oldrt\n        client-id: c\n",
		    "new.id.tok", "newrt",
		    KC_HEAD "        id-token: new.id.tok   # keep me\n"
		    "        refresh-token: newrt\n        client-id: c\n" },
		{ "quoted old values: the new ones plain",
		    KC_HEAD "        id-token: \"o.i.d\"\n        refresh-token: 'r'\n",
		    "n.e.w", "rt2",
		    KC_HEAD "        id-token: n.e.w\n        refresh-token: rt2\n" },
		{ "no new refresh token: the old one stays",
		    KC_HEAD "        id-token: a.b.c\n        refresh-token: r\n", "x.y.z", NULL,
		    KC_HEAD "        id-token: x.y.z\n        refresh-token: r\n" },
		{ "a value that would read as another type is quoted",
		    KC_HEAD "        id-token: a.b.c\n        refresh-token: r\n", "a.b.c", "true",
		    KC_HEAD "        id-token: a.b.c\n        refresh-token: \"true\"\n" },
		{ "odd characters are double-quoted and escaped",
		    KC_HEAD "        id-token: a.b.c\n        refresh-token: r\n", "a.b.c",
		    "#x\"y\\z:",
		    KC_HEAD "        id-token: a.b.c\n        refresh-token: \"#x\\\"y\\\\z:\"\n" },
		{ "missing id-token added above the first key",
		    KC_HEAD "        client-id: c\n        refresh-token: r\n", "n.e.w", "r2",
		    KC_HEAD "        id-token: n.e.w\n        client-id: c\n"
		    "        refresh-token: r2\n" },
		{ "CR LF file: the added line too",
		    "users:\r\n- name: alice\r\n  user:\r\n    auth-provider:\r\n      name: oidc\r\n"
		    "      config:\r\n        refresh-token: r\r\n", "a.b.c", NULL,
		    "users:\r\n- name: alice\r\n  user:\r\n    auth-provider:\r\n      name: oidc\r\n"
		    "      config:\r\n        id-token: a.b.c\r\n        refresh-token: r\r\n" },
		{ "flow-style config values replaced",
		    KC_HEAD "        {id-token: a.b.c, refresh-token: r}\n", "d.e.f", "s",
		    KC_HEAD "        {id-token: d.e.f, refresh-token: s}\n" },
		{ "flow config: replaced in place",
		    "users:\n- name: alice\n  user:\n    auth-provider: {name: oidc, config: "
		    "{id-token: a.b.c, refresh-token: r}}\n", "d.e.f", "s",
		    "users:\n- name: alice\n  user:\n    auth-provider: {name: oidc, config: "
		    "{id-token: d.e.f, refresh-token: s}}\n" },
		{ "flow config lacking a key: refused",
		    "users:\n- name: alice\n  user:\n    auth-provider: {name: oidc, config: "
		    "{refresh-token: r}}\n", "d.e.f", NULL, NULL },
		{ "empty id-token key: refused (not editable in place)",
		    KC_HEAD "        id-token:\n        refresh-token: r\n", "d.e.f", NULL, NULL },
		{ "user not in the file", "users:\n- name: bob\n  user: {}\n", "a.b.c", NULL, NULL },
		{ "multi-line plain old value replaced whole",
		    KC_HEAD "        id-token: aaa.bbb\n          .ccc\n        refresh-token: r\n",
		    "x.y.z", NULL,
		    KC_HEAD "        id-token: x.y.z\n        refresh-token: r\n" },
	};
	const char	*why;
	char		*out, d[256];
	size_t		 i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		out = kcfg_oidc_edit(cases[i].in, strlen(cases[i].in), "alice", cases[i].id,
		    cases[i].rt, &n, &why);
		snprintf(d, sizeof(d), "edit: %s", cases[i].descr);
		if (cases[i].want == NULL)
			test_cond(d, out == NULL && why != NULL);
		else
			test_cond(d, out != NULL && n == strlen(cases[i].want) &&
			    strcmp(out, cases[i].want) == 0);
		if (out == NULL && cases[i].want != NULL)
			printf("# %s\n", why);
		free(out);
	}
}

static int
write_file(const char *p, const char *s, mode_t mode)
{
	FILE	*f = fopen(p, "w");

	if (f == NULL || fputs(s, f) < 0 || fclose(f) != 0)
		return -1;
	return chmod(p, mode);
}

static void
test_write(void)
{
	const char		*orig = KC_HEAD "        id-token: a.b.c\n        refresh-token: r\n";
	const char		*want = KC_HEAD "        id-token: d.e.f\n        refresh-token: s\n";
	char			 dir[] = "/tmp/test_oidc.XXXXXX", path[256], cmd[300], *got;
	struct kcfg_oidc	 o;
	struct stat		 st;
	size_t			 n;
	const char		*msg;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/config", dir);
	memset(&o, 0, sizeof(o));
	o.where = "test";
	o.user = "alice";
	o.path = path;

	/* The file changed since it was read: left alone. */
	write_file(path, orig, 0640);
	o.text = strdup(KC_HEAD "        id-token: OTHER.b.c\n        refresh-token: r\n");
	o.text_len = strlen(o.text);
	test_capture_start();
	test_cond("write: a changed file is not overwritten",
	    kcfg_oidc_write(&o, "d.e.f", "s") == -1);
	msg = test_capture_end();
	got = test_slurp(path, &n);
	test_cond("write: ... and keeps its bytes", got != NULL && strcmp(got, orig) == 0);
	test_cond("write: ... with one warning saying so", strstr(msg, "changed since") != NULL &&
	    strchr(msg, '\n') == msg + strlen(msg) - 1);
	free(got);
	free(o.text);

	/* Unchanged: rewritten, mode kept, no temporary left. */
	o.text = strdup(orig);
	o.text_len = strlen(orig);
	test_cond("write: rewritten", kcfg_oidc_write(&o, "d.e.f", "s") == 0);
	got = test_slurp(path, &n);
	test_cond("write: ... with the new values only", got != NULL && strcmp(got, want) == 0);
	test_cond("write: ... mode kept", stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	test_cond("write: ... o->text is the new text", strcmp(o.text, want) == 0);
	free(got);
	test_cond("write: again from the new text", kcfg_oidc_write(&o, "g.h.i", NULL) == 0);
	got = test_slurp(path, &n);
	test_cond("write: ... second edit applied", got != NULL &&
	    strstr(got, "id-token: g.h.i\n        refresh-token: s\n") != NULL);
	free(got);
	free(o.text);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
	test_cond("write: no temporary file left", system(cmd) == 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		abort();
}

int
main(void)
{
	test_jwt();
	test_discovery();
	test_token_reply();
	test_error_text();
	test_url();
	test_form();
	test_basic_request();
	test_edit();
	test_write();
	return test_report();
}
