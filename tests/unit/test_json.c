/*
 * test_json.c: JSON reading and writing, and lock records, driven by
 * tests/data/json/records.txt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "json.h"
#include "record.h"
#include "test.h"

static void
records_file(void)
{
	FILE	*f = fopen("tests/data/json/records.txt", "r");
	char	 line[8192], descr[256];
	int	 n = 0;

	test_cond("records file opens", f != NULL);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		struct record	 r;
		const char	*why;
		char		*tab, host[128];
		long		 pid;
		unsigned long long token;
		int		 rc;

		if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		line[strcspn(line, "\n")] = '\0';
		*tab = '\0';
		n++;
		rc = record_parse(tab + 1, &r, &why);
		snprintf(descr, sizeof(descr), "record line %d: %.200s", n, line);
		if (strcmp(line, "bad") == 0) {
			test_cond(descr, rc == -1);
			continue;
		}
		if (sscanf(line, "ok %127s %ld %llu", host, &pid, &token) != 3) {
			test_cond("malformed expectation", 0);
			continue;
		}
		test_cond(descr, rc == 0 && strcmp(r.host, host) == 0 && r.pid == pid &&
		    r.token == token);
		if (rc == 0)
			record_clear(&r);
	}
	fclose(f);
	test_cond("at least 25 record cases", n >= 25);
}

static void
build_roundtrip(void)
{
	struct ident	 id;
	struct record	 r;
	const char	*why;
	char		*text;

	memset(&id, 0, sizeof(id));
	strcpy(id.host, "host\"with\\quote");
	id.pid = 4242;
	strcpy(id.proc_start, "777");
	strcpy(id.boot_id, "0f0e0d0c-0000-4000-8000-000000000001");
	{
		struct ident	cmd = id;

		cmd.pid = 4343;
		strcpy(cmd.proc_start, "778");
		text = record_build(&id, 13, NULL, 0, 0, &cmd, NULL);
		test_cond("record with a command builds and parses", text != NULL &&
		    record_parse(text, &r, &why) == 0);
		test_cond("cmd-pid and cmd-start round-trip", text != NULL && r.cmd_pid == 4343 &&
		    r.cmd_start != NULL && strcmp(r.cmd_start, "778") == 0);
		if (text != NULL)
			record_clear(&r);
		free(text);
		test_cond("a cmd-pid that is not digits is refused",
		    record_parse("{\"host\":\"h\",\"pid\":\"1\",\"start-time\":\"t\","
		    "\"cmd-pid\":\"x\"}", &r, &why) == -1 && strstr(why, "cmd-pid") != NULL);
	}
	{
		struct record_info info = { "job \"7\"", 1, "perf", "https://ci/1", "j #1",
		    "lk-x7k2q" };

		text = record_build(&id, 14, NULL, 0, 0, NULL, &info);
		test_cond("record with holder details builds and parses", text != NULL &&
		    record_parse(text, &r, &why) == 0);
		test_cond("owner, keeper, reason, ci-url, ci-job round-trip", text != NULL &&
		    strcmp(r.owner, "job \"7\"") == 0 && r.keeper == 1 &&
		    strcmp(r.reason, "perf") == 0 && strcmp(r.ci_url, "https://ci/1") == 0 &&
		    strcmp(r.ci_job, "j #1") == 0);
		test_cond("a grant's queue (its waiter's Lease) round-trips", text != NULL &&
		    r.queue != NULL && strcmp(r.queue, "lk-x7k2q") == 0);
		test_cond("holder details come after host, pid, start-time", text != NULL &&
		    strncmp(text, "{\"host\":", 8) == 0 && strstr(text, "\"owner\"") >
		    strstr(text, "\"start-time\""));
		if (text != NULL)
			record_clear(&r);
		free(text);
		test_cond("a keeper that is not true is refused",
		    record_parse("{\"host\":\"h\",\"pid\":\"1\",\"start-time\":\"t\","
		    "\"keeper\":1}", &r, &why) == -1 && strstr(why, "keeper") != NULL);
	}
	text = record_build(&id, 12, NULL, 0, 0, NULL, NULL);
	test_cond("record builds", text != NULL);
	if (text == NULL)
		return;
	test_cond("record starts with host, pid, start-time",
	    strncmp(text, "{\"host\":\"host\\\"with\\\\quote\",\"pid\":\"4242\",\"start-time\":\"", 55) == 0);
	test_cond("record is one line", strchr(text, '\n') == NULL);
	test_cond("record parses back", record_parse(text, &r, &why) == 0);
	test_cond("host round-trips", strcmp(r.host, id.host) == 0);
	test_cond("pid, token, proc-start, boot-id round-trip", r.pid == 4242 && r.token == 12 &&
	    strcmp(r.proc_start, "777") == 0 && strcmp(r.boot_id, id.boot_id) == 0);
	test_cond("start-time has the original layout", strlen(r.start_time) == 39 &&
	    strcmp(r.start_time + 29, " +0000 UTC") == 0 && r.start_time[19] == '.');
	record_clear(&r);
	free(text);
}

static void
json_basics(void)
{
	const char	*err, *doc = "{\"a\":{\"b\":[1,2,{\"c\":\"d\"}]},\"e\":\"\\u00e9\\n\",\"f\":true}";
	struct json	*j = json_parse(doc, strlen(doc), &err);
	struct jbuf	 b = { 0 };
	char		*s;

	test_cond("document parses", j != NULL);
	if (j == NULL)
		return;
	test_cond("nested get skips subtrees", json_get(j, 0, "f") > 0 &&
	    json_type(j, json_get(j, 0, "f")) == JSON_PRIMITIVE);
	s = json_str(j, json_get(j, 0, "e"));
	test_cond("escapes decode to UTF-8", s != NULL && strcmp(s, "\xc3\xa9\n") == 0);
	free(s);
	test_cond("missing key is -1", json_get(j, 0, "zz") == -1);
	test_cond("get on non-object is -1", json_get(j, json_get(j, 0, "f"), "a") == -1);
	json_compact(j, 0, &b);
	s = jbuf_done(&b, NULL);
	test_cond("compact keeps the document", s != NULL && strcmp(s, doc) == 0);
	free(s);
	json_free(j);

	/* DEL and C1 controls (raw in JSON, obeyed by terminals) come out escaped. */
	doc = "{\"t\":\"a\x7f\xc2\x9b[2J\xc2\xa0\xc3\xa9\\u009b\"}";
	j = json_parse(doc, strlen(doc), &err);
	test_cond("DEL and C1 parse raw", j != NULL);
	if (j == NULL)
		return;
	memset(&b, 0, sizeof(b));
	json_compact(j, 0, &b);
	s = jbuf_done(&b, NULL);
	test_cond("compact escapes DEL and C1, keeps other UTF-8 and escapes", s != NULL &&
	    strcmp(s, "{\"t\":\"a\\u007f\\u009b[2J\xc2\xa0\xc3\xa9\\u009b\"}") == 0);
	json_free(j);
	if (s != NULL && (j = json_parse(s, strlen(s), &err)) != NULL) {
		char *t = json_str(j, json_get(j, 0, "t"));
		test_cond("the escaped string decodes to the same bytes", t != NULL &&
		    strcmp(t, "a\x7f\xc2\x9b[2J\xc2\xa0\xc3\xa9\xc2\x9b") == 0);
		free(t);
		json_free(j);
	}
	free(s);

	jbuf_quotez(&b, "a\"b\\c\n\x01");
	s = jbuf_done(&b, NULL);
	test_cond("quote escapes quotes, backslashes and controls",
	    s != NULL && strcmp(s, "\"a\\\"b\\\\c\\u000a\\u0001\"") == 0);
	free(s);

	test_cond("trailing garbage refused", json_parse("{} x", 4, &err) == NULL);
	test_cond("two values refused", json_parse("{}{}", 4, &err) == NULL);
	test_cond("truncated refused", json_parse("{\"a\":", 5, &err) == NULL);
	test_cond("NUL refused", json_parse("{\"a\0\":1}", 8, &err) == NULL);
	{
		char deep[300];
		memset(deep, '[', 150);
		memset(deep + 150, ']', 150);
		test_cond("nesting past the limit refused", json_parse(deep, 300, &err) == NULL);
	}
	test_cond("free detection", record_is_free(NULL) && record_is_free("") &&
	    record_is_free(" { } ") && !record_is_free("{\"a\":1}") && !record_is_free("x"));
}

int
main(void)
{
	records_file();
	build_roundtrip();
	json_basics();
	return test_report();
}
