/* record.c: see record.h. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "ident.h"
#include "json.h"
#include "record.h"
#include "text.h"

void
record_now(char *buf, size_t bufsz)
{
	struct timespec	ts;
	struct tm	tm;

	/* snprintf, not strftime: strftime links musl's time zone code (6 KiB) for UTC. */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, bufsz, "%04d-%02d-%02d %02d:%02d:%02d.%09ld +0000 UTC",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long)ts.tv_nsec);
}

char *
record_build(const struct ident *id, uint64_t token, const char *start_time,
    int64_t ttl_ms, uint64_t renewals, const struct ident *cmd,
    const struct record_info *info)
{
	struct jbuf	b = { 0 };
	char		num[32], now[64];

	if (start_time != NULL)
		snprintf(now, sizeof(now), "%s", start_time);
	else
		record_now(now, sizeof(now));
	jbuf_cstr(&b, "{\"host\":");
	jbuf_quotez(&b, id->host);
	snprintf(num, sizeof(num), "%ld", id->pid);
	jbuf_cstr(&b, ",\"pid\":");
	jbuf_quotez(&b, num);
	jbuf_cstr(&b, ",\"start-time\":");
	jbuf_quotez(&b, now);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)token);
	jbuf_cstr(&b, ",\"token\":");
	jbuf_cstr(&b, num);
	if (id->proc_start[0] != '\0') {
		jbuf_cstr(&b, ",\"proc-start\":");
		jbuf_quotez(&b, id->proc_start);
	}
	if (id->boot_id[0] != '\0') {
		jbuf_cstr(&b, ",\"boot-id\":");
		jbuf_quotez(&b, id->boot_id);
	}
	if (ttl_ms > 0) {
		jbuf_cstr(&b, ",\"ttl\":");
		jbuf_quotez(&b, duration_format(ttl_ms, num, sizeof(num)));
		snprintf(num, sizeof(num), "%llu", (unsigned long long)renewals);
		jbuf_cstr(&b, ",\"renewals\":");
		jbuf_cstr(&b, num);
	}
	if (cmd != NULL) {
		snprintf(num, sizeof(num), "%ld", cmd->pid);
		jbuf_cstr(&b, ",\"cmd-pid\":");
		jbuf_quotez(&b, num);
		if (cmd->proc_start[0] != '\0') {
			jbuf_cstr(&b, ",\"cmd-start\":");
			jbuf_quotez(&b, cmd->proc_start);
		}
	}
	if (info != NULL) {
		static const struct { const char *key; size_t off; } text[] = {
			{ "owner", offsetof(struct record_info, owner) },
			{ "reason", offsetof(struct record_info, reason) },
			{ "ci-url", offsetof(struct record_info, ci_url) },
			{ "ci-job", offsetof(struct record_info, ci_job) },
		};
		size_t i;

		for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
			const char *v = *(const char *const *)(const void *)
			    ((const char *)info + text[i].off);
			if (v == NULL)
				continue;
			jbuf_cstr(&b, ",\"");
			jbuf_cstr(&b, text[i].key);
			jbuf_cstr(&b, "\":");
			jbuf_quotez(&b, v);
		}
		if (info->keeper)
			jbuf_cstr(&b, ",\"keeper\":true");
		if (info->queue != NULL) {
			jbuf_cstr(&b, ",\"queue\":");
			jbuf_quotez(&b, info->queue);
		}
	}
	jbuf_cstr(&b, "}");
	return jbuf_done(&b, NULL);
}

static int
is_blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

int
record_is_free(const char *text)
{
	const char	*p;

	if (text == NULL)
		return 1;
	p = text + strspn(text, " \t\r\n");
	if (*p == '\0')
		return 1;
	if (*p++ != '{')
		return 0;
	p += strspn(p, " \t\r\n");
	if (*p++ != '}')
		return 0;
	return is_blank(p);
}

/* Optional string member: absent is fine, anything but a string is not. */
static int
opt_str(const struct json *j, const char *key, char **out)
{
	int	v = json_get(j, 0, key);

	*out = NULL;
	if (v < 0)
		return 0;
	return (*out = json_str(j, v)) == NULL ? -1 : 0;
}

