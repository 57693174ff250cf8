/*
 * test_http.c: the HTTP codec (src/http.c), driven by the case files in tests/data/http.
 *
 * A case file holds "expect KEY VALUE" lines, a "---" line, then the raw response in
 * an escaped text form where file newlines are ignored and these escapes stand for
 * bytes: \r \n \t \0 \\ \xHH, and \{N:c} for the byte c repeated N times. Keys:
 *   status N | length N|none | chunked 0|1 | close 0|1 | retry N | body ESCAPED
 *   error SUBSTRING       http_head_parse() must fail with a message holding it
 *   body-error SUBSTRING  the head parses; reading the body must fail so ("truncated"
 *                         when the input ends before the body does)
 * Good cases are also fed split at every byte (head and chunked body), byte by byte,
 * and decoded in place; each must give the same result as the one-shot parse.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "test.h"
#include "utf8.h"
#include "version.h"

#define DATA_DIR	"tests/data/http"
#define MAX_CASES	256

struct tcase {
	char		 name[256];
	int		 status, chunked, close, has_chunked, has_close;
	long long	 length;	/* -2 unset, -1 none */
	long		 retry;		/* -1 unset */
	char		*body;
	size_t		 bodylen;
	int		 has_body;
	char		 err[200], berr[200];
	char		*raw;
	size_t		 rawlen;
};

struct result {
	long		 headlen;
	struct http_head h;
	char		 err[256];	/* head or body error; "" if none */
	int		 body_failed;
	char		*body;
	size_t		 bodylen;
};

/* One hex digit, or -1 (src/utf8.c does the decoding). */
static int
hexval(int c)
{
	char	ch = (char)c;

	return (int)utf8_hex(&ch, 1, 1);
}

/* Decodes the escaped form of s[0..n) into a malloc'd buffer; NULL on bad syntax. */
static char *
unescape(const char *s, size_t n, size_t *outlen)
{
	size_t	 cap = 256, o = 0, i = 0;
	char	*out = malloc(cap);

	while (out != NULL && i < n) {
		char	 one;
		size_t	 rep = 1;

		if (s[i] == '\n') {
			i++;
			continue;
		}
		if (s[i] != '\\') {
			one = s[i++];
		} else if (i + 1 >= n) {
			goto bad;
		} else {
			char e = s[i + 1];

			i += 2;
			if (e == 'r')
				one = '\r';
			else if (e == 'n')
				one = '\n';
			else if (e == 't')
				one = '\t';
			else if (e == '0')
				one = '\0';
			else if (e == '\\')
				one = '\\';
			else if (e == 'x' && i + 1 < n && hexval(s[i]) >= 0 && hexval(s[i + 1]) >= 0) {
				one = (char)(hexval(s[i]) * 16 + hexval(s[i + 1]));
				i += 2;
			} else if (e == '{') {
				char *end;

				rep = strtoul(s + i, &end, 10);
				if (*end != ':' || (size_t)(end - s) + 2 >= n || end[2] != '}')
					goto bad;
				one = end[1];
				i = (size_t)(end - s) + 3;
			} else
				goto bad;
		}
		while (o + rep + 1 > cap) {
			char *t = realloc(out, cap * 2);

			if (t == NULL)
				goto bad;
			out = t;
			cap *= 2;
		}
		memset(out + o, one, rep);
		o += rep;
	}
	if (out == NULL)
		return NULL;
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

static int
case_load(const char *file, struct tcase *tc)
{
	char	 path[512], *text, *sep, *line, *next;
	size_t	 len;

	memset(tc, 0, sizeof(*tc));
	tc->status = -1;
	tc->length = -2;
	tc->retry = -1;
	snprintf(tc->name, sizeof(tc->name), "%s", file);
	snprintf(path, sizeof(path), "%s/%s", DATA_DIR, file);
	if ((text = test_slurp(path, &len)) == NULL)
		return -1;
	if ((sep = strstr(text, "\n---\n")) == NULL) {
		free(text);
		return -1;
	}
	*sep = '\0';
	tc->raw = unescape(sep + 5, len - (size_t)(sep + 5 - text), &tc->rawlen);
	for (line = text; line != NULL && *line != '\0'; line = next) {
		char	*val;

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line == '#' || strncmp(line, "expect ", 7) != 0)
			continue;
		line += 7;
		if ((val = strchr(line, ' ')) == NULL)
			val = line + strlen(line);
		else
			*val++ = '\0';
		if (strcmp(line, "status") == 0)
			tc->status = atoi(val);
		else if (strcmp(line, "length") == 0)
			tc->length = strcmp(val, "none") == 0 ? -1 : atoll(val);
		else if (strcmp(line, "chunked") == 0) {
			tc->chunked = atoi(val);
			tc->has_chunked = 1;
		} else if (strcmp(line, "close") == 0) {
			tc->close = atoi(val);
			tc->has_close = 1;
		} else if (strcmp(line, "retry") == 0)
			tc->retry = atol(val);
		else if (strcmp(line, "body") == 0) {
			tc->body = unescape(val, strlen(val), &tc->bodylen);
			tc->has_body = tc->body != NULL;
		} else if (strcmp(line, "error") == 0)
			snprintf(tc->err, sizeof(tc->err), "%s", val);
		else if (strcmp(line, "body-error") == 0)
			snprintf(tc->berr, sizeof(tc->berr), "%s", val);
	}
	free(text);
	return tc->raw == NULL ? -1 : 0;
}

