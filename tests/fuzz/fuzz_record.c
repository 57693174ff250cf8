/*
 * fuzz_record.c: the holder's record as the lock reads it from the ConfigMap's
 * data.holder (record_is_free, record_parse, record_compact), over arbitrary text.
 *
 * Checks, beyond the sanitizers: a failure has a reason and leaves the record zeroed;
 * a free lock never parses as a holder; a parsed record has a non-empty host, a PID in
 * 1..2^31-1, a start time and a positive ttl when it has one; record_compact is
 * idempotent, and its output is free exactly when the input is, and parses to the same
 * fields; a parsed record written again with record_build parses back to itself.
 * Text that is not JSON (json_strict.h) must not parse as a record: the known cases
 * where it does are findings, fatal only with CARRIER_FUZZ_STRICT_JSON=1, and the
 * compaction checks are kept for real JSON.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "json_strict.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL || a[0] == '\0') && (b == NULL || b[0] == '\0');
	return strcmp(a, b) == 0;
}

static int
same(const struct record *a, const struct record *b)
{
	return strcmp(a->host, b->host) == 0 && a->pid == b->pid &&
	    strcmp(a->start_time, b->start_time) == 0 && a->token == b->token &&
	    str_same(a->proc_start, b->proc_start) && str_same(a->boot_id, b->boot_id) &&
	    a->ttl_ms == b->ttl_ms && (a->ttl_ms == 0 || a->renewals == b->renewals) &&
	    a->cmd_pid == b->cmd_pid && (a->cmd_pid == 0 || str_same(a->cmd_start, b->cmd_start)) &&
	    str_same(a->owner, b->owner) && a->keeper == b->keeper &&
	    str_same(a->reason, b->reason) && str_same(a->ci_url, b->ci_url) &&
	    str_same(a->ci_job, b->ci_job) && str_same(a->queue, b->queue);
}

static int
zeroed(const struct record *r)
{
	static const struct record zero;

	return memcmp(r, &zero, sizeof(zero)) == 0;
}

/* Writes r again as the lock would (record_build) and checks it reads back the same. */
static void
rebuild(const struct record *r)
{
	struct ident	 id, cmd;
	struct record_info info;
	struct record	 back;
	const char	*why = NULL;
	char		*text;

	/* record_build keeps start times of up to 63 bytes (its own are 39). */
	if (strlen(r->host) > IDENT_MAX_HOST || strlen(r->start_time) > 63 ||
	    (r->proc_start != NULL && strlen(r->proc_start) >= sizeof(id.proc_start)) ||
	    (r->boot_id != NULL && strlen(r->boot_id) >= sizeof(id.boot_id)) ||
	    (r->cmd_start != NULL && strlen(r->cmd_start) >= sizeof(cmd.proc_start)))
		return;
	memset(&id, 0, sizeof(id));
	memcpy(id.host, r->host, strlen(r->host) + 1);
	id.pid = r->pid;
	if (r->proc_start != NULL)
		memcpy(id.proc_start, r->proc_start, strlen(r->proc_start) + 1);
	if (r->boot_id != NULL)
		memcpy(id.boot_id, r->boot_id, strlen(r->boot_id) + 1);
	memset(&cmd, 0, sizeof(cmd));
	cmd.pid = r->cmd_pid;
	if (r->cmd_start != NULL)
		memcpy(cmd.proc_start, r->cmd_start, strlen(r->cmd_start) + 1);
	info.owner = r->owner;
	info.keeper = r->keeper;
	info.reason = r->reason;
	info.ci_url = r->ci_url;
	info.ci_job = r->ci_job;
	info.queue = r->queue;
	if ((text = record_build(&id, r->token, r->start_time, r->ttl_ms, r->renewals,
	    r->cmd_pid != 0 ? &cmd : NULL, &info)) == NULL)
		abort();
	if (strlen(text) <= RECORD_MAX_LEN) {
		if (record_parse(text, &back, &why) != 0 || !same(r, &back))
			abort();
		record_clear(&back);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record	 r, r2;
	const char	*why = NULL;
	char		*text, *c1, *c2;
	int		 is_free, parsed, strict;

	if ((text = malloc(size + 1)) == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	strict = json_strict(text, strlen(text));
	is_free = record_is_free(text);
	parsed = record_parse(text, &r, &why) == 0;
	if (!parsed) {
		if (why == NULL || why[0] == '\0' || !zeroed(&r))
			abort();
	} else {
		if (is_free)
			abort();
		if (r.host == NULL || r.host[0] == '\0' || r.pid <= 0 || r.pid > 0x7fffffff ||
		    r.start_time == NULL || r.ttl_ms < 0)
			abort();
		if (strlen(text) > RECORD_MAX_LEN)
			abort();
		if (!strict && json_strict_findings())
			abort();	/* known finding: a record from text that is not JSON */
		rebuild(&r);
	}
	if (!strict) {
		/* Only for the sanitizers: the checks below assume JSON. */
		free(record_compact(text));
		if (parsed)
			record_clear(&r);
		free(text);
		return 0;
	}

	if ((c1 = record_compact(text)) != NULL) {
		/* query prints the compacted record as its one line of output. */
		if (strchr(c1, '\n') != NULL ||
		    strlen(c1) > strlen(text) + json_compact_growth(text, strlen(text)))
			abort();
		if ((c2 = record_compact(c1)) == NULL) {
			/* Known finding (json_strict.h): " 5 " compacts to "5", refused. */
			if (strchr("{[\"", c1[0]) != NULL || json_strict_findings())
				abort();
			free(c1);
			if (parsed)
				record_clear(&r);
			free(text);
			return 0;
		}
		if (strcmp(c1, c2) != 0)
			abort();
		if (record_is_free(c1) != is_free)
			abort();
		if (parsed && strlen(c1) > RECORD_MAX_LEN) {
			/* Escaped DEL and C1 made it longer: printed by query, never stored. */
		} else if (parsed) {
			if (record_parse(c1, &r2, &why) != 0 || !same(&r, &r2))
				abort();
			record_clear(&r2);
		} else if (strlen(text) <= RECORD_MAX_LEN && record_parse(c1, &r2, &why) == 0)
			abort();	/* compacting must not make a bad record good */
		free(c2);
		free(c1);
	} else if (parsed)
		abort();	/* a record that parses is JSON, and compacts */
	if (parsed)
		record_clear(&r);
	free(text);
	return 0;
}
