/*
 * main.c: carrier-lock, a cluster-wide mutex kept in a Kubernetes ConfigMap.
 * The only file that turns outcomes into exit codes.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "completion.h"
#include "fds.h"
#include "ident.h"
#include "ci.h"
#include "kcfg.h"
#include "keeper.h"
#include "kube.h"
#include "lock.h"
#include "log.h"
#include "record.h"
#include "run.h"
#include "sig.h"
#include "version.h"


enum exit_code {
	EXIT_DONE = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,
	EXIT_NOT_OWNER = 4,
	EXIT_LOST = 5,		/* run: the lock was lost while CMD ran */
};

static int
exit_for(enum lock_outcome o)
{
	switch (o) {
	case LOCK_OK:		return EXIT_DONE;
	case LOCK_TIMEOUT:	return EXIT_TIMEOUT;
	case LOCK_NOT_OWNER:	return EXIT_NOT_OWNER;
	case LOCK_INTERRUPTED:	return 128 + sig_pending();
	case LOCK_LOST:		return EXIT_LOST;
	default:		return EXIT_ERROR;
	}
}

/* run: CMD's status as a shell gives it (128+N for signal N), unless the lock was lost. */
static int
exit_for_run(enum lock_outcome o, const struct run_result *r)
{
	int	code;

	if (!r->ran || o == LOCK_LOST)
		return exit_for(o);
	if (WIFEXITED(r->status))
		code = WEXITSTATUS(r->status);
	else if (WIFSIGNALED(r->status))
		code = 128 + WTERMSIG(r->status);
	else
		code = EXIT_ERROR;
	/* CMD succeeded but the release failed: the script must hear of it. */
	return o != LOCK_OK && code == EXIT_DONE ? EXIT_ERROR : code;
}

static enum lock_outcome
run_action(const struct cli *c, const struct lock_ctx *lc)
{
	uint64_t	token = 0;

	switch (c->action) {
	case CLI_ACQUIRE:	return c->keep ? keeper_acquire(lc, &token) :
				    lock_acquire(lc, &token, NULL, NULL);
	case CLI_RELEASE:	return lock_release(lc);
	case CLI_FORCE_RELEASE:	return lock_force_release(lc);
	case CLI_QUERY:		return lock_query(lc);
	case CLI_CLEANUP:	return lock_cleanup(lc);
	case CLI_LIST:		return lock_list(lc, c->all_namespaces);
	default:		return LOCK_ERR;
	}
}

int
main(int argc, char *argv[])
{
	struct cli		 c;
	struct kcfg		 k;
	struct ident		 me;
	struct kube		*kb = NULL;
	struct lock_ctx		 lc;
	struct ci_job		 ci;
	struct record_info	 info;
	int			 code = EXIT_ERROR;

	if (fds_hold_std() != 0)
		return EXIT_ERROR;
	/* Shell completion never reads more than the kubeconfig, and never the network. */
	if (argc >= 2 && (strcmp(argv[1], "completion") == 0 ||
	    strcmp(argv[1], "__complete") == 0)) {
		cli_prog(argv[0]);
		switch (completion_main(argc - 1, argv + 1)) {
		case 0:		return EXIT_DONE;
		case -1:	return EXIT_USAGE;
		default:	return EXIT_ERROR;
		}
	}
	if (cli_parse(argc, argv, &c) != 0)
		return EXIT_USAGE;
	if (c.help) {
		cli_usage();
		return fflush(stdout) == 0 ? EXIT_DONE : EXIT_ERROR;
	}
	if (c.version) {
		printf("carrier-lock %s\ncommit: %s\nplatform: linux/%s\n"
		    "bearssl: %s (Debian)\njsmn: %s (Debian)\n", CARRIER_LOCK_VERSION,
		    CARRIER_LOCK_COMMIT, CARRIER_LOCK_ARCH, CARRIER_LOCK_BEARSSL,
		    CARRIER_LOCK_JSMN);
		return fflush(stdout) == 0 ? EXIT_DONE : EXIT_ERROR;
	}
	/* Before any request: no signal may end us between a write and its outcome. */
	sig_install(c.action == CLI_RUN);
	log_set_verbose(c.verbose);
	log_set_dedup(1);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	/*
	 * As PID 1 (a container's entry point) nobody called us: the parent is 0, which no
	 * record may name (it would read as corrupt). Refused before anything is sent.
	 */
	if (c.action == CLI_ACQUIRE && c.pid == 0 && !c.keep && getppid() == 0) {
		log_error("acquire: no calling process to own the lock (PID 1, as in a "
		    "container): pass --pid, use --keep with --ttl, or run -- CMD");
		return EXIT_USAGE;
	}
	/*
	 * The owner is whoever called us (the test script's shell), unless --pid says; for
	 * run it is this process, which outlives the command it runs.
	 */
	if (ident_self(&me, c.host, c.pid ? c.pid :
	    c.action == CLI_RUN ? (long)getpid() : (long)getppid()) != 0)
		return EXIT_ERROR;
	/*
	 * The owner key matches a release to a record that has one: --owner, else the CI
	 * job's own. A record carries it only when asked (--owner, --keep).
	 */
	ci_job_read(&ci);
	memset(&info, 0, sizeof(info));
	lc.owner = c.owner != NULL ? c.owner : ci.owner[0] != '\0' ? ci.owner : NULL;
	if (c.keep && lc.owner == NULL) {
		log_error("--keep needs an owner key that a later step's release can give: pass "
		    "--owner KEY (no CI job was found in the environment)");
		return EXIT_USAGE;
	}
	info.owner = c.owner != NULL || c.keep ? lc.owner : NULL;
	info.reason = c.reason;
	info.ci_url = ci.url[0] != '\0' ? ci.url : NULL;
	info.ci_job = ci.name[0] != '\0' ? ci.name : NULL;
	lc.info = &info;
	lc.pid_given = c.pid != 0;

	memset(&k, 0, sizeof(k));
	if (kcfg_load(&k, c.kubeconfig, c.context) != 0)
		goto done;
	if ((kb = kube_new(&k, c.request_timeout_ms)) == NULL)
		goto done;
	log_verbose("%s: lock %s/%s as host %s pid %ld", cli_action_name(c.action),
	    c.namespace ? c.namespace : k.namespace, c.name, me.host, me.pid);

	lc.kb = kb;
	lc.ns = c.namespace ? c.namespace : k.namespace;
	lc.name = c.name;
	lc.me = &me;
	lc.max_wait_ms = c.max_wait_ms;
	lc.print_token = c.print_token;
	lc.ttl_ms = c.ttl_ms;
	lc.queue_ttl_ms = c.queue_ttl_ms;
	/*
	 * query and cleanup change nothing that must be finished: --request-timeout bounds
	 * the whole call (retries included), as it bounds kubectl get. The others retry.
	 */
	lc.call_deadline = CLOCK_NEVER;
	if (c.action == CLI_QUERY || c.action == CLI_CLEANUP || c.action == CLI_LIST) {
		lc.call_deadline = clock_deadline(c.request_timeout_ms);
		kube_set_limit(kb, lc.call_deadline);
	}
	if (c.action == CLI_RUN) {
		struct run_result	rr;
		enum lock_outcome	o = run_locked(&lc, c.cmd, c.kill_grace_ms, &rr);

		code = exit_for_run(o, &rr);
	} else
		code = exit_for(run_action(&c, &lc));
done:
	kube_free(kb);
	kcfg_free(&k);
	return code;
}
