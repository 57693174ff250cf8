/* cli.c: see cli.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"
#include "ident.h"
#include "log.h"
#include "ci.h"
#include "text.h"

/*
 * How the user called us, for usage lines: "kubectl carrier-lock" when run as the kubectl
 * plugin (kubectl execs kubectl-carrier_lock, found on PATH), else "carrier-lock".
 */
static const char *prog = "carrier-lock";

/* Echoed values longer than this are cut with "..." (a --name of 253 bytes is not). */
#define CLI_SHOW_MAX	256

static const struct {
	const char	*name;
	enum cli_action	 action;
} actions[] = {
	{ "acquire", CLI_ACQUIRE },
	{ "release", CLI_RELEASE },
	{ "force-release", CLI_FORCE_RELEASE },
	{ "query", CLI_QUERY },
	{ "cleanup", CLI_CLEANUP },
	{ "run", CLI_RUN },
	{ "list", CLI_LIST },
};

const char *
cli_action_name(enum cli_action a)
{
	size_t	i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (actions[i].action == a)
			return actions[i].name;
	return "none";
}

const char *
cli_action_at(size_t i)
{
	return i < sizeof(actions) / sizeof(actions[0]) ? actions[i].name : NULL;
}

static enum cli_action
action_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, s) == 0)
			return actions[i].action;
	return CLI_NONE;
}

const char *
cli_prog(const char *argv0)
{
	const char	*base;

	if (argv0 != NULL) {
		base = strrchr(argv0, '/') != NULL ? strrchr(argv0, '/') + 1 : argv0;
		if (strncmp(base, "kubectl-", 8) == 0)
			prog = "kubectl carrier-lock";
	}
	return prog;
}

void
cli_usage(void)
{
	printf("usage: %s ACTION [flags]\n"
	    "       %s --action ACTION [flags]\n"
	    "       %s run [flags] -- CMD [ARGS...]\n"
	    "       %s completion bash|zsh|fish\n", prog, prog, prog, prog);
	fputs(
"\n"
"A cluster-wide mutex kept in a ConfigMap, so that two heavy tests never hit the\n"
"same Kubernetes control plane at once.\n"
"\n"
"Actions:\n"
"  acquire        take the lock; while it is held, wait in its queue (first come,\n"
"                 first served) up to --max-wait-time\n"
"  release        free the lock, only if held from this host by the caller (our\n"
"                 parent, ourselves or an ancestor) or by our owner key\n"
"  force-release  free the lock whoever holds it, and say whose it was\n"
"  query          print the holder's record as JSON on stdout ({} when free)\n"
"  cleanup        free the lock if this host holds it and that process is gone;\n"
"                 also remove this host's dead waiters from its queue\n"
"  list [-A]      every lock of the namespace (-A: of all) with its holder, how\n"
"                 long held, token, ttl, reason and queue (place, host, pid,\n"
"                 waiting since): JSON, one line per lock, or a table on a terminal\n"
"  run -- CMD     acquire (waiting as acquire does), run CMD with the lock held,\n"
"                 release, and exit with CMD's status; the owner is carrier-lock's\n"
"                 own process. CMD gets CARRIER_LOCK_NAME, CARRIER_LOCK_NAMESPACE\n"
"                 and CARRIER_LOCK_TOKEN; signals (INT, TERM, HUP, QUIT, USR1, ...)\n"
"                 are forwarded to it; it is killed if carrier-lock is killed\n"
"  completion SHELL\n"
"                 print the completion script for bash, zsh or fish, e.g.\n"
"                 source <(carrier-lock completion bash)\n"
"\n"
"Flags:\n"
"  --action ACTION          the action (the original form); or give it as a word\n"
"  --kubeconfig PATH        default: $KUBECONFIG, ~/.kube/config, in-cluster\n"
"  --context NAME           default (also for \"\"): the kubeconfig's current-context\n"
"  -n, --namespace NS       default (also for \"\"): the context's namespace, else\n"
"                           \"default\"\n"
"  --name NAME              the lock's ConfigMap (default \"carrier-lock\")\n"
"  --max-wait-time DUR      acquire: how long to wait while held, Go syntax\n"
"                           (120m, 1h30m, 90s, 500ms; 0 = do not wait);\n"
"                           default: wait for ever\n"
"  --print-token            acquire: print the fencing token on stdout\n"
"  --ttl DUR                the holder must renew within DUR, or anyone may take\n"
"                           the lock over (run renews by itself, about every DUR/3;\n"
"                           acquire by the holder renews); default: never expires\n"
"  --queue-ttl DUR          acquire, run: a waiter's place in the queue (a Lease it\n"
"                           renews every DUR/2) lasts DUR after its last renewal;\n"
"                           a waiter killed within DUR of its turn delays the next\n"
"                           one by about 12s, once (default 15m)\n"
"  --kill-grace DUR         run: after a lost lock, SIGTERM, then SIGKILL after DUR\n"
"                           (default 10s)\n"
"  --pid PID                owner PID (default: the calling process, our parent;\n"
"                           for run, carrier-lock's own); release also matches\n"
"                           carrier-lock itself and the caller's ancestors\n"
"  -A, --all-namespaces     list: the locks of every namespace\n"
"  --keep                   acquire, with --ttl: a keeper process holds the lock\n"
"                           for the CI job across its steps, renewing the lease,\n"
"                           until a release with the same owner key\n"
"  --owner KEY              owner key a later release matches instead of the PID\n"
"                           (default with --keep: the CI job's id, e.g. BUILD_TAG)\n"
"  --reason TEXT            stored in the record, shown to waiters and by query\n"
"  --host NAME              owner host (default: this host's name); 1 to 253 bytes\n"
"                           of printable ASCII without spaces\n"
"  --request-timeout DUR    bound on each API call (default 30s), an exec credential\n"
"                           plugin's run and an oidc refresh included; for query\n"
"                           and cleanup, on the whole call with its retries\n"
"  -v, --verbose            say what it does on stderr (never secrets)\n"
"  -h, --help               this text\n"
"  --version                print the version\n"
"\n"
"Exit codes:\n"
"  0  done (acquired; released or already free; queried; cleanup decided)\n"
"  1  error: kubeconfig, network, TLS, authentication, RBAC, API, corrupt record\n"
"  2  usage error: bad flag, missing value, unknown action, bad value (duration,\n"
"     PID, host, lock name, namespace)\n"
"  3  acquire timed out: the lock is still held by someone else\n"
"  4  release refused: the lock is held by someone else (left untouched)\n"
"  5  run: the lock was lost while CMD ran (force-released or taken over);\n"
"     CMD was stopped. Otherwise run exits with CMD's status (128+N for signal N;\n"
"     126 CMD not runnable, 127 CMD not found)\n"
"  128+N  interrupted by signal N while waiting: 129 SIGHUP, 130 SIGINT,\n"
"     143 SIGTERM, ... (nothing left behind); signals ignored on entry, as\n"
"     under nohup, stay ignored\n"
"\n"
"Fencing tokens (--print-token, query's \"token\") only grow, also across a\n"
"ConfigMap deleted by hand.\n"
"\n"
"Credentials and proxies as kubectl: the user's token, token file, client\n"
"certificate, exec credential plugin (run again before what it gave expires and\n"
"after a 401) or oidc auth-provider (an expired id-token is refreshed and written\n"
"back into the kubeconfig file that held it); the cluster's proxy-url, else\n"
"HTTPS_PROXY / HTTP_PROXY and NO_PROXY (http CONNECT and socks5 proxies).\n",
	    stdout);
}

