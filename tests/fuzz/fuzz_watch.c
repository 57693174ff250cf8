/*
 * fuzz_watch.c: a watch stream as the lock reads it. The input (after its first byte)
 * is a chunked response body; it goes through http_chunked_feed() in pieces, is split
 * into lines at '\n' as httpc_stream_line() does (HTTP_MAX_LINE per line, a stream
 * ending mid-line is an error), and every line is read as src/kube.c reads an event:
 * json_parse, "type", and for ADDED/MODIFIED the ConfigMap of "object" (resourceVersion,
 * data.holder and data.fence as strings, labels and annotations compacted), then the
 * holder's record as src/lock.c reads it (record_is_free, record_parse, record_compact);
 * for ERROR the Status's reason and message, sanitised for the log.
 *
 * The first byte picks the piece size (1..256 bytes in, and as many out) so that chunk
 * and line boundaries fall everywhere. Checks, beyond the sanitizers: decoding in
 * pieces gives the same bytes and verdict as decoding whole; lines hold no '\n' and
 * add up to the decoded bytes; a ConfigMap read has a non-empty resourceVersion; the
 * labels and annotations we would send back in a PUT (inside the ConfigMap object)
 * parse as JSON again when the event was JSON (json_strict.h: json.c's known findings
 * are fatal only with CARRIER_FUZZ_STRICT_JSON=1); a parsed holder is not a free lock;
 * sanitised text is printable ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "json.h"
#include "json_strict.h"
#include "log.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decodes in[0..len) step bytes at a time into out. Returns bytes out, -1 on error. */
static long
dechunk(const char *in, size_t len, size_t step, char *out, int *done)
{
	struct http_chunked	 c;
	const char		*err = NULL;
	size_t			 i = 0, o = 0, got;
	long			 n;

	memset(&c, 0, sizeof(c));
	while (i < len && !c.done) {
		size_t piece = len - i < step ? len - i : step;
		size_t room = len - o < step ? len - o : step;

		n = http_chunked_feed(&c, in + i, piece, out + o, room, &got, &err);
		if (n < 0)
			return err != NULL ? -1 : (abort(), -1);
		if ((size_t)n > piece || got > room || (n == 0 && got == 0 && !c.done))
			abort();
		i += (size_t)n;
		o += got;
	}
	*done = c.done;
	return (long)o;
}

static void
check_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			abort();
}

/* raw_dup of src/kube.c: the compact JSON of value i, which must parse again. */
static void
raw_dup_check(const struct json *j, int i, int strict)
{
	struct jbuf	 b = { 0 };
	struct json	*again;
	const char	*err;
	char		*s;
	size_t		 len;

	if (i < 0)
		return;
	jbuf_cstr(&b, "{\"labels\":");
	json_compact(j, i, &b);
	jbuf_cstr(&b, "}");
	if ((s = jbuf_done(&b, &len)) == NULL)
		abort();
	if ((again = json_parse(s, len, &err)) == NULL && (strict || json_strict_findings()))
		abort();
	json_free(again);
	free(s);
}

/* The holder as src/lock.c reads it. */
static void
holder_check(const char *holder)
{
	struct record	 r;
	const char	*why = NULL;
	char		*line;

	if (record_parse(holder, &r, &why) != 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (record_is_free(holder))
		abort();
	if ((line = record_compact(holder)) == NULL)
		abort();
	free(line);
	record_clear(&r);
}

/* cm_from_json of src/kube.c. */
static void
configmap_check(const struct json *j, int obj, int strict)
{
	int	 meta = json_get(j, obj, "metadata"), dat = json_get(j, obj, "data"), v;
	char	*rv, *holder = NULL, *fence = NULL;

	rv = json_str(j, json_get(j, meta, "resourceVersion"));
	if (rv == NULL || rv[0] == '\0')
		goto done;
	if ((v = json_get(j, dat, "holder")) >= 0 && (holder = json_str(j, v)) == NULL)
		goto done;
	if ((v = json_get(j, dat, "fence")) >= 0 && (fence = json_str(j, v)) == NULL)
		goto done;
	raw_dup_check(j, json_get(j, meta, "labels"), strict);
	raw_dup_check(j, json_get(j, meta, "annotations"), strict);
	if (holder != NULL && !record_is_free(holder))
		holder_check(holder);
done:
	free(rv);
	free(holder);
	free(fence);
}

/* report_status of src/kube.c. */
static void
status_check(const struct json *j, int obj)
{
	char	*reason = json_str(j, json_get(j, obj, "reason"));
	char	*message = json_str(j, json_get(j, obj, "message"));
	char	 rs[128], ms[512];

	if (message != NULL) {
		check_printable(log_sanitize(rs, sizeof(rs), reason ? reason : "",
		    reason ? strlen(reason) : 0));
		check_printable(log_sanitize(ms, sizeof(ms), message, strlen(message)));
	}
	free(reason);
	free(message);
}

static void
event_check(const char *line, size_t len)
{
	struct json	*j;
	const char	*err = NULL;
	char		*type;
	int		 strict;

	if ((j = json_parse(line, len, &err)) == NULL) {
		if (err == NULL)
			abort();
		return;
	}
	strict = json_strict(line, len);
	if (!strict && json_strict_findings())
		abort();	/* known finding: accepted text that is not JSON */
	type = json_str(j, json_get(j, 0, "type"));
	if (type != NULL && (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0))
		configmap_check(j, json_get(j, 0, "object"), strict);
	else if (type != NULL && strcmp(type, "ERROR") == 0)
		status_check(j, json_get(j, 0, "object"));
	free(type);
	json_free(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in;
	char		*whole, *pieces;
	long		 lw, lp;
	int		 dw = 0, dp = 0;
	size_t		 step, start, total = 0;

	if (size < 1)
		return 0;
	step = (size_t)data[0] + 1;
	in = (const char *)data + 1;
	size--;
	if ((whole = malloc(size + 1)) == NULL || (pieces = malloc(size + 1)) == NULL)
		abort();
	lw = dechunk(in, size, size ? size : 1, whole, &dw);
	lp = dechunk(in, size, step, pieces, &dp);
	if ((lw < 0) != (lp < 0) || (lw >= 0 && (lw != lp || dw != dp ||
	    memcmp(whole, pieces, (size_t)lw) != 0)))
		abort();
	if (lw < 0)
		goto done;
	/* Split as httpc_stream_line does: the line excludes its '\n'. */
	for (start = 0; start < (size_t)lw; ) {
		char	*nl = memchr(pieces + start, '\n', (size_t)lw - start);
		size_t	 len;

		if (nl == NULL)
			break;	/* the stream ended mid-line: an error, nothing is read */
		len = (size_t)(nl - (pieces + start));
		if (len > HTTP_MAX_LINE)
			break;
		*nl = '\0';
		if (memchr(pieces + start, '\n', len) != NULL)
			abort();
		event_check(pieces + start, len);
		total += len + 1;
		start += len + 1;
	}
	if (total > (size_t)lw)
		abort();
done:
	free(whole);
	free(pieces);
	return 0;
}
