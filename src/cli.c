/* cli.c: see cli.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "duration.h"
#include "ident.h"
#include "log.h"
#include "text.h"

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

static enum cli_action
action_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, s) == 0)
			return actions[i].action;
	return CLI_NONE;
}

void
cli_usage(void)
{
	fputs(
"usage: carrier-lock ACTION [flags]\n"
"       carrier-lock --action ACTION [flags]\n"
"       carrier-lock run [flags] -- CMD [ARGS...]\n"
"\n"
"A cluster-wide mutex kept in a ConfigMap, so that two heavy tests never hit the\n"
"same Kubernetes control plane at once.\n"
"\n"
"Actions:\n"
"  acquire        take the lock; while it is held, wait up to --max-wait-time\n"
"  release        free the lock, only if this host and PID hold it\n"
"  force-release  free the lock whoever holds it, and say whose it was\n"
"  query          print the holder's record as JSON on stdout ({} when free)\n"
"  cleanup        free the lock if this host holds it and that process is gone\n"
"  run -- CMD     acquire (waiting as acquire does), run CMD with the lock held,\n"
"                 release, and exit with CMD's status; the owner is carrier-lock's\n"
"                 own process. CMD gets CARRIER_LOCK_NAME, CARRIER_LOCK_NAMESPACE\n"
"                 and CARRIER_LOCK_TOKEN; signals (INT, TERM, HUP, QUIT, USR1, ...)\n"
"                 are forwarded to it; it is killed if carrier-lock is killed\n"
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
"  --kill-grace DUR         run: after a lost lock, SIGTERM, then SIGKILL after DUR\n"
"                           (default 10s)\n"
"  --pid PID                owner PID (default: the calling process, our parent;\n"
"                           for run, carrier-lock's own)\n"
"  --host NAME              owner host (default: this host's name); 1 to 253 bytes\n"
"                           of printable ASCII without spaces\n"
"  --request-timeout DUR    bound on each API call (default 30s); for query and\n"
"                           cleanup, on the whole call with its retries\n"
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
"ConfigMap deleted by hand.\n",
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
	fprintf(stderr, "\ncarrier-lock: run 'carrier-lock --help' for usage\n");
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

int
cli_parse(int argc, char *argv[], struct cli *c)
{
	char	sbuf[CLI_SHOW_MAX + 1];
	int	i;

	memset(c, 0, sizeof(*c));
	c->name = CLI_DEFAULT_NAME;
	c->max_wait_ms = -1;
	c->request_timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
	c->kill_grace_ms = CLI_DEFAULT_KILL_GRACE_MS;

	for (i = 1; i < argc; i++) {
		const char	*arg = argv[i], *val = NULL, *eq;
		char		 flag[64];
		size_t		 flen;

		if (strcmp(arg, "--") == 0) {
			if (c->action != CLI_RUN)
				return usage_error("%s", "\"--\" is only for run -- CMD");
			if (i + 1 >= argc)
				return usage_error("%s", "run needs a command after \"--\"");
			c->cmd = argv + i + 1;
			break;
		}
		if (arg[0] != '-') {
			enum cli_action a = action_parse(arg);
			if (a == CLI_NONE)
				return usage_error("unknown action \"%s\"", shown(sbuf, arg));
			if (c->action != CLI_NONE && c->action != a)
				return usage_error("more than one action given (\"%s\")",
				    shown(sbuf, arg));
			c->action = a;
			continue;
		}
		if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
			c->verbose = 1;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			c->help = 1;
			continue;
		}
		if (strcmp(arg, "--version") == 0) {
			c->version = 1;
			continue;
		}
		if (strcmp(arg, "--print-token") == 0) {
			c->print_token = 1;
			continue;
		}
		if (strncmp(arg, "--print-token=", 14) == 0 || strncmp(arg, "--verbose=", 10) == 0 ||
		    strncmp(arg, "--help=", 7) == 0 || strncmp(arg, "--version=", 10) == 0)
			return usage_error("flag \"%s\" takes no value", shown(sbuf, arg));
		/* Flags with a value: "--flag value" or "--flag=value". */
		eq = strchr(arg, '=');
		flen = eq ? (size_t)(eq - arg) : strlen(arg);
		if (flen >= sizeof(flag))
			return usage_error("unknown flag \"%s\"", shown(sbuf, arg));
		memcpy(flag, arg, flen);
		flag[flen] = '\0';
		if (strcmp(flag, "--kubeconfig") && strcmp(flag, "--context") &&
		    strcmp(flag, "-n") && strcmp(flag, "--namespace") &&
		    strcmp(flag, "--name") && strcmp(flag, "--max-wait-time") &&
		    strcmp(flag, "--pid") && strcmp(flag, "--host") &&
		    strcmp(flag, "--request-timeout") && strcmp(flag, "--action") &&
		    strcmp(flag, "--ttl") && strcmp(flag, "--kill-grace"))
			return usage_error("unknown flag \"%s\"", shown(sbuf, flag));
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error("flag \"%s\" needs a value", flag);

		/*
		 * As kubectl, an empty --context or --namespace is not given (scripts pass
		 * "$CTX"). An empty --name is refused: it would silently pick another lock
		 * than the caller's peers use.
		 */
		if (strcmp(flag, "--kubeconfig") == 0) {
			if (*val == '\0')
				return usage_error("flag \"%s\" needs a value", flag);
			c->kubeconfig = val;
		} else if (strcmp(flag, "--context") == 0)
			c->context = *val != '\0' ? val : NULL;
		else if (strcmp(flag, "-n") == 0 || strcmp(flag, "--namespace") == 0) {
			if (*val != '\0' && !text_dns_name(val, 63, 0))
				return usage_error("bad namespace \"%s\" for %s: must be a DNS-1123 "
				    "label (lower-case letters, digits and '-', at most 63)",
				    shown(sbuf, val), flag);
			c->namespace = *val != '\0' ? val : NULL;
		} else if (strcmp(flag, "--name") == 0) {
			if (!text_dns_name(val, 253, 1))
				return usage_error("bad lock name \"%s\" for --name: must be a "
				    "DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
				    shown(sbuf, val));
			c->name = val;
		} else if (strcmp(flag, "--max-wait-time") == 0) {
			if (duration_parse(val, &c->max_wait_ms) != 0)
				return usage_error("bad duration \"%s\" for --max-wait-time "
				    "(examples: 120m, 1h30m, 90s, 500ms, 0)", shown(sbuf, val));
		} else if (strcmp(flag, "--request-timeout") == 0) {
			if (duration_parse(val, &c->request_timeout_ms) != 0)
				return usage_error("bad duration \"%s\" for --request-timeout "
				    "(examples: 30s, 1m)", shown(sbuf, val));
			if (c->request_timeout_ms == 0)
				c->request_timeout_ms = CLI_DEFAULT_TIMEOUT_MS;
		} else if (strcmp(flag, "--ttl") == 0) {
			if (duration_parse(val, &c->ttl_ms) != 0 || c->ttl_ms < 1000)
				return usage_error("bad duration \"%s\" for --ttl (at least 1s; "
				    "examples: 30s, 10m)", shown(sbuf, val));
		} else if (strcmp(flag, "--kill-grace") == 0) {
			if (duration_parse(val, &c->kill_grace_ms) != 0)
				return usage_error("bad duration \"%s\" for --kill-grace "
				    "(examples: 10s, 1m, 0)", shown(sbuf, val));
		} else if (strcmp(flag, "--pid") == 0) {
			if (text_pid(val, &c->pid) != 0)
				return usage_error("bad PID \"%s\" for --pid: must be a positive "
				    "number", shown(sbuf, val));
		} else if (strcmp(flag, "--host") == 0) {
			if (!ident_host_valid(val))
				return usage_error("bad host name \"%s\" for --host: must be 1 to %d "
				    "bytes of printable ASCII without spaces", shown(sbuf, val),
				    IDENT_MAX_HOST);
			c->host = val;
		} else if (strcmp(flag, "--action") == 0) {
			enum cli_action a = action_parse(val);
			if (a == CLI_NONE)
				return usage_error("unknown action \"%s\"", shown(sbuf, val));
			if (c->action != CLI_NONE && c->action != a)
				return usage_error("more than one action given (\"%s\")",
				    shown(sbuf, val));
			c->action = a;
		}
	}
	if (c->help || c->version)
		return 0;
	if (c->action == CLI_NONE)
		return usage_error("%s", "no action given (acquire, release, force-release, "
		    "query, cleanup or run)");
	if (c->action == CLI_RUN && c->cmd == NULL)
		return usage_error("%s", "run needs a command after \"--\"");
	if (c->ttl_ms > 0 && c->action != CLI_ACQUIRE && c->action != CLI_RUN)
		return usage_error("%s", "--ttl is only for acquire and run");
	return 0;
}
