/*
 * main.c: carrier-lock, a cluster-wide mutex kept in a Kubernetes ConfigMap.
 * The only file that turns outcomes into exit codes.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ident.h"
#include "kcfg.h"
#include "kube.h"
#include "lock.h"
#include "log.h"
#include "run.h"
#include "sig.h"
#include "tls.h"

#ifndef CARRIER_LOCK_VERSION
#define CARRIER_LOCK_VERSION "0.1.0"
#endif

enum exit_code {
	EXIT_DONE = 0,
	EXIT_ERROR = 1,
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,
	EXIT_NOT_OWNER = 4,
};

static int
exit_for(enum lock_outcome o)
{
	switch (o) {
	case LOCK_OK:		return EXIT_DONE;
	case LOCK_TIMEOUT:	return EXIT_TIMEOUT;
	case LOCK_NOT_OWNER:	return EXIT_NOT_OWNER;
	case LOCK_INTERRUPTED:	return 128 + sig_pending();
	default:		return EXIT_ERROR;
	}
}

static enum lock_outcome
run_action(const struct cli *c, const struct lock_ctx *lc)
{
	uint64_t	token = 0;

	switch (c->action) {
	case CLI_ACQUIRE:	return lock_acquire(lc, &token, NULL);
	case CLI_RELEASE:	return lock_release(lc);
	case CLI_FORCE_RELEASE:	return lock_force_release(lc);
	case CLI_QUERY:		return lock_query(lc);
	case CLI_CLEANUP:	return lock_cleanup(lc);
	default:		return LOCK_ERR;
	}
}

int
main(int argc, char *argv[])
{
	struct cli		 c;
	struct kcfg		 k;
	struct ident		 me;
	struct tls_ctx		*tls = NULL;
	struct kube		*kb = NULL;
	struct lock_ctx		 lc;
	int			 code = EXIT_ERROR;

	if (cli_parse(argc, argv, &c) != 0)
		return EXIT_USAGE;
	if (c.help) {
		cli_usage();
		return EXIT_DONE;
	}
	if (c.version) {
		printf("carrier-lock %s\n", CARRIER_LOCK_VERSION);
		return EXIT_DONE;
	}
	log_set_verbose(c.verbose);
	log_set_dedup(1);
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
	/*
	 * The owner is whoever called us (the test script's shell), unless --pid says; for
	 * run it is this process, which outlives the command it runs.
	 */
	if (ident_self(&me, c.host, c.pid ? c.pid :
	    c.action == CLI_RUN ? (long)getpid() : (long)getppid()) != 0)
		return EXIT_ERROR;

	memset(&k, 0, sizeof(k));
	if (kcfg_load(&k, c.kubeconfig, c.context) != 0)
		goto done;
	if (strcmp(k.scheme, "https") == 0) {
		struct tls_config tc = {
			.ca_pem = k.ca, .ca_pem_len = k.ca_len,
			.cert_pem = k.cert, .cert_pem_len = k.cert_len,
			.key_pem = k.key, .key_pem_len = k.key_len,
			.insecure = k.insecure, .where = k.source,
			.ca_where = k.ca_where, .cert_where = k.cert_where,
			.key_where = k.key_where,
		};
		if ((tls = tls_ctx_new(&tc)) == NULL)
			goto done;
	}
	if ((kb = kube_new(&k, tls, c.request_timeout_ms)) == NULL)
		goto done;
	log_verbose("%s: lock %s/%s as host %s pid %ld", cli_action_name(c.action),
	    c.namespace ? c.namespace : k.namespace, c.name, me.host, me.pid);

	sig_install(c.action == CLI_RUN);
	lc.kb = kb;
	lc.ns = c.namespace ? c.namespace : k.namespace;
	lc.name = c.name;
	lc.me = &me;
	lc.max_wait_ms = c.max_wait_ms;
	lc.print_token = c.print_token;
	lc.ttl_ms = c.ttl_ms;
	if (c.action == CLI_RUN) {
		/* The command's own status, or (< 0) why the lock was not taken. */
		if ((code = run_locked(&lc, c.cmd, c.kill_grace_ms)) < 0)
			code = exit_for((enum lock_outcome)(-1 - code));
	} else
		code = exit_for(run_action(&c, &lc));
done:
	kube_free(kb);
	tls_ctx_free(tls);
	kcfg_free(&k);
	return code;
}
