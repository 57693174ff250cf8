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

static void
test_explicit(void)
{
	struct kcfg	k;
	int		r;

	r = load(&k, D "/inline.kubeconfig", NULL);
	test_cond("inline: loads", r == 0 && errout[0] == '\0');
	test_cond("inline: server", streq(k.server, "https://127.0.0.1:6443"));
	test_cond("inline: scheme/host/port", streq(k.scheme, "https") &&
	    streq(k.host, "127.0.0.1") && streq(k.port, "6443"));
	test_cond("inline: CA is the decoded PEM", same_as_file(k.ca, k.ca_len, D "/ca.crt"));
	test_cond("inline: client cert", same_as_file(k.cert, k.cert_len, D "/client.crt"));
	test_cond("inline: client key", same_as_file(k.key, k.key_len, D "/client.key"));
	test_cond("inline: no token, not insecure", k.token == NULL && k.insecure == 0);
	test_cond("inline: context namespace", streq(k.namespace, "locks"));
	test_cond("inline: context from current-context", streq(k.context, "admin"));
	test_cond("inline: source names the file",
	    streq(k.source, "kubeconfig " D "/inline.kubeconfig"));
	kcfg_free(&k);
	test_cond("kcfg_free zeroes", k.server == NULL && k.key == NULL);

	r = load(&k, D "/inline.kubeconfig", "v6");
	test_cond("--context v6: loads", r == 0);
	test_cond("v6: IPv6 host without brackets, port", streq(k.host, "::1") &&
	    streq(k.port, "6443"));
	test_cond("v6: trailing '/' dropped from server", streq(k.server, "https://[::1]:6443"));
	test_cond("v6: tls-server-name, insecure", streq(k.tls_server_name,
	    "kubernetes.default") && k.insecure == 1 && k.ca == NULL);
	test_cond("v6: token", streq(k.token, "secret-token-abc.def") && k.cert == NULL);
	test_cond("v6: namespace defaults to default", streq(k.namespace, "default"));
	kcfg_free(&k);

	/* kubectl treats --context "" as not given; scripts pass "$CTX". */
	r = load(&k, D "/inline.kubeconfig", "");
	test_cond("--context \"\": the current-context", r == 0 && errout[0] == '\0' &&
	    streq(k.context, "admin") && streq(k.namespace, "locks"));
	kcfg_free(&k);

	r = load(&k, D "/inline.kubeconfig", "anon");
	test_cond("anon: http, default port 80, no user", r == 0 && streq(k.scheme, "http") &&
	    streq(k.port, "80") && streq(k.host, "plain.example") && k.token == NULL &&
	    k.cert == NULL);
	kcfg_free(&k);

	r = load(&k, D "/inline.kubeconfig", "tokboth");
	test_cond("token wins over tokenFile", r == 0 && streq(k.token, "inline-wins"));
	kcfg_free(&k);
	r = load(&k, D "/inline.kubeconfig", "tokfile");
	test_cond("tokenFile relative to the kubeconfig, whitespace trimmed",
	    r == 0 && streq(k.token, "tok-from-file.abc"));
	kcfg_free(&k);

	r = load(&k, D "/sub/files.kubeconfig", NULL);
	test_cond("relative paths: loads", r == 0);
	test_cond("relative paths: CA, cert, key from ../", same_as_file(k.ca, k.ca_len,
	    D "/ca.crt") && same_as_file(k.cert, k.cert_len, D "/client.crt") &&
	    same_as_file(k.key, k.key_len, D "/client.key"));
	test_cond("relative paths: tokenFile ../token.txt", streq(k.token, "tok-from-file.abc"));
	kcfg_free(&k);

	r = load(&k, D "/json.kubeconfig", NULL);
	test_cond("JSON kubeconfig: loads", r == 0 && streq(k.host, "::1") &&
	    streq(k.token, "abc.def/ghi") && streq(k.namespace, "locks") && k.insecure);
	kcfg_free(&k);
}