/*
 * Decodes a chunked body from in[0..inlen), fed in pieces of at most step bytes into
 * an output buffer of at most outstep bytes per call. Returns 0 when the last chunk
 * was reached, 1 when input ran out first, -1 on error (*err set).
 */
static int
chunked_all(const char *in, size_t inlen, size_t step, size_t outstep, char *out,
    size_t *outlen, const char **err)
{
	struct http_chunked	c;
	size_t			i = 0, o = 0;

	memset(&c, 0, sizeof(c));
	*err = NULL;
	while (i < inlen && !c.done) {
		size_t	piece = inlen - i < step ? inlen - i : step;
		size_t	got;
		long	n;

		n = http_chunked_feed(&c, in + i, piece, out + o, outstep, &got, err);
		if (n < 0)
			return -1;
		if (n == 0 && got == 0 && !c.done) {
			*err = "decoder made no progress";
			return -1;
		}
		i += (size_t)n;
		o += got;
	}
	*outlen = o;
	return c.done ? 0 : 1;
}

static void
run_once(const struct tcase *tc, struct result *r)
{
	const char	*err = NULL;
	size_t		 rest;

	memset(r, 0, sizeof(*r));
	r->headlen = http_head_parse(tc->raw, tc->rawlen, &r->h, &err);
	if (r->headlen <= 0) {
		snprintf(r->err, sizeof(r->err), "%s",
		    r->headlen == 0 ? "incomplete head" : err ? err : "(no message)");
		return;
	}
	rest = tc->rawlen - (size_t)r->headlen;
	r->body = malloc(rest + 1);
	if (r->h.chunked) {
		int rc = chunked_all(tc->raw + r->headlen, rest, rest, rest, r->body,
		    &r->bodylen, &err);

		if (rc != 0) {
			r->body_failed = 1;
			snprintf(r->err, sizeof(r->err), "%s", rc == 1 ? "truncated" : err);
		}
	} else if (r->h.has_length) {
		if (r->h.length > rest) {
			r->body_failed = 1;
			snprintf(r->err, sizeof(r->err), "truncated");
		} else {
			memcpy(r->body, tc->raw + r->headlen, (size_t)r->h.length);
			r->bodylen = (size_t)r->h.length;
		}
	} else {
		memcpy(r->body, tc->raw + r->headlen, rest);
		r->bodylen = rest;
	}
}

static int
same_head(const struct http_head *a, const struct http_head *b)
{
	return a->status == b->status && a->chunked == b->chunked &&
	    a->has_length == b->has_length && a->length == b->length &&
	    a->close == b->close && a->retry_after == b->retry_after;
}

/* Every prefix of the head must say "more" (0) or, once complete, the same thing. */
static int
head_splits_agree(const struct tcase *tc, const struct result *r)
{
	struct http_head	 h;
	const char		*err;
	size_t			 k;

	for (k = 0; k <= tc->rawlen; k++) {
		char	*copy = malloc(k ? k : 1);	/* exact size: ASan sees overreads */
		long	 n;

		memcpy(copy, tc->raw, k);
		n = http_head_parse(copy, k, &h, &err);
		free(copy);
		if ((long)k < r->headlen ? n != 0 : (n != r->headlen || !same_head(&h, &r->h)))
			return 0;
	}
	return 1;
}

/* A bad head: no prefix may parse, the full input must fail with the expected text. */
static int
bad_head_prefixes_fail(const struct tcase *tc)
{
	struct http_head	 h;
	const char		*err;
	size_t			 k;

	for (k = 0; k <= tc->rawlen; k++) {
		long	n = http_head_parse(tc->raw, k, &h, &err);

		if (n > 0)
			return 0;
		if (n < 0 && (err == NULL || *err == '\0'))
			return 0;
	}
	return 1;
}

