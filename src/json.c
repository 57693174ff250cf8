/* json.c: see json.h. */
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "json.h"
#include "yaml.h"
#include "text.h"
#include "utf8.h"

struct json {
	char		*own;	/* a copy of a bare top-level primitive, with a space after */
	const char	*js;	/* the caller's text: json_raw() points into it, never into own */
	size_t		 len;
	jsmntok_t	*tok;
	int		 ntok;
	int		*next;	/* next[i]: index of the token after i's subtree */
};

static const char *json_validate(const char *, size_t);

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Fills next[] by walking subtrees. jsmn gives each token its number of direct children
 * (an object's keys, a key's one value, an array's items). Returns -1 when nesting is
 * deeper than JSON_MAX_DEPTH (a key and its value count as one level).
 */
static int
link_subtrees(struct json *j)
{
	int	 stack[2 * JSON_MAX_DEPTH + 2], left[2 * JSON_MAX_DEPTH + 2];
	int	 depth = 0, i;

	for (i = 0; i < j->ntok; i++) {
		int	children = j->tok[i].size;

		if (depth > 0)
			left[depth - 1]--;
		if (children > 0) {
			if (depth >= 2 * JSON_MAX_DEPTH)
				return -1;
			stack[depth] = i;
			left[depth] = children;
			depth++;
		} else
			j->next[i] = i + 1;
		while (depth > 0 && left[depth - 1] == 0) {
			depth--;
			j->next[stack[depth]] = i + 1;
		}
	}
	return depth == 0 ? 0 : -1;
}

struct json *
json_parse(const char *js, size_t len, const char **err)
{
	struct json	*j;
	jsmn_parser	 p;
	int		 n;
	size_t		 end;
	char		*own;
	const char	*orig;

	if (memchr(js, '\0', len) != NULL) {
		*err = "NUL byte in JSON";
		return NULL;
	}
	if (len > INT32_MAX / 2) {
		*err = "JSON document too large";
		return NULL;
	}
	if ((*err = json_validate(js, len)) != NULL)
		return NULL;
	orig = js;
	/*
	 * jsmn's strict mode wants a delimiter after a primitive, so a document that is just
	 * "5" or "true" (valid JSON) is parsed from a copy with a space after it.
	 */
	own = NULL;
	end = 0;
	while (end < len && is_space(js[end]))
		end++;
	if (end < len && js[end] != '{' && js[end] != '[' && js[end] != '"') {
		if ((own = malloc(len + 1)) == NULL) {
			*err = "out of memory";
			return NULL;
		}
		memcpy(own, js, len);
		own[len++] = ' ';
		js = own;
	}
	jsmn_init(&p);
	n = jsmn_parse(&p, js, len, NULL, 0);
	if (n <= 0 || n > JSON_MAX_TOKENS) {
		*err = n == JSMN_ERROR_PART ? "truncated JSON" : n < 0 ? "malformed JSON" :
		    n == 0 ? "empty JSON document" : "JSON document has too many values";
		free(own);
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		*err = "out of memory";
		free(own);
		return NULL;
	}
	j->own = own;
	if ((j->tok = calloc((size_t)n, sizeof(*j->tok))) == NULL ||
	    (j->next = calloc((size_t)n, sizeof(int))) == NULL) {
		*err = "out of memory";
		json_free(j);
		return NULL;
	}
	j->js = orig;
	j->len = len;
	jsmn_init(&p);
	j->ntok = jsmn_parse(&p, js, len, j->tok, (unsigned int)n);
	if (j->ntok != n) {
		*err = "malformed JSON";
		json_free(j);
		return NULL;
	}
	if (link_subtrees(j) != 0) {
		*err = "JSON nested too deeply";
		json_free(j);
		return NULL;
	}
	/* jsmn accepts several top-level values; a document is one. */
	if (j->next[0] != j->ntok) {
		*err = "trailing data after JSON value";
		json_free(j);
		return NULL;
	}
	end = (size_t)j->tok[0].end + (j->tok[0].type == JSMN_STRING);
	for (; end < len; end++) {
		if (!is_space(js[end])) {
			*err = "trailing data after JSON value";
			json_free(j);
			return NULL;
		}
	}
	return j;
}

void
json_free(struct json *j)
{
	if (j == NULL)
		return;
	free(j->own);
	free(j->tok);
	free(j->next);
	free(j);
}

enum json_type
json_type(const struct json *j, int i)
{
	if (i < 0 || i >= j->ntok)
		return JSON_NONE;
	switch (j->tok[i].type) {
	case JSMN_OBJECT:	return JSON_OBJECT;
	case JSMN_ARRAY:	return JSON_ARRAY;
	case JSMN_STRING:	return JSON_STRING;
	case JSMN_PRIMITIVE:	return JSON_PRIMITIVE;
	default:		return JSON_NONE;
	}
}

const char *
json_raw(const struct json *j, int i, size_t *len)
{
	if (i < 0 || i >= j->ntok) {
		*len = 0;
		return "";
	}
	*len = (size_t)(j->tok[i].end - j->tok[i].start);
	return j->js + j->tok[i].start;
}

int
json_size(const struct json *j, int i)
{
	return (i < 0 || i >= j->ntok) ? 0 : j->tok[i].size;
}

int
json_first(const struct json *j, int i)
{
	if (json_size(j, i) == 0)
		return -1;
	return i + 1;
}

int
json_next(const struct json *j, int i)
{
	if (i < 0 || i >= j->ntok || j->next[i] >= j->ntok)
		return -1;
	return j->next[i];
}

/* Compares key token k with s after decoding escapes. */
static int
key_equals(const struct json *j, int k, const char *s)
{
	size_t	 len;
	const char *raw = json_raw(j, k, &len);
	char	*dec;
	int	 eq;

	if (memchr(raw, '\\', len) == NULL)
		return len == strlen(s) && memcmp(raw, s, len) == 0;
	if ((dec = json_str(j, k)) == NULL)
		return 0;
	eq = strcmp(dec, s) == 0;
	free(dec);
	return eq;
}

int
json_get(const struct json *j, int obj, const char *key)
{
	int	k, n;

	if (json_type(j, obj) != JSON_OBJECT)
		return -1;
	for (n = j->tok[obj].size, k = obj + 1; n > 0; n--) {
		int v = k + 1;
		if (v >= j->ntok)
			return -1;
		if (key_equals(j, k, key))
			return v;
		k = j->next[k];
	}
	return -1;
}

int
json_dup_keys(const struct json *j, int obj)
{
	int	a, b, na, nb;

	if (json_type(j, obj) != JSON_OBJECT)
		return 0;
	for (na = j->tok[obj].size, a = obj + 1; na > 0; na--, a = j->next[a]) {
		char *ka = json_str(j, a);
		if (ka == NULL)
			return 1;	/* an undecodable key cannot be compared: refuse */
		for (nb = na - 1, b = j->next[a]; nb > 0; nb--, b = j->next[b]) {
			if (key_equals(j, b, ka)) {
				free(ka);
				return 1;
			}
		}
		free(ka);
	}
	return 0;
}

/*
 * jsmn, even strict, does not check separators ({"a" "b"}, [1 2], {"a":1,}) nor raw
 * control bytes in strings. This pass checks the RFC 8259 grammar first, iteratively,
 * with the same depth limit, so that json_parse accepts JSON and nothing else.
 */
enum vstate { V_VALUE, V_VALUE_OR_END, V_KEY, V_KEY_OR_END, V_COLON, V_COMMA_OR_END };

static size_t
skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && is_space(s[i]))
		i++;
	return i;
}

