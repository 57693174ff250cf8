/*
 * test_kcfg.c: kubeconfig resolution as kubectl does it. The kubeconfigs are in
 * tests/data/kcfg/ (line numbers in the expected messages refer to them); the
 * environment cases ($KUBECONFIG, $HOME, in-cluster) build a temporary directory.
 * Each case asserts the resolved fields, or the one error line on stderr.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcfg.h"
#include "log.h"
#include "test.h"

#define D	"tests/data/kcfg"

static char	errout[8192];
static char	tmpdir[64];

/* Runs kcfg_load with stderr captured into errout. */
static int
load(struct kcfg *k, const char *path, const char *ctx)
{
	int	r;

	test_capture_start();
	r = kcfg_load(k, path, ctx);
	snprintf(errout, sizeof(errout), "%s", test_capture_end());
	return r;
}

/* kcfg_load fails and its message contains want. */
static int
fails_with(const char *path, const char *ctx, const char *want)
{
	struct kcfg	k;
	int		r = load(&k, path, ctx);

	kcfg_free(&k);
	if (r == 0 || strstr(errout, want) == NULL) {
		printf("# r=%d, stderr: %s# wanted: %s\n", r, errout, want);
		return 0;
	}
	/* Reported once: exactly one line. */
	return strchr(errout, '\n') == errout + strlen(errout) - 1;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
same_as_file(const unsigned char *b, size_t len, const char *path)
{
	size_t		 n;
	unsigned char	*f = (unsigned char *)test_slurp(path, &n);
	int		 r = b != NULL && n == len && memcmp(b, f, n) == 0;

	free(f);
	return r;
}

static void
write_file(const char *name, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static void
clear_env(void)
{
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	setenv("HOME", "/nonexistent-home", 1);
}

/* A field that must be NULL (NULL in a case: not checked). */
static const char NONE[] = "(none)";

/* One kcfg_load() and what it must give: an error line, or these fields. */
struct load_case {
	const char	*descr;
	const char	*env;		/* $KUBECONFIG, or NULL: unset */
	const char	*path, *ctx;	/* --kubeconfig, --context */
	const char	*fails;		/* the one error line holds this; NULL: it loads */
	const char	*server, *scheme, *host, *port, *tls_name, *token, *ns, *context;
	const char	*source, *prefix;
	const char	*ca, *cert, *key;	/* files the PEM bytes equal, or NONE */
	int		 insecure;	/* 1 or -1 (0), or 0: not checked */
};

static int
field_is(const char *got, const char *want)
{
	return want == NULL || (want == NONE ? got == NULL : streq(got, want));
}

static int
pem_is(const unsigned char *got, size_t len, const char *want)
{
	return want == NULL || (want == NONE ? got == NULL : same_as_file(got, len, want));
}

static int
load_ok(const struct load_case *c)
{
	struct kcfg	k;
	int		ok;

	if (c->fails != NULL)
		return fails_with(c->path, c->ctx, c->fails);
	ok = load(&k, c->path, c->ctx) == 0 && errout[0] == '\0' &&
	    field_is(k.server, c->server) && field_is(k.scheme, c->scheme) &&
	    field_is(k.host, c->host) && field_is(k.port, c->port) &&
	    field_is(k.tls_server_name, c->tls_name) && field_is(k.token, c->token) &&
	    field_is(k.namespace, c->ns) && field_is(k.context, c->context) &&
	    field_is(k.source, c->source) && field_is(k.path, c->prefix) &&
	    pem_is(k.ca, k.ca_len, c->ca) &&
	    pem_is(k.cert, k.cert_len, c->cert) && pem_is(k.key, k.key_len, c->key) &&
	    (c->insecure == 0 || k.insecure == (c->insecure > 0));
	if (!ok && errout[0] != '\0')
		printf("# stderr: %s", errout);
	kcfg_free(&k);
	return ok;
}

#define INLINE	.path = D "/inline.kubeconfig"
#define MISSING	"/nonexistent-kcfg-test"
#define ENV_AB	MISSING "/missing::" D "/merge_a.kubeconfig:" D "/merge_b.kubeconfig:"
#define ENV_BA	D "/merge_b.kubeconfig:" D "/merge_a.kubeconfig"

static const struct load_case cases[] = {
	{ "inline: loads", INLINE },
	{ "inline: server", INLINE, .server = "https://127.0.0.1:6443" },
	{ "inline: scheme/host/port", INLINE, .scheme = "https", .host = "127.0.0.1",
	    .port = "6443" },
	{ "inline: CA is the decoded PEM", INLINE, .ca = D "/ca.crt" },
	{ "inline: client cert", INLINE, .cert = D "/client.crt" },
	{ "inline: client key", INLINE, .key = D "/client.key" },
	{ "inline: no token, not insecure", INLINE, .token = NONE, .insecure = -1 },
	{ "inline: context namespace", INLINE, .ns = "locks" },
	{ "inline: context from current-context", INLINE, .context = "admin" },
	{ "inline: source names the file", INLINE,
	    .source = "kubeconfig " D "/inline.kubeconfig" },
	{ "--context v6: loads", INLINE, .ctx = "v6" },
	{ "v6: IPv6 host without brackets, port", INLINE, .ctx = "v6", .host = "::1",
	    .port = "6443" },
	{ "v6: trailing '/' dropped from server", INLINE, .ctx = "v6",
	    .server = "https://[::1]:6443" },
	{ "v6: tls-server-name, insecure", INLINE, .ctx = "v6",
	    .tls_name = "kubernetes.default", .insecure = 1, .ca = NONE },
	{ "v6: token", INLINE, .ctx = "v6", .token = "secret-token-abc.def", .cert = NONE },
	{ "v6: namespace defaults to default", INLINE, .ctx = "v6", .ns = "default" },
	/* kubectl treats --context "" as not given; scripts pass "$CTX". */
	{ "--context \"\": the current-context", INLINE, .ctx = "", .context = "admin",
	    .ns = "locks" },
	{ "anon: http, default port 80, no user", INLINE, .ctx = "anon", .scheme = "http",
	    .port = "80", .host = "plain.example", .token = NONE, .cert = NONE },
	{ "token wins over tokenFile", INLINE, .ctx = "tokboth", .token = "inline-wins" },
	{ "tokenFile relative to the kubeconfig, whitespace trimmed", INLINE,
	    .ctx = "tokfile", .token = "tok-from-file.abc" },
	{ "relative paths: loads", .path = D "/sub/files.kubeconfig" },
	{ "relative paths: CA, cert, key from ../", .path = D "/sub/files.kubeconfig",
	    .ca = D "/ca.crt", .cert = D "/client.crt", .key = D "/client.key" },
	{ "relative paths: tokenFile ../token.txt", .path = D "/sub/files.kubeconfig",
	    .token = "tok-from-file.abc" },
	{ "JSON kubeconfig: loads", .path = D "/json.kubeconfig", .host = "::1",
	    .token = "abc.def/ghi", .ns = "locks", .insecure = 1 },

	{ "missing --kubeconfig file", .path = D "/nope.kubeconfig", .fails = "kubeconfig "
	    D "/nope.kubeconfig (from --kubeconfig): No such file or directory" },
	{ "a directory is not a kubeconfig", .path = D "/sub",
	    .fails = "kubeconfig " D "/sub: Is a directory" },
	{ "YAML error with file:line", .path = D "/tab.kubeconfig",
	    .fails = "kubeconfig " D "/tab.kubeconfig:3: tab in indentation" },
	{ "--context not defined", INLINE, .ctx = "zzz", .fails = "kubeconfig "
	    D "/inline.kubeconfig: context \"zzz\" (from --context) is not defined" },
	{ "current-context not defined", .path = D "/undefined_current.kubeconfig",
	    .fails = "kubeconfig " D "/undefined_current.kubeconfig:4: current-context "
	    "\"gone\" is not defined" },
	{ "no current-context", .path = D "/nocurrent.kubeconfig", .fails = "no "
	    "current-context in kubeconfig " D "/nocurrent.kubeconfig and no --context given" },
	{ "missing cluster: names it and where it is referenced", INLINE, .ctx = "nocluster",
	    .fails = "kubeconfig " D "/inline.kubeconfig:59: context \"nocluster\" names "
	    "cluster \"nope\", which is not defined" },
	{ "missing user", INLINE, .ctx = "nouser", .fails = "kubeconfig " D
	    "/inline.kubeconfig:64: context \"nouser\" names user \"ghost\", which is not "
	    "defined" },
	{ "exec plugin loads (v1beta1 without interactiveMode)", INLINE, .ctx = "eks",
	    .server = "https://127.0.0.1:6443" },
	{ "EKS kubeconfig (exec) loads", .path = D "/eks.kubeconfig",
	    .server = "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com" },
	{ "gcp auth-provider refused, naming its exec plugin", INLINE, .ctx = "gcp",
	    .fails = ":149: user \"gcp\" uses the gcp auth-provider, which kubectl removed in "
	    "1.26; use the exec plugin gke-gcloud-auth-plugin instead" },
	{ "basic auth refused", INLINE, .ctx = "basic", .fails = ":156: user \"basic\" uses "
	    "basic authentication (username/password)" },
	{ "impersonation refused", INLINE, .ctx = "imp",
	    .fails = ":159: user \"imp\" sets impersonation (as)" },
	{ "certificate without key", INLINE, .ctx = "certonly", .fails = ":163: user "
	    "\"certonly\" has a client certificate but no client key" },
	{ "bad base64 in certificate-authority-data", INLINE, .ctx = "badb64",
	    .fails = "kubeconfig " D "/inline.kubeconfig:19: certificate-authority-data of "
	    "cluster \"badb64\": not valid base64" },
	{ "certificate-authority-data without PEM", INLINE, .ctx = "notpem", .fails = ":23: "
	    "certificate-authority-data of cluster \"notpem\" does not hold a PEM block" },
	{ "missing certificate-authority file, path and reason", INLINE, .ctx = "missingca",
	    .fails = ":45: certificate-authority of cluster \"missingca\": " D
	    "/../no/such/ca.crt: No such file or directory" },
	{ "server with a path prefix (Rancher) loads", INLINE, .ctx = "rancher",
	    .server = "https://rancher.example.com/k8s/clusters/c-abcde",
	    .host = "rancher.example.com", .port = "443", .prefix = "/k8s/clusters/c-abcde" },
	{ "server without scheme refused", INLINE, .ctx = "noscheme", .fails = ":36: server "
	    "\"127.0.0.1:6443\" of cluster \"noscheme\" must start with https:// or http://" },
	{ "unbracketed IPv6 refused", INLINE, .ctx = "v6nobrackets", .fails = ":39: server "
	    "\"https://fe80::1:6443\" of cluster \"v6nobrackets\": an IPv6 address must be in "
	    "brackets" },
	{ "port out of range refused", INLINE, .ctx = "badport", .fails = ":42: server "
	    "\"https://h.example:99999\" of cluster \"badport\": port must be a number" },
	{ "insecure together with a CA refused", INLINE, .ctx = "both", .fails = ":28: "
	    "cluster \"both\" sets both a certificate authority and insecure-skip-tls-verify" },
	{ "insecure-skip-tls-verify must be a bool", INLINE, .ctx = "quotedbool",
	    .fails = ":32: insecure-skip-tls-verify of cluster \"quotedbool\" must be true or "
	    "false" },
	{ "invalid namespace refused", INLINE, .ctx = "badns", .fails = ":95: namespace "
	    "\"Bad_NS\" of context \"badns\" is not a valid namespace name" },
	{ "a name defined twice in one file", .path = D "/dupcluster.kubeconfig",
	    .fails = "dupcluster.kubeconfig:4: cluster \"a\" is defined twice (also on "
	    "line 2)" },

	/* $KUBECONFIG: missing files and empty entries are skipped; a owns current-context
	 * and c1. */
	{ "KUBECONFIG a:b: loads", .env = ENV_AB },
	{ "KUBECONFIG a:b: current-context from the first file that sets it", .env = ENV_AB,
	    .context = "ctx-a" },
	{ "KUBECONFIG a:b: context defined only in b is found", .env = ENV_AB, .ns = "from-b" },
	{ "KUBECONFIG a:b: cluster c1 from a (first wins)", .env = ENV_AB,
	    .server = "https://from-a:1001" },
	{ "KUBECONFIG a:b: user u from a, its tokenFile relative to a", .env = ENV_AB,
	    .token = "token-a-from-file" },
	{ "KUBECONFIG a:b: source lists the files read", .env = ENV_AB,
	    .source = "kubeconfig " D "/merge_a.kubeconfig:" D "/merge_b.kubeconfig" },
	{ "KUBECONFIG b:a: current-context and cluster from b", .env = ENV_BA,
	    .context = "ctx-b", .server = "https://only-b:2003" },
	{ "KUBECONFIG b:a --context ctx-a: c1 and u from b", .env = ENV_BA, .ctx = "ctx-a",
	    .server = "https://from-b:2002", .token = "token-b" },
	{ "--kubeconfig wins over KUBECONFIG", .env = ENV_BA, INLINE, .context = "admin" },
	{ "KUBECONFIG all missing, no in-cluster: lists what was tried",
	    .env = MISSING "/missing1:" MISSING "/missing2", .fails = "no kubeconfig found: "
	    "tried $KUBECONFIG (" MISSING "/missing1:" MISSING "/missing2: no such file), and "
	    "in-cluster config (KUBERNETES_SERVICE_HOST not set)" },
	{ "a broken file in KUBECONFIG is an error, not skipped", .env = D "/tab.kubeconfig",
	    .fails = "tab.kubeconfig:3: tab in indentation" },
};

static void
test_cases(void)
{
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		clear_env();
		if (cases[i].env != NULL)
			setenv("KUBECONFIG", cases[i].env, 1);
		test_cond(cases[i].descr, load_ok(&cases[i]));
	}
	clear_env();
}

/* The EKS and GKE exec entries as written, the command relative to nothing (PATH). */
static void
test_exec(void)
{
	struct kcfg	k;
	int		r;

	r = load(&k, D "/eks.kubeconfig", NULL);
	test_cond("EKS exec: command, args, env, apiVersion, mode", r == 0 && k.exec != NULL &&
	    streq(k.exec->command, "aws") && k.exec->path == NULL &&
	    streq(k.exec->argv[0], "aws") && streq(k.exec->argv[1], "--region") &&
	    streq(k.exec->argv[8], "json") && k.exec->argv[9] == NULL &&
	    k.exec->nenv == 1 && streq(k.exec->env[0].name, "AWS_PROFILE") &&
	    streq(k.exec->env[0].value, "perf") &&
	    streq(k.exec->api_version, "client.authentication.k8s.io/v1beta1") &&
	    k.exec->mode == KCFG_EXEC_IF_AVAILABLE && !k.exec->provide_cluster_info &&
	    k.token == NULL && k.cert == NULL && k.exec_config == NULL);
	kcfg_free(&k);
	r = load(&k, D "/gke.kubeconfig", NULL);
	test_cond("GKE exec: installHint and provideClusterInfo", r == 0 && k.exec != NULL &&
	    streq(k.exec->command, "gke-gcloud-auth-plugin") &&
	    k.exec->install_hint != NULL && k.exec->provide_cluster_info);
	kcfg_free(&k);
}

static void
test_free(void)
{
	struct kcfg	k;

	load(&k, D "/inline.kubeconfig", NULL);
	kcfg_free(&k);
	test_cond("kcfg_free zeroes", k.server == NULL && k.key == NULL);
}

static void
test_secrets_not_logged(void)
{
	struct kcfg	k;
	int		r;

	log_set_verbose(1);
	r = load(&k, D "/inline.kubeconfig", "v6");
	test_cond("-v: says which context, cluster and user", r == 0 &&
	    strstr(errout, "context \"v6\"") != NULL && strstr(errout, "user \"tok\"") != NULL);
	test_cond("-v: never the token", strstr(errout, "secret-token") == NULL);
	kcfg_free(&k);
	r = load(&k, D "/inline.kubeconfig", "admin");
	test_cond("-v: never key bytes", r == 0 && strstr(errout, "PRIVATE") == NULL &&
	    strstr(errout, "LS0t") == NULL);
	kcfg_free(&k);
	/* An error about a user with a token does not print it either. */
	test_cond("error about imp's user does not print its token",
	    fails_with(D "/inline.kubeconfig", "imp", "impersonation") &&
	    strstr(errout, "secret-token") == NULL);
	log_set_verbose(0);
}

/* Copies D/name into tmpdir/prefix-name with each '\n' written as eol; path into out. */
static void
copy_with_line_ends(const char *name, const char *prefix, const char *eol, char *out,
    size_t outsz)
{
	char	 src[256];
	char	*in;
	size_t	 len, i;
	FILE	*f;

	snprintf(src, sizeof(src), D "/%s", name);
	snprintf(out, outsz, "%s/%s-%s", tmpdir, prefix, name);
	if ((in = test_slurp(src, &len)) == NULL || (f = fopen(out, "wb")) == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (in[i] == '\n')
			fputs(eol, f);
		else
			fputc(in[i], f);
	}
	fclose(f);
	free(in);
}

/*
 * kubectl reads kubeconfigs with CR LF and with old Mac (CR only) line ends; so do we,
 * and file:line in messages counts the lines as an editor shows them.
 */
static void
test_line_ends(void)
{
	static const struct {
		const char	*prefix, *eol;
	} styles[] = { { "lf", "\n" }, { "crlf", "\r\n" }, { "cr", "\r" } };
	static const struct {
		const char	*file, *ctx, *line, *says;
	} errs[] = {
		{ "inline.kubeconfig", "nocluster", "59", "names cluster \"nope\"" },
		{ "inline.kubeconfig", "badns", "95", "namespace \"Bad_NS\"" },
		{ "inline.kubeconfig", "gcp", "149", "the gcp auth-provider" },
		{ "undefined_current.kubeconfig", NULL, "4", "current-context \"gone\"" },
		{ "tab.kubeconfig", NULL, "3", "tab in indentation" },
	};
	struct kcfg	k;
	char		path[256], want[512], descr[512];
	size_t		i, j;
	int		r;

	for (i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		copy_with_line_ends("inline.kubeconfig", styles[i].prefix, styles[i].eol, path,
		    sizeof(path));
		r = load(&k, path, NULL);
		snprintf(descr, sizeof(descr), "%s line ends: loads, same fields as with LF",
		    styles[i].prefix);
		test_cond(descr, r == 0 && errout[0] == '\0' &&
		    streq(k.server, "https://127.0.0.1:6443") && streq(k.namespace, "locks") &&
		    streq(k.context, "admin") && same_as_file(k.ca, k.ca_len, D "/ca.crt") &&
		    same_as_file(k.key, k.key_len, D "/client.key"));
		kcfg_free(&k);
		for (j = 0; j < sizeof(errs) / sizeof(errs[0]); j++) {
			copy_with_line_ends(errs[j].file, styles[i].prefix, styles[i].eol, path,
			    sizeof(path));
			snprintf(want, sizeof(want), "kubeconfig %s:%s: ", path, errs[j].line);
			snprintf(descr, sizeof(descr), "%s line ends: %s error on line %s",
			    styles[i].prefix, errs[j].file, errs[j].line);
			test_cond(descr, fails_with(path, errs[j].ctx, want) &&
			    strstr(errout, errs[j].says) != NULL);
		}
	}
}

static void
test_home(void)
{
	struct kcfg	k;
	char		path[256], want[512];
	int		r;

	clear_env();
	snprintf(path, sizeof(path), "%s/home", tmpdir);
	setenv("HOME", path, 1);
	snprintf(want, sizeof(want), "no kubeconfig found: tried %s/.kube/config (no such "
	    "file), and in-cluster config (KUBERNETES_SERVICE_HOST not set)", path);
	test_cond("no ~/.kube/config, no in-cluster: lists what was tried",
	    fails_with(NULL, NULL, want));
	unsetenv("HOME");
	test_cond("$HOME unset", fails_with(NULL, NULL, "~/.kube/config ($HOME not set)"));
	setenv("HOME", path, 1);
	write_file("home/.kube/config", "current-context: h\ncontexts:\n- name: h\n  context:\n"
	    "    cluster: h\nclusters:\n- name: h\n  cluster:\n    server: https://home:7\n");
	r = load(&k, NULL, NULL);
	test_cond("~/.kube/config via $HOME", r == 0 && streq(k.server, "https://home:7"));
	kcfg_free(&k);
	setenv("KUBECONFIG", "", 1);
	r = load(&k, NULL, NULL);
	test_cond("empty KUBECONFIG is unset: ~/.kube/config", r == 0 &&
	    streq(k.server, "https://home:7"));
	kcfg_free(&k);
	clear_env();
}

static void
test_incluster(void)
{
	struct kcfg	 k;
	char		 sa[256], empty[256], msg[512];
	const char	*old = kcfg_sa_dir;
	int		 r;

	clear_env();
	snprintf(sa, sizeof(sa), "%s/sa", tmpdir);
	kcfg_sa_dir = sa;
	write_file("sa/token", "sa-token-xyz\n");
	write_file("sa/namespace", "locks\n");
	{
		char ca[300];
		size_t n;
		unsigned char *b = (unsigned char *)test_slurp(D "/ca.crt", &n);

		snprintf(ca, sizeof(ca), "%s/ca.crt", sa);
		FILE *f = fopen(ca, "wb");
		fwrite(b, 1, n, f);
		fclose(f);
		free(b);
	}
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	r = load(&k, NULL, NULL);
	test_cond("in-cluster: loads", r == 0);
	test_cond("in-cluster: server", streq(k.server, "https://10.96.0.1:443") &&
	    streq(k.host, "10.96.0.1") && streq(k.port, "443") && streq(k.scheme, "https"));
	test_cond("in-cluster: token trimmed", streq(k.token, "sa-token-xyz"));
	test_cond("in-cluster: CA", same_as_file(k.ca, k.ca_len, D "/ca.crt"));
	test_cond("in-cluster: namespace file", streq(k.namespace, "locks"));
	test_cond("in-cluster: context and source", streq(k.context, "in-cluster") &&
	    streq(k.source, "in-cluster config"));
	kcfg_free(&k);

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	snprintf(msg, sizeof(msg), "%s/sa/namespace", tmpdir);
	unlink(msg);
	r = load(&k, NULL, NULL);
	test_cond("in-cluster IPv6: bracketed server", r == 0 &&
	    streq(k.server, "https://[fd00:10:96::1]:443") && streq(k.host, "fd00:10:96::1"));
	test_cond("in-cluster without namespace file: default", streq(k.namespace, "default"));
	kcfg_free(&k);

	write_file("emptycfg", "# nothing\n");
	snprintf(empty, sizeof(empty), "%s/emptycfg", tmpdir);
	setenv("KUBECONFIG", empty, 1);
	r = load(&k, NULL, NULL);
	test_cond("a KUBECONFIG that defines nothing falls back to in-cluster",
	    r == 0 && streq(k.context, "in-cluster"));
	if (r != 0)
		printf("# %s", errout);
	kcfg_free(&k);
	r = load(&k, empty, NULL);
	test_cond("--kubeconfig never falls back to in-cluster", r != 0 &&
	    strstr(errout, "no current-context in kubeconfig") != NULL);
	kcfg_free(&k);
	unsetenv("KUBECONFIG");

	test_cond("--context without a kubeconfig is an error, even in a pod",
	    fails_with(NULL, "x", "--context \"x\" given, but no kubeconfig was found"));

	snprintf(msg, sizeof(msg), "%s/sa/token", tmpdir);
	unlink(msg);
	snprintf(msg, sizeof(msg), "in-cluster config: %s/sa/token: No such file or directory",
	    tmpdir);
	test_cond("in-cluster: missing token names the file", fails_with(NULL, NULL, msg));
	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	test_cond("in-cluster: bad port", fails_with(NULL, NULL, "in-cluster config: server "
	    "\"https://[fd00:10:96::1]:https\" of cluster \"in-cluster\": port must be"));
	kcfg_sa_dir = old;
	clear_env();
}

static void
test_limits(void)
{
	char	 path[256];
	FILE	*f;
	size_t	 i;

	snprintf(path, sizeof(path), "%s/big", tmpdir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	for (i = 0; i < KCFG_MAX_FILE / 64 + 1; i++)
		fprintf(f, "# %061zu\n", i);
	fclose(f);
	test_cond("a kubeconfig over KCFG_MAX_FILE is refused",
	    fails_with(path, NULL, "file larger than 4 MiB"));
}

/* Writes a kubeconfig whose one cluster has server url; its path into path. */
static void
server_kubeconfig(const char *url, char *path, size_t pathsz)
{
	char	text[2048];

	snprintf(text, sizeof(text), "apiVersion: v1\nkind: Config\nclusters:\n"
	    "- name: c\n  cluster:\n    server: '%s'\n    insecure-skip-tls-verify: true\n"
	    "users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n"
	    "  context:\n    cluster: c\n    user: u\ncurrent-context: x\n", url);
	write_file("server.kubeconfig", text);
	snprintf(path, pathsz, "%s/server.kubeconfig", tmpdir);
}

/* A server URL's path: the prefix it gives every API path, or the error it is refused with. */
static void
test_server_paths(void)
{
	static const struct {
		const char	*url, *server, *host, *prefix, *fails;
	} urls[] = {
		{ "https://h:6443", "https://h:6443", "h", "", NULL },
		{ "https://h:6443/", "https://h:6443", "h", "", NULL },
		{ "https://h:6443///", "https://h:6443", "h", "", NULL },
		{ "https://r.example/k8s/clusters/c-m-4x7", "https://r.example/k8s/clusters/c-m-4x7",
		    "r.example", "/k8s/clusters/c-m-4x7", NULL },
		{ "https://r.example/k8s/clusters/local/", "https://r.example/k8s/clusters/local",
		    "r.example", "/k8s/clusters/local", NULL },
		{ "https://[::1]:8443/a~b/c%2Fd/x:y@z", "https://[::1]:8443/a~b/c%2Fd/x:y@z", "::1",
		    "/a~b/c%2Fd/x:y@z", NULL },
		{ "http://h/p", "http://h/p", "h", "/p", NULL },
		{ "https://h/a/.../b", "https://h/a/.../b", "h", "/a/.../b", NULL },
		{ "https://h/a//b", NULL, NULL, NULL,
		    "its path has an empty, \".\" or \"..\" segment" },
		{ "https://h/a/./b", NULL, NULL, NULL, "its path has an empty" },
		{ "https://h/a/..", NULL, NULL, NULL, "its path has an empty" },
		{ "https://h/../a", NULL, NULL, NULL, "its path has an empty" },
		{ "https://h/a%2", NULL, NULL, NULL, "\"%\" that is not followed by two hex digits" },
		{ "https://h/a%zz", NULL, NULL, NULL, "\"%\" that is not followed by two hex digits" },
		{ "https://h/a b", NULL, NULL, NULL, "a character that must be percent-encoded" },
		{ "https://h/a\"b", NULL, NULL, NULL, "a character that must be percent-encoded" },
		{ "https://h/caf\xc3\xa9", NULL, NULL, NULL, "a character that must be percent-encoded" },
		{ "https://h/p?x=1", NULL, NULL, NULL, "has a query or fragment (?x=1)" },
		{ "https://h/p#f", NULL, NULL, NULL, "has a query or fragment (#f)" },
		{ "https://h?x", NULL, NULL, NULL, "has a query or fragment (?x)" },
	};
	char		 path[256], url[KCFG_MAX_SERVER + 2];
	struct kcfg	 k;
	size_t		 i;
	int		 ok;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		server_kubeconfig(urls[i].url, path, sizeof(path));
		if (urls[i].fails != NULL)
			ok = fails_with(path, NULL, urls[i].fails);
		else {
			ok = load(&k, path, NULL) == 0 && streq(k.server, urls[i].server) &&
			    streq(k.host, urls[i].host) && streq(k.path, urls[i].prefix);
			kcfg_free(&k);
		}
		test_cond(urls[i].url, ok);
	}
	/* Up to KCFG_MAX_SERVER bytes load; one more is refused, never cut. */
	memcpy(url, "https://h/", 10);
	memset(url + 10, 'a', KCFG_MAX_SERVER - 10);
	url[KCFG_MAX_SERVER] = '\0';
	server_kubeconfig(url, path, sizeof(path));
	test_cond("a server URL of KCFG_MAX_SERVER bytes loads",
	    load(&k, path, NULL) == 0 && strlen(k.server) == KCFG_MAX_SERVER);
	kcfg_free(&k);
	url[KCFG_MAX_SERVER] = 'a';
	url[KCFG_MAX_SERVER + 1] = '\0';
	server_kubeconfig(url, path, sizeof(path));
	test_cond("a server URL one byte over KCFG_MAX_SERVER is refused",
	    fails_with(path, NULL, "is longer than 512 bytes"));
}

int
main(void)
{
	char	path[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_kcfg.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/home", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/home/.kube", tmpdir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/sa", tmpdir);
	mkdir(path, 0700);
	clear_env();

	test_cases();
	test_server_paths();
	test_exec();
	test_free();
	test_secrets_not_logged();
	test_line_ends();
	test_home();
	test_incluster();
	test_limits();

	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		printf("# could not remove %s\n", tmpdir);
	return test_report();
}
