/*
 * Unit tests for cred.c: the static source (obtained once, changes reported once, a 401
 * is final) and the exec source through a real plugin (a sh script written here): due
 * halfway through a short life, obtained again when due or rejected, and what changed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "cred.h"
#include "kcfg.h"
#include "test.h"

static void
test_static(void)
{
	struct kcfg		 k;
	struct cred		*c;
	const struct cred_value	*v;
	int			 ch = -1, rc;

	memset(&k, 0, sizeof(k));
	k.token = "tok";
	k.source = "kubeconfig /x";
	c = cred_new(&k);
	rc = cred_current(c, CLOCK_NEVER, 0, &v, &ch);
	test_cond("static: first call gives the token, all changed", rc == 0 &&
	    strcmp(v->token, "tok") == 0 && v->cert == NULL &&
	    ch == (CRED_CHANGED_TOKEN | CRED_CHANGED_CERT));
	rc = cred_current(c, CLOCK_NEVER, 0, &v, &ch);
	test_cond("static: second call, nothing changed", rc == 0 && ch == 0 &&
	    strcmp(v->token, "tok") == 0);
	test_cond("static: never due, not renewable", cred_due(c) == CLOCK_NEVER &&
	    !cred_renewable(c) && strcmp(cred_where(c), "kubeconfig /x") == 0);
	test_cond("static: a 401 is final", cred_current(c, CLOCK_NEVER, 1, &v, &ch) == -1);
	cred_free(c);
}

static const char *plugin_argv[] = { "plugin", NULL };

/* A plugin that counts its runs in DIR/n and gives token tN, expiring in LIFE s. */
static void
write_plugin(const char *path, const char *dir, int life)
{
	FILE	*f = fopen(path, "w");

	fprintf(f, "#!/bin/sh\nn=$(cat %s/n 2>/dev/null || echo 0); n=$((n+1)); "
	    "echo $n > %s/n\nexp=$(date -u -d @$(( $(date +%%s) + %d )) "
	    "+%%Y-%%m-%%dT%%H:%%M:%%SZ)\nprintf '{\"kind\":\"ExecCredential\",\"apiVersion\":"
	    "\"client.authentication.k8s.io/v1\",\"status\":{\"token\":\"t%%s\","
	    "\"expirationTimestamp\":\"%%s\"}}' $n $exp\n", dir, dir, life);
	fclose(f);
	chmod(path, 0755);
}

static void
test_exec(void)
{
	struct kcfg		 k;
	struct kcfg_exec	 x;
	struct cred		*c;
	const struct cred_value	*v;
	char			 dir[] = "/tmp/test_cred.XXXXXX", path[256];
	int			 ch, rc;
	int64_t			 due;

	if (mkdtemp(dir) == NULL) {
		test_cond("mkdtemp", 0);
		return;
	}
	snprintf(path, sizeof(path), "%s/plugin", dir);
	write_plugin(path, dir, 20);
	memset(&k, 0, sizeof(k));
	memset(&x, 0, sizeof(x));
	x.command = "plugin";
	x.path = path;
	x.argv = (char **)plugin_argv;
	x.api_version = "client.authentication.k8s.io/v1";
	x.mode = KCFG_EXEC_NEVER;
	x.where = "exec plugin \"plugin\" of user \"u\"";
	k.exec = &x;
	k.server = "https://127.0.0.1:1";
	c = cred_new(&k);
	test_cond("exec: renewable, named", cred_renewable(c) &&
	    strcmp(cred_where(c), x.where) == 0);
	rc = cred_current(c, clock_deadline(10000), 0, &v, &ch);
	test_cond("exec: first run gives t1", rc == 0 && strcmp(v->token, "t1") == 0 &&
	    ch == (CRED_CHANGED_TOKEN | CRED_CHANGED_CERT) && v->expires > 0);
	due = cred_due(c) - clock_ms();
	test_cond("exec: a 20 s token is due after about 10 s (half its life)",
	    due > 7000 && due <= 10000);
	rc = cred_current(c, clock_deadline(10000), 0, &v, &ch);
	test_cond("exec: not due: cached, unchanged", rc == 0 && ch == 0 &&
	    strcmp(v->token, "t1") == 0);
	rc = cred_current(c, clock_deadline(10000), 1, &v, &ch);
	test_cond("exec: rejected: run again, t2, token changed", rc == 0 &&
	    strcmp(v->token, "t2") == 0 && ch == CRED_CHANGED_TOKEN);
	cred_free(c);

	write_plugin(path, dir, -5);
	c = cred_new(&k);
	rc = cred_current(c, clock_deadline(10000), 0, &v, &ch);
	test_cond("exec: expired when handed out: due at once", rc == 0 &&
	    strcmp(v->token, "t3") == 0 && cred_due(c) <= clock_ms());
	rc = cred_current(c, clock_deadline(10000), 0, &v, &ch);
	test_cond("exec: and so run again for the next request", rc == 0 &&
	    strcmp(v->token, "t4") == 0);
	cred_free(c);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		test_cond("cleanup", 0);
}

int
main(void)
{
	test_static();
	test_exec();
	return test_report();
}
