/*
 * lock_free.c: the actions that read the lock and may free it (release, force-release,
 * cleanup) and query. Freeing goes through lock_free_held, which hands a lock with
 * waiters to the first of them (lock_int.h).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "kube.h"
#include "lock.h"
#include "lock_int.h"
#include "log.h"
#include "record.h"

enum lock_state {
	STATE_FREE,	/* no ConfigMap, or no holder in it */
	STATE_HELD,	/* cm and r filled */
	STATE_CORRUPT,	/* cm filled, *why says what is wrong with the record */
	STATE_FAILED,	/* *o says how the read failed */
};

/*
 * Reads the lock, retrying transient failures. The caller clears cm (and r when HELD).
 */
static enum lock_state
read_state(const struct lock_ctx *c, struct kube_cm *cm, struct record *r,
    const char **why, int *fails, enum lock_outcome *o)
{
	enum kube_rc	rc;

	while ((rc = kube_cm_get(c->kb, c->ns, c->name, cm)) != KUBE_OK) {
		if (rc == KUBE_NOT_FOUND)
			return STATE_FREE;
		if ((*o = lock_on_failure(c, rc, fails, 0)) != LOCK_OK)
			return STATE_FAILED;
	}
	if (record_is_free(cm->holder))
		return STATE_FREE;
	if (record_parse(cm->holder, r, why) != 0)
		return STATE_CORRUPT;
	return STATE_HELD;
}

/*
 * The loop of release, force-release and cleanup: read, let decide() judge the holder
 * (return 1 to free the lock, 0 to leave it with outcome *o), free it conditionally, and
 * on a conflict or a transient failure start again. done() says what was freed.
 */
static enum lock_outcome
free_loop(const struct lock_ctx *c, int force,
    int (*decide)(const struct lock_ctx *, const struct record *, enum lock_outcome *),
    const char *freed)
{
	int	fails = 0;

	for (;;) {
		struct kube_cm		cm;
		struct record		r;
		enum lock_outcome	o = LOCK_OK;
		enum lock_state		st;
		enum kube_rc		rc;
		const char		*why = "";
		char			show[LOCK_SHOW_MAX + 4];
		uint64_t		fence;

		memset(&r, 0, sizeof(r));
		st = read_state(c, &cm, &r, &why, &fails, &o);
		if (st == STATE_FAILED)
			return o;
		if (st == STATE_FREE && force && cm.rv != NULL && lock_fence_parse(cm.fence, &fence) != 0) {
			/* The counter was hand-edited: tokens go on above any handed out. */
			rc = lock_free_held(c, &cm, NULL);
			if (rc == KUBE_OK)
				log_info("lock %s/%s is not held; reset data.%s, which was not a "
				    "number (fencing tokens go on from %llu)", c->ns, c->name,
				    KUBE_KEY_FENCE, (unsigned long long)lock_fence_floor(cm.rv) + 1);
			kube_cm_clear(&cm);
			if (rc == KUBE_OK)
				return LOCK_OK;
			if ((o = lock_on_failure(c, rc, &fails, 0)) != LOCK_OK)
				return o;
			continue;
		}
		if (st == STATE_FREE) {
			log_info("lock %s/%s is not held; nothing to do", c->ns, c->name);
			kube_cm_clear(&cm);
			return LOCK_OK;
		}
		if (st == STATE_CORRUPT && !force) {
			lock_report_corrupt(c, cm.holder, why);
			kube_cm_clear(&cm);
			return LOCK_ERR;
		}
		if (st == STATE_HELD && !decide(c, &r, &o)) {
			record_clear(&r);
			kube_cm_clear(&cm);
			return o;
		}
		rc = lock_free_held(c, &cm, st == STATE_HELD ? &r : NULL);
		if (rc == KUBE_OK && st == STATE_CORRUPT)
			log_info("%s lock %s/%s, replacing a corrupt record (%s): %s", freed,
			    c->ns, c->name, why,
			    log_sanitize(show, sizeof(show), cm.holder, strlen(cm.holder)));
		else if (rc == KUBE_OK) {
			char more[LOCK_DETAILS_MAX];

			log_info("%s lock %s/%s held by host %s pid %ld since %s%s", freed,
			    c->ns, c->name, r.host, r.pid, r.start_time,
			    lock_holder_details(&r, more, sizeof(more)));
		}
		record_clear(&r);
		kube_cm_clear(&cm);
		if (rc == KUBE_OK)
			return LOCK_OK;
		if ((o = lock_on_failure(c, rc, &fails, 0)) != LOCK_OK)
			return o;
	}
}