/* The chunked body split at every byte, byte by byte, one output byte at a time, in place. */
static int
chunked_splits_agree(const struct tcase *tc, const struct result *r)
{
	const char	*in = tc->raw + r->headlen, *err;
	size_t		 inlen = tc->rawlen - (size_t)r->headlen, k, got;
	char		*out = malloc(inlen + 1), *copy = malloc(inlen + 1);
	int		 ok = 1;

	for (k = 0; ok && k <= inlen; k++) {
		struct http_chunked	c;
		size_t			o = 0;
		long			n;

		memset(&c, 0, sizeof(c));
		n = http_chunked_feed(&c, in, k, out, inlen, &got, &err);
		if (n < 0 || (size_t)n != k) {
			ok = 0;
			break;
		}
		o = got;
		n = http_chunked_feed(&c, in + k, inlen - k, out + o, inlen - o, &got, &err);
		ok = n >= 0 && c.done && o + got == r->bodylen &&
		    memcmp(out, r->body, r->bodylen) == 0;
	}
	if (ok)
		ok = chunked_all(in, inlen, 1, inlen, out, &got, &err) == 0 &&
		    got == r->bodylen && memcmp(out, r->body, got) == 0;
	if (ok)
		ok = chunked_all(in, inlen, inlen, 1, out, &got, &err) == 0 &&
		    got == r->bodylen && memcmp(out, r->body, got) == 0;
	if (ok) {
		memcpy(copy, in, inlen);
		ok = chunked_all(copy, inlen, inlen, inlen, copy, &got, &err) == 0 &&
		    got == r->bodylen && memcmp(copy, r->body, got) == 0;
	}
	free(out);
	free(copy);
	return ok;
}

static void
run_case(const struct tcase *tc)
{
	struct result	r;
	char		d[512];

	run_once(tc, &r);
#define CHECK(what, cond) do {						\
	snprintf(d, sizeof(d), "%s: %s", tc->name, what);		\
	test_cond(d, cond);						\
} while (0)
	if (tc->err[0] != '\0') {
		CHECK("head is refused", r.headlen == -1);
		CHECK(tc->err, strstr(r.err, tc->err) != NULL);
		if (strstr(r.err, tc->err) == NULL)
			printf("#   got: %s\n", r.err);
		CHECK("no prefix of it parses", bad_head_prefixes_fail(tc));
		goto out;
	}
	CHECK("head parses", r.headlen > 0);
	if (r.headlen <= 0) {
		printf("#   got: %s\n", r.err);
		goto out;
	}
	if (tc->berr[0] != '\0') {
		const char	*err;
		size_t		 got;
		char		*out = malloc(tc->rawlen);
		int		 rc;

		CHECK(tc->berr, r.body_failed && strstr(r.err, tc->berr) != NULL);
		if (strstr(r.err, tc->berr) == NULL)
			printf("#   got: %s\n", r.err);
		if (r.h.chunked) {
			rc = chunked_all(tc->raw + r.headlen, tc->rawlen - (size_t)r.headlen, 1,
			    1, out, &got, &err);
			CHECK("byte by byte fails alike", rc == -1 ? strcmp(err, r.err) == 0 :
			    rc == 1 && strcmp(r.err, "truncated") == 0);
		}
		free(out);
		goto out;
	}
	CHECK("whole response is good", r.err[0] == '\0');
	if (tc->status >= 0)
		CHECK("status", r.h.status == tc->status);
	if (tc->length == -1)
		CHECK("no Content-Length", !r.h.has_length);
	else if (tc->length >= 0)
		CHECK("Content-Length", r.h.has_length && r.h.length == (uint64_t)tc->length);
	if (tc->has_chunked)
		CHECK("chunked", r.h.chunked == tc->chunked);
	if (tc->has_close)
		CHECK("close", r.h.close == tc->close);
	if (tc->retry >= 0)
		CHECK("Retry-After", r.h.retry_after == (unsigned)tc->retry);
	if (tc->has_body)
		CHECK("body", r.bodylen == tc->bodylen &&
		    memcmp(r.body, tc->body, r.bodylen) == 0);
	CHECK("head split at every byte gives the same result", head_splits_agree(tc, &r));
	if (r.h.chunked)
		CHECK("chunked body split at every byte, byte by byte and in place agree",
		    chunked_splits_agree(tc, &r));