/* Returns the index after the string starting at s[i] == '"', or 0 when malformed. */
static size_t
check_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (++i >= len || strchr("\"\\/bfnrtu", s[i]) == NULL || s[i] == '\0')
			return 0;
		if (s[i] == 'u') {
			if (utf8_hex(s + i + 1, len - i - 1, 4) < 0)
				return 0;
			i += 4;
		}
	}
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Returns the index after the number or literal at s[i], or 0 when malformed. */
static size_t
check_primitive(const char *s, size_t len, size_t i)
{
	static const char *const lit[] = { "true", "false", "null" };
	size_t	k, n;

	for (k = 0; k < 3; k++) {
		n = strlen(lit[k]);
		if (len - i >= n && memcmp(s + i, lit[k], n) == 0)
			return i + n;
	}
	if (i < len && s[i] == '-')
		i++;
	if (i >= len || !is_digit(s[i]))
		return 0;
	if (s[i] == '0')
		i++;
	else
		while (i < len && is_digit(s[i]))
			i++;
	if (i < len && s[i] == '.') {
		if (++i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= len || !is_digit(s[i]))
			return 0;
		while (i < len && is_digit(s[i]))
			i++;
	}
	return i;
}

static const char *
json_validate(const char *s, size_t len)
{
	char		stack[JSON_MAX_DEPTH];
	size_t		i = 0, next;
	int		depth = 0;
	enum vstate	st = V_VALUE;

	for (;;) {
		i = skip_ws(s, len, i);
		if (i >= len)
			return "truncated JSON";
		switch (st) {
		case V_COLON:
			if (s[i++] != ':')
				return "malformed JSON: ':' expected";
			st = V_VALUE;
			continue;
		case V_COMMA_OR_END:
			if (s[i] == ',') {
				i++;
				st = stack[depth - 1] == '{' ? V_KEY : V_VALUE;
				continue;
			}
			if (s[i] != (stack[depth - 1] == '{' ? '}' : ']'))
				return "malformed JSON: ',' or end of container expected";
			i++;
			depth--;
			break;
		case V_KEY_OR_END:
		case V_KEY:
			if (st == V_KEY_OR_END && s[i] == '}') {
				i++;
				depth--;
				break;
			}
			if (s[i] != '"' || (next = check_string(s, len, i)) == 0)
				return "malformed JSON: a string key expected";
			i = next;
			st = V_COLON;
			continue;
		case V_VALUE_OR_END:
		case V_VALUE:
			if (st == V_VALUE_OR_END && s[i] == ']') {
				i++;
				depth--;
				break;
			}
			if (s[i] == '{' || s[i] == '[') {
				if (depth >= JSON_MAX_DEPTH)
					return "JSON nested too deeply";
				stack[depth++] = s[i];
				st = s[i++] == '{' ? V_KEY_OR_END : V_VALUE_OR_END;
				continue;
			}
			next = s[i] == '"' ? check_string(s, len, i) : check_primitive(s, len, i);
			if (next == 0)
				return "malformed JSON value";
			i = next;
			break;
		}
		/* A value ended. */
		if (depth == 0)
			return skip_ws(s, len, i) == len ? NULL : "trailing data after JSON value";
		st = V_COMMA_OR_END;
	}
}