/* Prints a usage error (what and which word) and returns -1. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "carrier-lock: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ncarrier-lock: run '%s --help' for usage\n", prog);
	return -1;
}

/*
 * The argument v as a message may show it: bytes outside printable ASCII as '?', cut
 * with "..." after CLI_SHOW_MAX bytes. Points into buf, of CLI_SHOW_MAX + 1 bytes.
 */
static const char *
shown(char *buf, const char *v)
{
	return log_sanitize(buf, CLI_SHOW_MAX + 1, v, strlen(v));
}

/* The action named v (a word, or --action's value), once only. */
static int
set_action(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	enum cli_action	a = action_parse(v);

	(void)flag;
	if (a == CLI_NONE)
		return usage_error("unknown action \"%s\"", shown(sbuf, v));
	if (c->action != CLI_NONE && c->action != a)
		return usage_error("more than one action given (\"%s\")", shown(sbuf, v));
	c->action = a;
	return 0;
}

static int
set_kubeconfig(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	(void)sbuf;
	if (*v == '\0')
		return usage_error("flag \"%s\" needs a value", flag);
	c->kubeconfig = v;
	return 0;
}

/*
 * As kubectl, an empty --context or --namespace is not given (scripts pass "$CTX"). An
 * empty --name is refused: it would silently pick another lock than the caller's peers.
 */
static int
set_context(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	(void)flag;
	(void)sbuf;
	c->context = *v != '\0' ? v : NULL;
	return 0;
}

static int
set_namespace(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	if (*v != '\0' && !text_dns_name(v, 63, 0))
		return usage_error("bad namespace \"%s\" for %s: must be a DNS-1123 label "
		    "(lower-case letters, digits and '-', at most 63)", shown(sbuf, v), flag);
	c->namespace = *v != '\0' ? v : NULL;
	return 0;
}

