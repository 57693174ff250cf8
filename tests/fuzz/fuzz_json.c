/*
 * fuzz_json.c: json_parse() over arbitrary bytes, then every accessor on every token.
 *
 * Checks, beyond the sanitizers: an error has a message; a parsed document walks
 * consistently (json_first/json_next stay inside the token array, a container has
 * exactly json_size children, a key's value is found again by json_get when the key
 * decodes to a string without NUL); every raw span lies inside the input; json_str
 * decodes never to more bytes than the raw text and never to a string holding NUL;
 * json_uint only accepts plain digits; json_compact gives text that parses again and
 * compacts to itself (compacting twice gives the same text), with no byte of
 * insignificant whitespace outside strings.
 *
 * Which inputs must parse is decided by an independent RFC 8259 recogniser
 * (json_strict.h); the known disagreements are findings, fatal only with
 * CARRIER_FUZZ_STRICT_JSON=1 (see there). Text json_parse accepts that is not JSON is
 * still walked with every accessor, for the sanitizers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks value i; returns the index after its subtree (as json_next would give). */
static int
walk(const struct json *j, const char *js, size_t len, int i, int ntok, int depth)
{
	enum json_type	 t = json_type(j, i);
	size_t		 rlen;
	const char	*raw;
	int		 n, k, count = 0;

	if (t == JSON_NONE || depth > JSON_MAX_DEPTH * 2 + 1)
		abort();
	raw = json_raw(j, i, &rlen);
	if (raw < js || raw + rlen > js + len)
		abort();
	if (t == JSON_STRING) {
		char *s = json_str(j, i);
		if (s != NULL && strlen(s) > rlen)
			abort();	/* decoding never grows, and never yields NUL */
		free(s);
	} else if (json_str(j, i) != NULL)
		abort();
	if (t == JSON_PRIMITIVE) {
		uint64_t v;
		if (json_uint(j, i, &v) == 0) {
			size_t d;
			if (rlen == 0 || rlen > 19)
				abort();
			for (d = 0; d < rlen; d++)
				if (raw[d] < '0' || raw[d] > '9')
					abort();
		}
	}
	n = json_size(j, i);
	if (t != JSON_OBJECT && t != JSON_ARRAY) {
		/* Object keys are strings with one child (their value). */
		if (n == 0)
			return i + 1;
		if (t != JSON_STRING || n != 1)
			abort();
		return walk(j, js, len, i + 1, ntok, depth + 1);
	}
	if (n == 0) {
		if (json_first(j, i) != -1)
			abort();
		return i + 1;
	}
	if ((k = json_first(j, i)) != i + 1 || k >= ntok)
		abort();
	while (k >= 0 && k < ntok && count < n) {
		int after;

		if (t == JSON_OBJECT) {
			char *key;

			if (json_type(j, k) != JSON_STRING || json_size(j, k) != 1)
				abort();
			/* json_get returns the first member with that key: never past k. */
			if ((key = json_str(j, k)) != NULL) {
				int v = json_get(j, i, key);
				if (v < 0 || v > k + 1)
					abort();
				free(key);
			}
		}
		after = walk(j, js, len, k, ntok, depth + 1);
		count++;
		if (after < ntok) {
			if (json_next(j, k) != after)
				abort();
		} else if (json_next(j, k) != -1)
			abort();
		k = after < ntok ? after : -1;
		if (count < n && k < 0)
			abort();
	}
	if (count != n)
		abort();
	if (json_get(j, i, "\x01no such key") >= 0)
		abort();
	return k < 0 ? ntok : k;
}

static int
has_whitespace_outside_strings(const char *s, size_t len)
{
	size_t	i;
	int	in = 0;

	for (i = 0; i < len; i++) {
		if (in) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in = 0;
		} else if (s[i] == '"')
			in = 1;
		else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			return 1;
	}
	return 0;
}

/* Compacts root of j; NULL only on out of memory. */
static char *
compact(const struct json *j, size_t *len)
{
	struct jbuf	b = { 0 };
	char		*s;

	json_compact(j, 0, &b);
	if ((s = jbuf_done(&b, len)) == NULL)
		abort();
	return s;
}

/* Every accessor on every token of a document that is not JSON: no checks but bounds. */
static void
exercise(const struct json *j, const char *js, size_t len)
{
	struct jbuf	 b = { 0 };
	uint64_t	 v;
	size_t		 rlen;
	const char	*raw;
	int		 i;

	for (i = 0; json_type(j, i) != JSON_NONE; i++) {
		raw = json_raw(j, i, &rlen);
		if (raw < js || raw + rlen > js + len)
			abort();
		free(json_str(j, i));
		(void)json_uint(j, i, &v);
		(void)json_get(j, i, "a");
		(void)json_first(j, i);
		(void)json_next(j, i);
		(void)json_size(j, i);
		json_compact(j, i, &b);
		free(jbuf_done(&b, NULL));
	}
}

/* A refusal of real JSON is fine only at a limit, or for the known top-level primitive. */
static void
refused_json(const char *js, size_t size, const char *err)
{
	size_t	i = 0;

	if (strcmp(err, "JSON nested too deeply") == 0 ||
	    strcmp(err, "JSON document has too many values") == 0 ||
	    strcmp(err, "out of memory") == 0)
		return;
	while (i < size && strchr(" \t\r\n", js[i]) != NULL)
		i++;
	if (i < size && js[i] != '{' && js[i] != '[' && js[i] != '"' &&
	    !json_strict_findings())
		return;	/* known finding: a top-level number or literal */
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*js = (const char *)data, *err = NULL;
	struct json	*j, *j2, *j3;
	char		*c1, *c2;
	size_t		 l1, l2;
	int		 ntok, end, strict;

	strict = json_strict(js, size);
	if ((j = json_parse(js, size, &err)) == NULL) {
		if (err == NULL || err[0] == '\0')
			abort();
		if (strict)
			refused_json(js, size, err);
		return 0;
	}
	if (!strict) {
		if (json_strict_findings())
			abort();	/* known finding: accepted text that is not JSON */
		exercise(j, js, size);
		json_free(j);
		return 0;
	}
	/* Token count: the last index json_next can report is below it. */
	for (ntok = 1; json_type(j, ntok) != JSON_NONE; ntok++)
		;
	end = walk(j, js, size, 0, ntok, 0);
	if (end != ntok)
		abort();
	if (json_type(j, -1) != JSON_NONE || json_next(j, -1) != -1 || json_first(j, ntok) != -1)
		abort();

	c1 = compact(j, &l1);
	if (l1 > size + json_compact_growth(js, size) || strlen(c1) != l1 ||
	    has_whitespace_outside_strings(c1, l1))
		abort();
	/*
	 * The compact form must still be JSON. Known exception (reported, not ours to fix
	 * here): jsmn in strict mode refuses a top-level primitive at the very end of the
	 * input, so " 5 " parses but its compact form "5" does not.
	 */
	if ((j2 = json_parse(c1, l1, &err)) == NULL) {
		if (json_type(j, 0) != JSON_PRIMITIVE)
			abort();
		json_free(j);
		free(c1);
		return 0;
	}
	c2 = compact(j2, &l2);
	if (l1 != l2 || memcmp(c1, c2, l1) != 0)
		abort();
	if ((j3 = json_parse(c2, l2, &err)) == NULL)
		abort();
	json_free(j3);
	json_free(j2);
	json_free(j);
	free(c1);
	free(c2);
	return 0;
}