#undef CHECK
out:
	free(r.body);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_cases(void)
{
	DIR		*d = opendir(DATA_DIR);
	struct dirent	*de;
	char		*names[MAX_CASES];
	size_t		 n = 0, i, good = 0, bad = 0;

	test_cond("tests/data/http is readable (run from the repository root)", d != NULL);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < MAX_CASES) {
		size_t l = strlen(de->d_name);

		if (l > 5 && strcmp(de->d_name + l - 5, ".case") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (i = 0; i < n; i++) {
		struct tcase	tc;
		char		descr[300];

		snprintf(descr, sizeof(descr), "%s: case file loads", names[i]);
		test_cond(descr, case_load(names[i], &tc) == 0);
		if (tc.err[0] || tc.berr[0])
			bad++;
		else
			good++;
		if (tc.raw != NULL)
			run_case(&tc);
		free(tc.raw);
		free(tc.body);
		free(names[i]);
	}
	test_cond("at least 10 good and 15 bad cases", good >= 10 && bad >= 15);
}

static void
test_incomplete(void)
{
	struct http_head	 h;
	const char		*err;
	static const char	 partial[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n";

	test_cond("empty input needs more", http_head_parse("", 0, &h, &err) == 0);
	test_cond("head without blank line needs more",
	    http_head_parse(partial, sizeof(partial) - 1, &h, &err) == 0);
	test_cond("garbage fails before the head is complete",
	    http_head_parse("SSH-2.0-OpenSSH_9", 17, &h, &err) == -1);
}

static void
test_chunked_done_stops(void)
{
	static const char	 in[] = "3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
	struct http_chunked	 c;
	char			 out[64];
	size_t			 got;
	const char		*err;
	long			 n;

	memset(&c, 0, sizeof(c));
	n = http_chunked_feed(&c, in, sizeof(in) - 1, out, sizeof(out), &got, &err);
	test_cond("decoder stops after the last chunk", n == 13 && c.done && got == 3 &&
	    memcmp(out, "abc", 3) == 0);
	n = http_chunked_feed(&c, in + n, sizeof(in) - 1 - (size_t)n, out, sizeof(out), &got, &err);
	test_cond("a done decoder consumes nothing", n == 0 && got == 0);

	memset(&c, 0, sizeof(c));
	n = http_chunked_feed(&c, in, sizeof(in) - 1, out, 2, &got, &err);
	test_cond("a full output buffer stops the decoder mid-chunk", n == 5 && got == 2 &&
	    !c.done);
}

static void
test_request_build(void)
{
	static const char	 want_get[] =
	    "GET /api/v1/namespaces/default/configmaps/carrier-lock HTTP/1.1\r\n"
	    "Host: 127.0.0.1:6443\r\n"
	    "User-Agent: carrier-lock/" CARRIER_LOCK_VERSION "\r\n"
	    "Accept: application/json\r\n"
	    "\r\n";
	static const char	 want_put[] =
	    "PUT /x HTTP/1.1\r\n"
	    "Host: [::1]:6443\r\n"
	    "User-Agent: carrier-lock/" CARRIER_LOCK_VERSION "\r\n"
	    "Accept: application/json\r\n"
	    "Authorization: Bearer tok.en\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 7\r\n"
	    "\r\n"
	    "{\"a\":1}";
	char	*req;
	size_t	 len;

	req = http_request_build("GET", "127.0.0.1:6443",
	    "/api/v1/namespaces/default/configmaps/carrier-lock", NULL, NULL, NULL, 0, &len);
	test_cond("GET request bytes", req != NULL && len == sizeof(want_get) - 1 &&
	    memcmp(req, want_get, len) == 0);
	free(req);
	req = http_request_build("PUT", "[::1]:6443", "/x", "tok.en", "application/json",
	    "{\"a\":1}", 7, &len);
	test_cond("PUT request bytes with token and body", req != NULL &&
	    len == sizeof(want_put) - 1 && memcmp(req, want_put, len) == 0);
	free(req);
	req = http_request_build("POST", "h", "/x", NULL, NULL, "", 0, &len);
	test_cond("empty body still sends Content-Length: 0", req != NULL &&
	    strstr(req, "Content-Length: 0\r\n\r\n") != NULL);
	free(req);

	test_cond("CR LF in path refused", http_request_build("GET", "h",
	    "/x\r\nX-Evil: 1", NULL, NULL, NULL, 0, &len) == NULL);
	test_cond("LF in host refused", http_request_build("GET", "h\nX: y", "/x",
	    NULL, NULL, NULL, 0, &len) == NULL);
	test_cond("CR in token refused", http_request_build("GET", "h", "/x",
	    "abc\rdef", NULL, NULL, 0, &len) == NULL);
	test_cond("LF in content type refused", http_request_build("PUT", "h", "/x",
	    NULL, "a\nb", "{}", 2, &len) == NULL);
	test_cond("space in method refused", http_request_build("GET /y", "h", "/x",
	    NULL, NULL, NULL, 0, &len) == NULL);
	test_cond("space in path refused", http_request_build("GET", "h", "/x y",
	    NULL, NULL, NULL, 0, &len) == NULL);
	test_cond("path without leading slash refused", http_request_build("GET", "h",
	    "x", NULL, NULL, NULL, 0, &len) == NULL);
	test_cond("control byte in token refused", http_request_build("GET", "h", "/x",
	    "a\x01" "b", NULL, NULL, 0, &len) == NULL);
	test_cond("empty host refused", http_request_build("GET", "", "/x",
	    NULL, NULL, NULL, 0, &len) == NULL);
}

int
main(void)
{
	test_cases();
	test_incomplete();
	test_chunked_done_stops();
	test_request_build();
	return test_report();
}