char *
json_str(const struct json *j, int i)
{
	size_t		 len, r, w = 0;
	const char	*s;
	char		*out;

	if (json_type(j, i) != JSON_STRING)
		return NULL;
	s = json_raw(j, i, &len);
	/* Decoding never grows the text: \uXXXX (6 bytes) yields at most 4. */
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (r = 0; r < len; r++) {
		unsigned	cp;
		long		v;

		if (s[r] != '\\') {
			if ((unsigned char)s[r] < 0x20)
				goto bad;
			out[w++] = s[r];
			continue;
		}
		if (++r >= len)
			goto bad;
		switch (s[r]) {
		case '"': out[w++] = '"'; break;
		case '\\': out[w++] = '\\'; break;
		case '/': out[w++] = '/'; break;
		case 'b': out[w++] = '\b'; break;
		case 'f': out[w++] = '\f'; break;
		case 'n': out[w++] = '\n'; break;
		case 'r': out[w++] = '\r'; break;
		case 't': out[w++] = '\t'; break;
		case 'u':
			if ((v = utf8_hex(s + r + 1, len - r - 1, 4)) < 0)
				goto bad;
			cp = (unsigned)v;
			r += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				/* A high surrogate: its low half must follow (-1: not hex). */
				if (r + 2 >= len || s[r + 1] != '\\' || s[r + 2] != 'u' ||
				    (v = utf8_hex(s + r + 3, len - r - 3, 4)) < 0xdc00 || v >= 0xe000)
					goto bad;
				r += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (unsigned)(v - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000)
				goto bad;
			if (cp == 0)
				goto bad;
			w += utf8_put(out + w, cp);
			break;
		default:
			goto bad;
		}
	}
	out[w] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

int
json_uint(const struct json *j, int i, uint64_t *v)
{
	size_t		 len;
	const char	*s;

	if (json_type(j, i) != JSON_PRIMITIVE)
		return -1;
	s = json_raw(j, i, &len);
	/* JSON writes no leading zeros; "0" alone is zero. */
	if (len > 1 && s[0] == '0')
		return -1;
	return text_u64(s, len, JSON_MAX_UINT, v);
}

void
jbuf_raw(struct jbuf *b, const char *s, size_t len)
{
	buf_add(&b->b, s, len);
}

void
jbuf_cstr(struct jbuf *b, const char *s)
{
	jbuf_raw(b, s, strlen(s));
}

void
jbuf_quote(struct jbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i, from = 0;

	jbuf_raw(b, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i];
		char		esc[7];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jbuf_raw(b, s + from, i - from);
		from = i + 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jbuf_raw(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jbuf_raw(b, esc, 6);
		}
	}
	jbuf_raw(b, s + from, len - from);
	jbuf_raw(b, "\"", 1);
}