static void
test_errors(void)
{
	test_cond("missing --kubeconfig file",
	    fails_with(D "/nope.kubeconfig", NULL, "kubeconfig " D "/nope.kubeconfig "
	    "(from --kubeconfig): No such file or directory"));
	test_cond("a directory is not a kubeconfig",
	    fails_with(D "/sub", NULL, "kubeconfig " D "/sub: Is a directory"));
	test_cond("YAML error with file:line",
	    fails_with(D "/tab.kubeconfig", NULL, "kubeconfig " D "/tab.kubeconfig:3: "
	    "tab in indentation"));
	test_cond("--context not defined",
	    fails_with(D "/inline.kubeconfig", "zzz", "kubeconfig " D "/inline.kubeconfig: "
	    "context \"zzz\" (from --context) is not defined"));
	test_cond("current-context not defined",
	    fails_with(D "/undefined_current.kubeconfig", NULL, "kubeconfig " D
	    "/undefined_current.kubeconfig:4: current-context \"gone\" is not defined"));
	test_cond("no current-context",
	    fails_with(D "/nocurrent.kubeconfig", NULL, "no current-context in kubeconfig "
	    D "/nocurrent.kubeconfig and no --context given"));
	test_cond("missing cluster: names it and where it is referenced",
	    fails_with(D "/inline.kubeconfig", "nocluster", "kubeconfig " D
	    "/inline.kubeconfig:59: context \"nocluster\" names cluster \"nope\", which is "
	    "not defined"));
	test_cond("missing user",
	    fails_with(D "/inline.kubeconfig", "nouser", "kubeconfig " D
	    "/inline.kubeconfig:64: context \"nouser\" names user \"ghost\", which is not "
	    "defined"));
	test_cond("exec plugin refused by name",
	    fails_with(D "/inline.kubeconfig", "eks", "kubeconfig " D "/inline.kubeconfig:141: "
	    "user \"eks\" uses an exec credential plugin (aws), which carrier-lock does not "
	    "support yet"));
	test_cond("EKS kubeconfig (exec) refused",
	    fails_with(D "/eks.kubeconfig", NULL, ":18: user \"arn:aws:eks:us-west-2:"
	    "123456789012:cluster/perf-test\" uses an exec credential plugin (aws)"));
	test_cond("GKE kubeconfig (exec) refused",
	    fails_with(D "/gke.kubeconfig", NULL, "exec credential plugin "
	    "(gke-gcloud-auth-plugin)"));
	test_cond("auth-provider refused",
	    fails_with(D "/inline.kubeconfig", "gcp", ":149: user \"gcp\" uses the "
	    "auth-provider plugin (gcp), which carrier-lock does not support"));
	test_cond("basic auth refused",
	    fails_with(D "/inline.kubeconfig", "basic", ":156: user \"basic\" uses basic "
	    "authentication (username/password)"));
	test_cond("impersonation refused",
	    fails_with(D "/inline.kubeconfig", "imp", ":159: user \"imp\" sets impersonation "
	    "(as)"));
	test_cond("certificate without key",
	    fails_with(D "/inline.kubeconfig", "certonly", ":163: user \"certonly\" has a "
	    "client certificate but no client key"));
	test_cond("bad base64 in certificate-authority-data",
	    fails_with(D "/inline.kubeconfig", "badb64", "kubeconfig " D "/inline.kubeconfig:19: "
	    "certificate-authority-data of cluster \"badb64\": not valid base64"));
	test_cond("certificate-authority-data without PEM",
	    fails_with(D "/inline.kubeconfig", "notpem", ":23: certificate-authority-data of "
	    "cluster \"notpem\" does not hold a PEM block"));
	test_cond("missing certificate-authority file, path and reason",
	    fails_with(D "/inline.kubeconfig", "missingca", ":45: certificate-authority of "
	    "cluster \"missingca\": " D "/../no/such/ca.crt: No such file or directory"));
	test_cond("server with a path refused",
	    fails_with(D "/inline.kubeconfig", "rancher", ":16: server \"https://rancher."
	    "example.com/k8s/clusters/c-abcde\" of cluster \"rancher\" has a path "
	    "(/k8s/clusters/c-abcde)"));
	test_cond("server without scheme refused",
	    fails_with(D "/inline.kubeconfig", "noscheme", ":36: server \"127.0.0.1:6443\" of "
	    "cluster \"noscheme\" must start with https:// or http://"));
	test_cond("unbracketed IPv6 refused",
	    fails_with(D "/inline.kubeconfig", "v6nobrackets", ":39: server "
	    "\"https://fe80::1:6443\" of cluster \"v6nobrackets\": an IPv6 address must be "
	    "in brackets"));
	test_cond("port out of range refused",
	    fails_with(D "/inline.kubeconfig", "badport", ":42: server "
	    "\"https://h.example:99999\" of cluster \"badport\": port must be a number"));
	test_cond("insecure together with a CA refused",
	    fails_with(D "/inline.kubeconfig", "both", ":28: cluster \"both\" sets both a "
	    "certificate authority and insecure-skip-tls-verify"));
	test_cond("insecure-skip-tls-verify must be a bool",
	    fails_with(D "/inline.kubeconfig", "quotedbool", ":32: insecure-skip-tls-verify of "
	    "cluster \"quotedbool\" must be true or false"));
	test_cond("invalid namespace refused",
	    fails_with(D "/inline.kubeconfig", "badns", ":95: namespace \"Bad_NS\" of context "
	    "\"badns\" is not a valid namespace name"));
	test_cond("a name defined twice in one file",
	    fails_with(D "/dupcluster.kubeconfig", NULL, "dupcluster.kubeconfig:4: cluster "
	    "\"a\" is defined twice (also on line 2)"));
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
		{ "inline.kubeconfig", "eks", "141", "exec credential plugin (aws)" },
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
test_kubeconfig_env(void)
{
	struct kcfg	k;
	char		env[1024];
	int		r;

	clear_env();
	/* Missing files and empty entries are skipped; a owns current-context and c1. */
	snprintf(env, sizeof(env), "%s/missing::" D "/merge_a.kubeconfig:" D
	    "/merge_b.kubeconfig:", tmpdir);
	setenv("KUBECONFIG", env, 1);
	r = load(&k, NULL, NULL);
	test_cond("KUBECONFIG a:b: loads", r == 0);
	test_cond("KUBECONFIG a:b: current-context from the first file that sets it",
	    streq(k.context, "ctx-a"));
	test_cond("KUBECONFIG a:b: context defined only in b is found",
	    streq(k.namespace, "from-b"));
	test_cond("KUBECONFIG a:b: cluster c1 from a (first wins)",
	    streq(k.server, "https://from-a:1001"));
	test_cond("KUBECONFIG a:b: user u from a, its tokenFile relative to a",
	    streq(k.token, "token-a-from-file"));
	test_cond("KUBECONFIG a:b: source lists the files read",
	    streq(k.source, "kubeconfig " D "/merge_a.kubeconfig:" D "/merge_b.kubeconfig"));
	kcfg_free(&k);

	setenv("KUBECONFIG", D "/merge_b.kubeconfig:" D "/merge_a.kubeconfig", 1);
	r = load(&k, NULL, NULL);
	test_cond("KUBECONFIG b:a: current-context and cluster from b", r == 0 &&
	    streq(k.context, "ctx-b") && streq(k.server, "https://only-b:2003"));
	kcfg_free(&k);
	r = load(&k, NULL, "ctx-a");
	test_cond("KUBECONFIG b:a --context ctx-a: c1 and u from b", r == 0 &&
	    streq(k.server, "https://from-b:2002") && streq(k.token, "token-b"));
	kcfg_free(&k);
	r = load(&k, D "/inline.kubeconfig", NULL);
	test_cond("--kubeconfig wins over KUBECONFIG", r == 0 && streq(k.context, "admin"));
	kcfg_free(&k);

	snprintf(env, sizeof(env), "%s/missing1:%s/missing2", tmpdir, tmpdir);
	setenv("KUBECONFIG", env, 1);
	snprintf(env, sizeof(env), "no kubeconfig found: tried $KUBECONFIG (%s/missing1:"
	    "%s/missing2: no such file), and in-cluster config (KUBERNETES_SERVICE_HOST not "
	    "set)", tmpdir, tmpdir);
	test_cond("KUBECONFIG all missing, no in-cluster: lists what was tried",
	    fails_with(NULL, NULL, env));
	setenv("KUBECONFIG", D "/tab.kubeconfig", 1);
	test_cond("a broken file in KUBECONFIG is an error, not skipped",
	    fails_with(NULL, NULL, "tab.kubeconfig:3: tab in indentation"));
	clear_env();
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

	test_explicit();
	test_errors();
	test_secrets_not_logged();
	test_line_ends();
	test_kubeconfig_env();
	test_home();
	test_incluster();
	test_limits();

	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		printf("# could not remove %s\n", tmpdir);
	return test_report();
}
