/*
 * json.h: reading JSON (on jsmn; the only file that touches it) and writing it (the
 * only place that escapes output). Values are addressed by token index; 0 is the root.
 */
#ifndef CL_JSON_H
#define CL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_TOKENS	(256 * 1024)	/* more is refused: a lock never needs it */
#define JSON_MAX_DEPTH	64
#define JSON_MAX_UINT	9999999999999999999ULL	/* json_uint(): 19 digits at most */

enum json_type { JSON_NONE, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_PRIMITIVE };

struct json;

/*
 * Parses exactly one JSON value (whitespace around it allowed) from js[0..len), which
 * must stay alive and unchanged while the result is used. Returns NULL with *err (static
 * string) on malformed input, trailing bytes, NUL bytes, depth or token limits.
 */
struct json	*json_parse(const char *js, size_t len, const char **err);
void		 json_free(struct json *);

enum json_type	 json_type(const struct json *, int i);
/* The raw bytes of value i (strings without their quotes); *len set. */
const char	*json_raw(const struct json *, int i, size_t *len);
/* The value of key in object obj, or -1 (also when obj is not an object). */
int		 json_get(const struct json *, int obj, const char *key);
/*
 * 1 when object obj has a key twice (readers disagree on which one counts: Go's takes
 * the last, ours the first). Quadratic in the number of keys: for small objects only.
 */
int		 json_dup_keys(const struct json *, int obj);
/* Number of members (object) or items (array) of i; index of the first one; next sibling. */
int		 json_size(const struct json *, int i);
int		 json_first(const struct json *, int i);
int		 json_next(const struct json *, int i);
/*
 * Decodes string value i into a malloc'd NUL-terminated string (caller frees), or NULL
 * if i is not a string, holds an invalid escape or an escaped NUL.
 */
char		*json_str(const struct json *, int i);
/*
 * Parses a non-negative integer primitive (digits only: no sign, fraction, exponent or
 * leading zero) of at most JSON_MAX_UINT into *v. Returns 0 or -1.
 */
int		 json_uint(const struct json *, int i, uint64_t *v);

/*
 * JSON output: a buf.h buffer (struct jbuf b = { 0 } is empty). A failure is sticky:
 * check jbuf_done() once.
 */
struct jbuf {
	struct buf	 b;
};

void	 jbuf_raw(struct jbuf *, const char *s, size_t len);
void	 jbuf_cstr(struct jbuf *, const char *s);		/* raw, no escaping */
void	 jbuf_quote(struct jbuf *, const char *s, size_t len);	/* "..." escaped */
void	 jbuf_quotez(struct jbuf *, const char *s);
/*
 * Returns the NUL-terminated text (the caller frees it) and its length in *len (len may
 * be NULL), or NULL if any step failed or nothing was written. b is left empty.
 */
char	*jbuf_done(struct jbuf *, size_t *len);

/* Writes p[0..n) as a JSON string of its standard base64 (how Go's JSON writes []byte). */
void	 jbuf_base64(struct jbuf *, const void *p, size_t n);

struct yaml_node;
/*
 * Writes YAML node n as JSON, as Kubernetes reads YAML: mappings and sequences as objects
 * and arrays; a quoted scalar is a string; a plain one is null ("", "~", null), a bool
 * (true, false in the three YAML 1.2 spellings), a number when it has JSON's number
 * syntax, and else a string. Depth is bounded by the YAML reader's YAML_MAX_DEPTH.
 */
void	 json_from_yaml(struct jbuf *, const struct yaml_node *n);

/*
 * Writes value i of j to b with insignificant whitespace removed (one line), keeping
 * strings byte for byte.
 */
void	 json_compact(const struct json *, int i, struct jbuf *b);

#endif
