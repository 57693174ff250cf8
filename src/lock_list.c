/* lock_list.c: `carrier-lock list [-A]`, every lock with its holder and queue (lock.h). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "duration.h"
#include "json.h"
#include "kube.h"
#include "lock.h"
#include "lock_int.h"
#include "log.h"
#include "record.h"
#include "timefmt.h"

#define LIST_COLS	7	/* NAMESPACE NAME HOLDER HELD TOKEN TTL REASON */
#define LIST_CELL	160	/* a cell's text, sanitised, cut with "..." */

struct list_row {
	char	cell[LIST_COLS][LIST_CELL + 4];
};

struct list_out {
	int		 tty;
	int		 all;
	struct list_row	*rows;
	size_t		 n, cap;
	int64_t		 now;		/* the server's Date, else our clock (epoch s) */
	int		 failed;	/* out of memory or a write failed */
};

/* A ConfigMap that carrier-lock keeps a lock in: it has a holder or a counter. */
static int
is_lock(const struct kube_cm *cm)
{
	return cm->holder != NULL || cm->fence != NULL;
}

/*
 * Seconds since the epoch of a record's start-time ("2021-11-11 11:35:06.5 +0000 UTC",
 * Go's time.String of a UTC time), or 0 when it is not one: its date and time are read
 * as the RFC 3339 "2021-11-11T11:35:06Z" they are.
 */
static int64_t
start_epoch(const char *s)
{
	char	buf[21];
	int64_t	t;

	if (strlen(s) < 19 || s[10] != ' ')
		return 0;
	memcpy(buf, s, 19);
	buf[10] = 'T';
	buf[19] = 'Z';
	buf[20] = '\0';
	return timefmt_rfc3339(buf, 20, &t) == 0 ? t : 0;
}

/* "3m2s" for the seconds from then to now, or "" when either is unknown. */
static const char *
since(int64_t then, int64_t now, char *buf, size_t bufsz)
{
	buf[0] = '\0';
	if (then > 0 && now >= then)
		duration_format((now - then) * 1000, buf, bufsz);
	return buf;
}

static struct list_row *
row_add(struct list_out *o)
{
	struct list_row	*r;

	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		if (cap > SIZE_MAX / sizeof(*r) ||
		    (r = realloc(o->rows, cap * sizeof(*r))) == NULL) {
			o->failed = 1;
			return NULL;
		}
		o->rows = r;
		o->cap = cap;
	}
	r = &o->rows[o->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static void
cell(struct list_row *r, int i, const char *s)
{
	if (s != NULL)
		log_sanitize(r->cell[i], sizeof(r->cell[i]), s, strlen(s));
}

/* One JSON line: the lock, its record as stored (compact, escaped), its queue. */
static void
json_line(struct list_out *o, const char *ns, const char *name, const struct kube_cm *cm,
    const struct record *r, struct kube_lease **q, size_t qn)
{
	struct jbuf	 b = { 0 };
	char		*rec = NULL, *line, num[32], held[64];
	size_t		 i;

	jbuf_cstr(&b, "{\"namespace\":");
	jbuf_quotez(&b, ns);
	jbuf_cstr(&b, ",\"name\":");
	jbuf_quotez(&b, name);
	jbuf_cstr(&b, ",\"holder\":");
	if (r != NULL && (rec = record_compact(cm->holder)) != NULL)
		jbuf_cstr(&b, rec);
	else if (!record_is_free(cm->holder)) {
		jbuf_cstr(&b, "{\"corrupt\":");
		jbuf_quotez(&b, cm->holder);
		jbuf_cstr(&b, "}");
	} else
		jbuf_cstr(&b, "null");
	free(rec);
	if (r != NULL && since(start_epoch(r->start_time), o->now, held, sizeof(held))[0]) {
		jbuf_cstr(&b, ",\"held-for\":");
		jbuf_quotez(&b, held);
	}
	jbuf_cstr(&b, ",\"queue\":[");
	for (i = 0; i < qn; i++) {
		struct record	 w;
		const char	*why;

		if (record_parse(q[i]->record, &w, &why) != 0)
			continue;
		snprintf(num, sizeof(num), "%zu", i + 1);
		jbuf_cstr(&b, i > 0 ? ",{\"position\":" : "{\"position\":");
		jbuf_cstr(&b, num);
		jbuf_cstr(&b, ",\"host\":");
		jbuf_quotez(&b, w.host);
		snprintf(num, sizeof(num), "%ld", w.pid);
		jbuf_cstr(&b, ",\"pid\":");
		jbuf_quotez(&b, num);
		jbuf_cstr(&b, ",\"waiting-since\":");
		jbuf_quotez(&b, w.start_time);
		if (w.reason != NULL) {
			jbuf_cstr(&b, ",\"reason\":");
			jbuf_quotez(&b, w.reason);
		}
		if (w.ci_url != NULL) {
			jbuf_cstr(&b, ",\"ci-url\":");
			jbuf_quotez(&b, w.ci_url);
		}
		jbuf_cstr(&b, ",\"lease\":");
		jbuf_quotez(&b, q[i]->name);
		jbuf_cstr(&b, "}");
		record_clear(&w);
	}
	jbuf_cstr(&b, "]}");
	if ((rec = jbuf_done(&b, NULL)) == NULL || (line = record_compact(rec)) == NULL) {
		/* record_compact also escapes DEL and C1, as query does. */
		free(rec);
		o->failed = 1;
		return;
	}
	if (printf("%s\n", line) < 0)
		o->failed = 1;
	free(line);
	free(rec);
}

/* Table rows: the lock, then one per waiter ("1st  host pid  waiting 3m0s  reason"). */
static void
table_rows(struct list_out *o, const char *ns, const char *name, const struct kube_cm *cm,
    const struct record *r, struct kube_lease **q, size_t qn)
{
	struct list_row	*row;
	char		 buf[IDENT_MAX_HOST + 32], held[64];
	size_t		 i;

	if ((row = row_add(o)) == NULL)
		return;
	cell(row, 0, ns);
	cell(row, 1, name);
	if (r != NULL) {
		snprintf(buf, sizeof(buf), "%s pid %ld", r->host, r->pid);
		cell(row, 2, buf);
		cell(row, 3, since(start_epoch(r->start_time), o->now, held, sizeof(held)));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->token);
		cell(row, 4, buf);
		cell(row, 5, r->ttl_ms > 0 ? duration_format(r->ttl_ms, buf, sizeof(buf)) : "-");
		cell(row, 6, r->reason != NULL ? r->reason : r->ci_url != NULL ? r->ci_url :
		    r->ci_job != NULL ? r->ci_job : "-");
	} else
		cell(row, 2, record_is_free(cm->holder) ? "(free)" : "(corrupt record)");
	for (i = 0; i < qn; i++) {
		struct record	 w;
		const char	*why;
		char		 nth[32];

		if (record_parse(q[i]->record, &w, &why) != 0 || (row = row_add(o)) == NULL)
			continue;
		snprintf(nth, sizeof(nth), "  #%zu in line", i + 1);
		cell(row, 1, nth);
		snprintf(buf, sizeof(buf), "%s pid %ld", w.host, w.pid);
		cell(row, 2, buf);
		snprintf(buf, sizeof(buf), "waiting %s", since(q[i]->created, o->now, held,
		    sizeof(held)));
		cell(row, 3, buf);
		cell(row, 6, w.reason != NULL ? w.reason : w.ci_url);
		record_clear(&w);
	}
}