void
jbuf_quotez(struct jbuf *b, const char *s)
{
	jbuf_quote(b, s, strlen(s));
}

char *
jbuf_done(struct jbuf *b, size_t *len)
{
	if (b->b.p == NULL) {
		buf_free(&b->b);
		return NULL;
	}
	return buf_take(&b->b, len);
}

/*
 * A string's raw text (escapes as they were), with DEL and the C1 controls (U+0080 to
 * U+009F, which terminals obey as escapes) written as \u00XX: the same string, safe to
 * print. Raw C0 controls never get here: the parser refuses them.
 */
static void
compact_string(struct jbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t	i, from = 0;
	char	esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)s[i], code;

		if (c == 0x7f)
			code = c;
		else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			code = (unsigned char)s[i + 1];
		else
			continue;
		jbuf_raw(b, s + from, i - from);
		esc[4] = hex[code >> 4];
		esc[5] = hex[code & 15];
		jbuf_raw(b, esc, 6);
		i += c == 0xc2;
		from = i + 1;
	}
	jbuf_raw(b, s + from, len - from);
}

void
json_compact(const struct json *j, int i, struct jbuf *b)
{
	size_t		 len;
	const char	*s;
	int		 k, n, obj;

	switch (json_type(j, i)) {
	case JSON_STRING:
		s = json_raw(j, i, &len);
		jbuf_raw(b, "\"", 1);
		compact_string(b, s, len);
		jbuf_raw(b, "\"", 1);
		return;
	case JSON_PRIMITIVE:
		s = json_raw(j, i, &len);
		jbuf_raw(b, s, len);
		return;
	case JSON_OBJECT:
	case JSON_ARRAY:
		obj = json_type(j, i) == JSON_OBJECT;
		jbuf_raw(b, obj ? "{" : "[", 1);
		for (n = json_size(j, i), k = i + 1; n > 0; n--, k = j->next[k]) {
			if (k != i + 1)
				jbuf_raw(b, ",", 1);
			json_compact(j, k, b);
			if (obj) {
				jbuf_raw(b, ":", 1);
				json_compact(j, k + 1, b);
			}
		}
		jbuf_raw(b, obj ? "}" : "]", 1);
		return;
	default:
		return;
	}
}

void
jbuf_base64(struct jbuf *b, const void *p, size_t n)
{
	static const char	al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*s = p;
	char			 q[4];
	size_t			 i;

	jbuf_raw(b, "\"", 1);
	for (i = 0; i + 2 < n; i += 3) {
		q[0] = al[s[i] >> 2];
		q[1] = al[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = al[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		q[3] = al[s[i + 2] & 63];
		jbuf_raw(b, q, 4);
	}
	if (n - i == 1) {
		q[0] = al[s[i] >> 2];
		q[1] = al[(s[i] & 3) << 4];
		q[2] = q[3] = '=';
		jbuf_raw(b, q, 4);
	} else if (n - i == 2) {
		q[0] = al[s[i] >> 2];
		q[1] = al[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		q[2] = al[(s[i + 1] & 15) << 2];
		q[3] = '=';
		jbuf_raw(b, q, 4);
	}
	jbuf_raw(b, "\"", 1);
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

void
json_from_yaml(struct jbuf *b, const struct yaml_node *n)
{
	static const char	*bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
	size_t			 i;

	switch (n->kind) {
	case YAML_MAP:
		jbuf_raw(b, "{", 1);
		for (i = 0; i < n->n; i++) {
			if (i > 0)
				jbuf_raw(b, ",", 1);
			jbuf_quotez(b, n->keys[i]);
			jbuf_raw(b, ":", 1);
			json_from_yaml(b, n->vals[i]);
		}
		jbuf_raw(b, "}", 1);
		return;
	case YAML_SEQ:
		jbuf_raw(b, "[", 1);
		for (i = 0; i < n->n; i++) {
			if (i > 0)
				jbuf_raw(b, ",", 1);
			json_from_yaml(b, n->vals[i]);
		}
		jbuf_raw(b, "]", 1);
		return;
	case YAML_SCALAR:
		if (n->quoted) {
			jbuf_quotez(b, n->scalar);
			return;
		}
		if (yaml_is_null(n)) {
			jbuf_cstr(b, "null");
			return;
		}
		for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
			if (strcmp(n->scalar, bools[i]) == 0) {
				jbuf_cstr(b, i < 3 ? "true" : "false");
				return;
			}
		if (is_json_number(n->scalar))
			jbuf_cstr(b, n->scalar);
		else
			jbuf_quotez(b, n->scalar);
		return;
	}
}