static int
set_name(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	if (!text_dns_name(v, 253, 1))
		return usage_error("bad lock name \"%s\" for %s: must be a DNS-1123 subdomain "
		    "(lower-case letters, digits, '-' and '.')", shown(sbuf, v), flag);
	c->name = v;
	return 0;
}

static int
set_pid(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	if (text_pid(v, &c->pid) != 0)
		return usage_error("bad PID \"%s\" for %s: must be a positive number",
		    shown(sbuf, v), flag);
	return 0;
}

static int
set_host(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	if (!ident_host_valid(v))
		return usage_error("bad host name \"%s\" for %s: must be 1 to %d bytes of "
		    "printable ASCII without spaces", shown(sbuf, v), flag, IDENT_MAX_HOST);
	c->host = v;
	return 0;
}

/* --owner and --reason: printable text that fits a record (ci.h's limit). */
static int
set_text(const char **dst, const char *flag, const char *v, char *sbuf)
{
	if (!ci_text_ok(v))
		return usage_error("bad value \"%s\" for %s: must be 1 to %d bytes without "
		    "control characters", shown(sbuf, v), flag, CI_TEXT_MAX);
	*dst = v;
	return 0;
}

static int
set_owner(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	return set_text(&c->owner, flag, v, sbuf);
}

static int
set_reason(struct cli *c, const char *flag, const char *v, char *sbuf)
{
	return set_text(&c->reason, flag, v, sbuf);
}

/* Every flag, once: how it is written, whether it takes a value, and where it goes. */
static const struct cli_flag {
	const char	*name;
	const char	*alias;		/* or NULL */
	enum { FLAG_SWITCH, FLAG_VALUE, FLAG_DURATION } kind;
	size_t		 off;		/* SWITCH: its int in struct cli; DURATION: its int64_t */
	int		(*set)(struct cli *, const char *, const char *, char *);	/* VALUE */
	const char	*hint;		/* DURATION: examples (and a lower bound) */
	int64_t		 min_ms;	/* DURATION: the lower bound */
} flags[] = {
	{ "-v", "--verbose", FLAG_SWITCH, offsetof(struct cli, verbose), NULL, NULL, 0 },
	{ "-h", "--help", FLAG_SWITCH, offsetof(struct cli, help), NULL, NULL, 0 },
	{ "--version", NULL, FLAG_SWITCH, offsetof(struct cli, version), NULL, NULL, 0 },
	{ "--print-token", NULL, FLAG_SWITCH, offsetof(struct cli, print_token), NULL, NULL, 0 },
	{ "--keep", NULL, FLAG_SWITCH, offsetof(struct cli, keep), NULL, NULL, 0 },
	{ "-A", "--all-namespaces", FLAG_SWITCH, offsetof(struct cli, all_namespaces), NULL,
	    NULL, 0 },
	{ "--owner", NULL, FLAG_VALUE, 0, set_owner, NULL, 0 },
	{ "--reason", NULL, FLAG_VALUE, 0, set_reason, NULL, 0 },
	{ "--action", NULL, FLAG_VALUE, 0, set_action, NULL, 0 },
	{ "--kubeconfig", NULL, FLAG_VALUE, 0, set_kubeconfig, NULL, 0 },
	{ "--context", NULL, FLAG_VALUE, 0, set_context, NULL, 0 },
	{ "-n", "--namespace", FLAG_VALUE, 0, set_namespace, NULL, 0 },
	{ "--name", NULL, FLAG_VALUE, 0, set_name, NULL, 0 },
	{ "--pid", NULL, FLAG_VALUE, 0, set_pid, NULL, 0 },
	{ "--host", NULL, FLAG_VALUE, 0, set_host, NULL, 0 },
	{ "--max-wait-time", NULL, FLAG_DURATION, offsetof(struct cli, max_wait_ms), NULL,
	    "examples: 120m, 1h30m, 90s, 500ms, 0", 0 },
	{ "--request-timeout", NULL, FLAG_DURATION, offsetof(struct cli, request_timeout_ms),
	    NULL, "examples: 30s, 1m", 0 },
	{ "--ttl", NULL, FLAG_DURATION, offsetof(struct cli, ttl_ms), NULL,
	    "at least 1s; examples: 30s, 10m", 1000 },
	{ "--queue-ttl", NULL, FLAG_DURATION, offsetof(struct cli, queue_ttl_ms), NULL,
	    "at least 2s; examples: 5m, 30s", 2000 },
	{ "--kill-grace", NULL, FLAG_DURATION, offsetof(struct cli, kill_grace_ms), NULL,
	    "examples: 10s, 1m, 0", 0 },
};