/* release: only the holder itself. */
static int
decide_release(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	char	more[LOCK_DETAILS_MAX];

	if (lock_is_me(c, r))
		return 1;
	if (r->owner != NULL && c->owner == NULL)
		log_error("lock %s/%s is held by owner %s (host %s pid %ld since %s); this "
		    "release has no owner key (--owner, or the same CI job); not released",
		    c->ns, c->name, r->owner, r->host, r->pid, r->start_time);
	else
		log_error("lock %s/%s is held by host %s pid %ld since %s%s, not by %s%s%shost "
		    "%s pid %ld or its callers; not released", c->ns, c->name, r->host, r->pid,
		    r->start_time, lock_holder_details(r, more, sizeof(more)),
		    c->owner != NULL ? "owner " : "", c->owner != NULL ? c->owner : "",
		    c->owner != NULL ? " or " : "", c->me->host, c->me->pid);
	*o = LOCK_NOT_OWNER;
	return 0;
}

static int
decide_force(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	(void)c;
	(void)r;
	(void)o;
	return 1;
}

/* cleanup: only a holder of this host whose process is gone. */
static int
decide_cleanup(const struct lock_ctx *c, const struct record *r, enum lock_outcome *o)
{
	const char	*why, *cwhy;

	*o = LOCK_OK;
	if (r->owner != NULL && !r->keeper) {
		/* Its PID is one step's shell: gone while the job's later steps still run. */
		log_info("lock %s/%s is held by owner %s, whose steps run in shells of their own; "
		    "left alone (its release frees it%s)", c->ns, c->name, r->owner,
		    r->ttl_ms > 0 ? ", or its ttl" : "");
		return 0;
	}
	if (strcmp(r->host, c->me->host) != 0) {
		log_info("lock %s/%s is held by host %s, not this host (%s); left alone",
		    c->ns, c->name, r->host, c->me->host);
		return 0;
	}
	if (ident_check(r->pid, r->proc_start, r->boot_id, &why) == IDENT_ALIVE) {
		log_info("lock %s/%s is held by pid %ld on this host and %s; left alone",
		    c->ns, c->name, r->pid, why);
		return 0;
	}
	/* run's command outlived run (it should not: it dies with run): still in use. */
	if (r->cmd_pid > 0 &&
	    ident_check(r->cmd_pid, r->cmd_start, r->boot_id, &cwhy) == IDENT_ALIVE) {
		log_info("lock %s/%s is held by pid %ld on this host, which is gone, but its "
		    "command, pid %ld, still runs; left alone", c->ns, c->name, r->pid,
		    r->cmd_pid);
		return 0;
	}
	log_info("lock %s/%s: pid %ld: %s", c->ns, c->name, r->pid, why);
	return 1;
}

enum lock_outcome
lock_release(const struct lock_ctx *c)
{
	return free_loop(c, 0, decide_release, "released");
}

enum lock_outcome
lock_force_release(const struct lock_ctx *c)
{
	return free_loop(c, 1, decide_force, "force-released");
}

enum lock_outcome
lock_cleanup(const struct lock_ctx *c)
{
	enum lock_outcome	o = free_loop(c, 0, decide_cleanup, "cleaned up");

	if (o == LOCK_OK)
		lock_queue_cleanup(c);
	return o;
}

enum lock_outcome
lock_query(const struct lock_ctx *c)
{
	struct kube_cm		cm;
	struct record		r;
	enum lock_outcome	o = LOCK_OK;
	enum lock_state		st;
	const char		*why = "";
	char			*line = NULL;
	int			fails = 0;

	memset(&r, 0, sizeof(r));
	st = read_state(c, &cm, &r, &why, &fails, &o);
	if (st == STATE_FAILED)
		return o;
	if (st == STATE_CORRUPT)
		lock_report_corrupt(c, cm.holder, why);
	else if (st == STATE_HELD && (line = record_compact(cm.holder)) == NULL)
		log_error("out of memory");
	else
		printf("%s\n", st == STATE_FREE ? "{}" : line);
	o = (st == STATE_CORRUPT || (st == STATE_HELD && line == NULL)) ? LOCK_ERR : LOCK_OK;
	free(line);
	record_clear(&r);
	kube_cm_clear(&cm);
	if (o == LOCK_OK && (fflush(stdout) != 0 || ferror(stdout))) {
		log_error("cannot write the record to stdout: %s", strerror(errno));
		return LOCK_ERR;
	}
	return o;
}