int
record_parse(const char *text, struct record *r, const char **why)
{
	struct json	*j;
	const char	*err;
	char		*pid = NULL;
	int		 v;

	memset(r, 0, sizeof(*r));
	_Static_assert(RECORD_MAX_LEN == 4096, "the message below names the limit");
	if (strlen(text) > RECORD_MAX_LEN) {
		*why = "the record is longer than 4096 bytes";
		return -1;
	}
	if ((j = json_parse(text, strlen(text), &err)) == NULL) {
		*why = "the record is not JSON";
		return -1;
	}
	if (json_type(j, 0) != JSON_OBJECT) {
		*why = "the record is not a JSON object";
		goto bad;
	}
	if (json_dup_keys(j, 0)) {
		*why = "the record has a key twice";
		goto bad;
	}
	if ((r->host = json_str(j, json_get(j, 0, "host"))) == NULL || r->host[0] == '\0') {
		*why = "the record has no \"host\" string";
		goto bad;
	}
	if ((pid = json_str(j, json_get(j, 0, "pid"))) == NULL || text_pid(pid, &r->pid) != 0) {
		*why = "the record has no \"pid\" string of digits";
		goto bad;
	}
	if ((r->start_time = json_str(j, json_get(j, 0, "start-time"))) == NULL) {
		*why = "the record has no \"start-time\" string";
		goto bad;
	}
	if ((v = json_get(j, 0, "token")) >= 0 && json_uint(j, v, &r->token) != 0) {
		*why = "the record's \"token\" is not a non-negative integer";
		goto bad;
	}
	if ((v = json_get(j, 0, "renewals")) >= 0 && json_uint(j, v, &r->renewals) != 0) {
		*why = "the record's \"renewals\" is not a non-negative integer";
		goto bad;
	}
	if ((v = json_get(j, 0, "ttl")) >= 0) {
		char *ttl = json_str(j, v);
		int ok = ttl != NULL && duration_parse(ttl, &r->ttl_ms) == 0 && r->ttl_ms > 0;
		free(ttl);
		if (!ok) {
			*why = "the record's \"ttl\" is not a positive duration";
			goto bad;
		}
	}
	if (opt_str(j, "proc-start", &r->proc_start) != 0 ||
	    opt_str(j, "boot-id", &r->boot_id) != 0 ||
	    opt_str(j, "cmd-start", &r->cmd_start) != 0) {
		*why = "the record's \"proc-start\", \"boot-id\" or \"cmd-start\" is not a "
		    "string";
		goto bad;
	}
	if (opt_str(j, "owner", &r->owner) != 0 || opt_str(j, "reason", &r->reason) != 0 ||
	    opt_str(j, "ci-url", &r->ci_url) != 0 || opt_str(j, "ci-job", &r->ci_job) != 0 ||
	    opt_str(j, "queue", &r->queue) != 0) {
		*why = "the record's \"owner\", \"reason\", \"ci-url\", \"ci-job\" or \"queue\" "
		    "is not a string";
		goto bad;
	}
	if ((v = json_get(j, 0, "keeper")) >= 0) {
		size_t		 len;
		const char	*raw = json_raw(j, v, &len);

		if (json_type(j, v) != JSON_PRIMITIVE || len != 4 || memcmp(raw, "true", 4) != 0) {
			*why = "the record's \"keeper\" is not true";
			goto bad;
		}
		r->keeper = 1;
	}
	if ((v = json_get(j, 0, "cmd-pid")) >= 0) {
		char *cmd = json_str(j, v);
		int ok = cmd != NULL && text_pid(cmd, &r->cmd_pid) == 0;
		free(cmd);
		if (!ok) {
			*why = "the record's \"cmd-pid\" is not a string of digits";
			goto bad;
		}
	}
	free(pid);
	json_free(j);
	return 0;
bad:
	free(pid);
	json_free(j);
	record_clear(r);
	return -1;
}

void
record_clear(struct record *r)
{
	free(r->host);
	free(r->start_time);
	free(r->proc_start);
	free(r->boot_id);
	free(r->cmd_start);
	free(r->owner);
	free(r->reason);
	free(r->ci_url);
	free(r->ci_job);
	free(r->queue);
	memset(r, 0, sizeof(*r));
}

char *
record_compact(const char *text)
{
	struct json	*j;
	struct jbuf	 b = { 0 };
	const char	*err;

	if ((j = json_parse(text, strlen(text), &err)) == NULL)
		return NULL;
	json_compact(j, 0, &b);
	json_free(j);
	return jbuf_done(&b, NULL);
}
