/*
 * cli.h: the command line. Parsing never touches the network: a bad flag, a missing
 * value, an unknown action or a bad value (duration, PID, --host, --name, namespace) is
 * reported (naming the word, sanitised and cut as log_sanitize does) and is a usage
 * error, exit 2. An empty --context or --namespace is not given, as in kubectl.
 */
#ifndef CL_CLI_H
#define CL_CLI_H

#include <stddef.h>
#include <stdint.h>

enum cli_action {
	CLI_NONE,
	CLI_ACQUIRE,
	CLI_RELEASE,
	CLI_FORCE_RELEASE,
	CLI_QUERY,
	CLI_CLEANUP,
	CLI_RUN,
	CLI_LIST,
};

#define CLI_DEFAULT_NAME		"carrier-lock"
#define CLI_DEFAULT_TIMEOUT_MS		30000
#define CLI_DEFAULT_KILL_GRACE_MS	10000
#define CLI_DEFAULT_QUEUE_TTL_MS	900000	/* a waiter's place: renewed every 7m30s */

struct cli {
	enum cli_action	 action;
	const char	*kubeconfig;	/* NULL: $KUBECONFIG, ~/.kube/config, in-cluster */
	const char	*context;
	const char	*namespace;	/* NULL: the context's */
	const char	*name;
	int64_t		 max_wait_ms;	/* < 0: wait for ever (the default) */
	long		 pid;		/* 0: the caller's (our parent) */
	const char	*host;		/* NULL: gethostname() */
	int64_t		 request_timeout_ms;
	int64_t		 ttl_ms;	/* 0: the lock never expires */
	int64_t		 kill_grace_ms;	/* run: SIGTERM to SIGKILL */
	int64_t		 queue_ttl_ms;	/* acquire, run: a waiter's place lasts this unless renewed */
	char		**cmd;		/* run: the command after "--" */
	const char	*owner;		/* --owner KEY, or NULL */
	const char	*reason;	/* --reason TEXT, or NULL */
	int		 keep;		/* acquire --keep: a keeper renews the lease */
	int		 all_namespaces;	/* list -A */
	int		 verbose;
	int		 print_token;
	int		 help;
	int		 version;
};

/* Fills c from argv. Returns 0, or -1 after printing the usage error. */
int	cli_parse(int argc, char *argv[], struct cli *c);
void	cli_usage(void);
/*
 * Notes how we were called (argv[0]; cli_parse does it too) and returns the name usage
 * lines give: "kubectl carrier-lock" for a kubectl-* name, else "carrier-lock". Static.
 */
const char *cli_prog(const char *argv0);
const char *cli_action_name(enum cli_action);

/* For completion: the i-th action's name, or NULL past the last. */
const char *cli_action_at(size_t i);

enum { CLI_FLAG_SWITCH, CLI_FLAG_VALUE, CLI_FLAG_DURATION };
/*
 * For completion: the i-th flag's name, its alias (or NULL) and kind (CLI_FLAG_*).
 * Returns 0, or -1 past the last. The strings are static.
 */
int	cli_flag_at(size_t i, const char **name, const char **alias, int *kind);

#endif