static void
table_print(struct list_out *o)
{
	static const char *head[LIST_COLS] = { "NAMESPACE", "NAME", "HOLDER", "HELD",
	    "TOKEN", "TTL", "REASON" };
	size_t	w[LIST_COLS], i;
	int	c, first = o->all ? 0 : 1;

	for (c = 0; c < LIST_COLS; c++)
		w[c] = strlen(head[c]);
	for (i = 0; i < o->n; i++)
		for (c = 0; c < LIST_COLS; c++)
			if (strlen(o->rows[i].cell[c]) > w[c])
				w[c] = strlen(o->rows[i].cell[c]);
	for (c = first; c < LIST_COLS; c++)
		printf("%-*s%s", c < LIST_COLS - 1 ? (int)w[c] : 0, head[c],
		    c < LIST_COLS - 1 ? "   " : "\n");
	for (i = 0; i < o->n; i++)
		for (c = first; c < LIST_COLS; c++)
			printf("%-*s%s", c < LIST_COLS - 1 ? (int)w[c] : 0, o->rows[i].cell[c],
			    c < LIST_COLS - 1 ? "   " : "\n");
}

enum lock_outcome
lock_list(const struct lock_ctx *c, int all)
{
	struct kube_cms		 cms;
	struct kube_leases	 ls;
	struct list_out		 o;
	struct kube_lease	**q = NULL;
	enum lock_outcome	 out = LOCK_ERR;
	enum kube_rc		 rc;
	size_t			 i, k;

	memset(&o, 0, sizeof(o));
	o.tty = isatty(STDOUT_FILENO);
	o.all = all;
	if ((rc = kube_cm_list_all(c->kb, all ? NULL : c->ns, &cms)) != KUBE_OK)
		return rc == KUBE_INTR ? LOCK_INTERRUPTED : LOCK_ERR;
	if ((rc = kube_lease_list(c->kb, all ? NULL : c->ns, NULL, 0, &ls)) != KUBE_OK) {
		kube_cms_clear(&cms);
		return rc == KUBE_INTR ? LOCK_INTERRUPTED : LOCK_ERR;
	}
	o.now = cms.server_now > 0 ? cms.server_now : (int64_t)time(NULL);
	if (ls.n > 0 && (q = calloc(ls.n, sizeof(*q))) == NULL) {
		log_error("out of memory");
		goto done;
	}
	for (i = 0; i < cms.n; i++) {
		const struct kube_cm_entry	*e = &cms.v[i];
		struct record			 r;
		const char			*why;
		size_t				 qn = 0;
		int				 held;

		if (!is_lock(&e->cm))
			continue;
		for (k = 0; k < ls.n; k++)
			if (strcmp(ls.v[k].ns, e->ns) == 0 &&
			    lock_queue_in_line(e->name, &ls.v[k], ls.server_now))
				q[qn++] = &ls.v[k];
		if (qn > 1)
			qsort(q, qn, sizeof(*q), lock_queue_cmp);
		held = !record_is_free(e->cm.holder) && record_parse(e->cm.holder, &r, &why) == 0;
		if (o.tty)
			table_rows(&o, e->ns, e->name, &e->cm, held ? &r : NULL, q, qn);
		else
			json_line(&o, e->ns, e->name, &e->cm, held ? &r : NULL, q, qn);
		if (held)
			record_clear(&r);
	}
	if (o.tty && !o.failed)
		table_print(&o);
	if (o.failed || fflush(stdout) != 0 || ferror(stdout))
		log_error("cannot write the list to stdout: %s", errno ? strerror(errno) :
		    "out of memory");
	else
		out = LOCK_OK;
done:
	free(q);
	free(o.rows);
	kube_leases_clear(&ls);
	kube_cms_clear(&cms);
	return out;
}