int
cli_flag_at(size_t i, const char **name, const char **alias, int *kind)
{
	if (i >= sizeof(flags) / sizeof(flags[0]))
		return -1;
	*name = flags[i].name;
	*alias = flags[i].alias;
	*kind = flags[i].kind == FLAG_SWITCH ? CLI_FLAG_SWITCH :
	    flags[i].kind == FLAG_DURATION ? CLI_FLAG_DURATION : CLI_FLAG_VALUE;
	return 0;
}

/* The flag written as arg up to len bytes ("--flag" of "--flag=value"), or NULL. */
static const struct cli_flag *
flag_find(const char *arg, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const struct cli_flag *f = &flags[i];
		if ((strlen(f->name) == len && strncmp(f->name, arg, len) == 0) ||
		    (f->alias != NULL && strlen(f->alias) == len && strncmp(f->alias, arg, len) == 0))
			return f;
	}
	return NULL;
}

/* Applies flag f, written as flag, with value v (NULL for a switch). */
static int
flag_apply(struct cli *c, const struct cli_flag *f, const char *flag, const char *v,
    char *sbuf)
{
	switch (f->kind) {
	case FLAG_SWITCH:
		*(int *)(void *)((char *)c + f->off) = 1;
		return 0;
	case FLAG_VALUE:
		return f->set(c, flag, v, sbuf);
	case FLAG_DURATION: {
		int64_t *ms = (int64_t *)(void *)((char *)c + f->off);
		if (duration_parse(v, ms) != 0 || *ms < f->min_ms)
			return usage_error("bad duration \"%s\" for %s (%s)", shown(sbuf, v),
			    f->name, f->hint);
		return 0;
	}
	}
	return -1;
}

int
cli_parse(int argc, char *argv[], struct cli *c)
{
	char	sbuf[CLI_SHOW_MAX + 1], flag[64];
	int	i;

	memset(c, 0, sizeof(*c));
	cli_prog(argc > 0 ? argv[0] : NULL);
	c->name = CLI_DEFAULT_NAME;
	c->max_wait_ms = -1;
	c->request_timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	c->kill_grace_ms = CLI_DEFAULT_KILL_GRACE_MS;
	c->queue_ttl_ms = CLI_DEFAULT_QUEUE_TTL_MS;

	for (i = 1; i < argc; i++) {
		const char		*arg = argv[i], *val, *eq;
		const struct cli_flag	*f;
		size_t			 flen;

		if (strcmp(arg, "--") == 0) {
			if (c->action != CLI_RUN)
				return usage_error("%s", "\"--\" is only for run -- CMD");
			if (i + 1 >= argc)
				return usage_error("%s", "run needs a command after \"--\"");
			c->cmd = argv + i + 1;
			break;
		}
		if (arg[0] != '-') {
			if (set_action(c, NULL, arg, sbuf) != 0)
				return -1;
			continue;
		}
		/* "--flag value" or "--flag=value"; a switch takes no value. */
		eq = strchr(arg, '=');
		flen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (flen >= sizeof(flag))
			return usage_error("unknown flag \"%s\"", shown(sbuf, arg));
		memcpy(flag, arg, flen);
		flag[flen] = '\0';
		if ((f = flag_find(arg, flen)) == NULL)
			return usage_error("unknown flag \"%s\"", shown(sbuf, flag));
		if (f->kind == FLAG_SWITCH && eq != NULL)
			return usage_error("flag \"%s\" takes no value", shown(sbuf, arg));
		if (f->kind == FLAG_SWITCH)
			val = NULL;
		else if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error("flag \"%s\" needs a value", flag);
		if (flag_apply(c, f, flag, val, sbuf) != 0)
			return -1;
	}
	if (c->request_timeout_ms == 0)
		c->request_timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	if (c->help || c->version)
		return 0;
	if (c->action == CLI_NONE)
		return usage_error("%s", "no action given (acquire, release, force-release, "
		    "query, cleanup, list or run; completion for shell completion)");
	if (c->all_namespaces && c->action != CLI_LIST)
		return usage_error("%s", "-A is only for list");
	if (c->action == CLI_RUN && c->cmd == NULL)
		return usage_error("%s", "run needs a command after \"--\"");
	if (c->ttl_ms > 0 && c->action != CLI_ACQUIRE && c->action != CLI_RUN)
		return usage_error("%s", "--ttl is only for acquire and run");
	if (c->keep && (c->action != CLI_ACQUIRE || c->ttl_ms == 0))
		return usage_error("%s", "--keep is only for acquire, with --ttl (the keeper "
		    "renews that lease)");
	if (c->keep && c->pid != 0)
		return usage_error("%s", "--keep and --pid do not go together (the keeper is "
		    "the owner process)");
	return 0;
}
