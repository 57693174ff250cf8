/*
 * yaml.h: the subset of YAML that kubeconfig files use, and JSON (which is that subset
 * in flow style). Anything outside it is refused with its line number, never guessed.
 *
 * Supported: block mappings; block sequences (of mappings or scalars, "- " items, also
 * at the same indentation as the parent key); plain, 'single' and "double" quoted
 * scalars (with \" \\ \n \t \uXXXX escapes); comments; "---" at the start; "{}" and "[]";
 * flow mappings and sequences as JSON writes them; lines ending in CR LF, LF or a lone
 * CR (YAML 1.2's three line breaks; line numbers count them). Refused: anchors/aliases
 * (& *), tags (!), block scalars (| >), multi-document streams, tabs in indentation,
 * duplicate keys, complex keys ("? "). Input is capped at YAML_MAX_INPUT bytes and
 * YAML_MAX_DEPTH levels.
 */
#ifndef CL_YAML_H
#define CL_YAML_H

#include <stddef.h>

#define YAML_MAX_INPUT	(4 * 1024 * 1024)
#define YAML_MAX_DEPTH	64

enum yaml_kind { YAML_SCALAR, YAML_MAP, YAML_SEQ };

struct yaml_node {
	enum yaml_kind	 kind;
	size_t		 line;		/* 1-based line where the node starts */
	char		*scalar;	/* YAML_SCALAR: decoded text, NUL-terminated */
	int		 quoted;	/* YAML_SCALAR: was quoted (so "null" is a string) */
	/* YAML_SCALAR: its text in the input is [off, end), quotes included, so a writer
	 * can replace one value and keep every other byte; end 0 for a null with no text. */
	size_t		 off, end;
	size_t		 n;		/* MAP: pairs; SEQ: items */
	char		**keys;		/* MAP: n keys */
	size_t		*key_lines;	/* MAP: line of each key */
	struct yaml_node **vals;	/* MAP: n values; SEQ: n items */
};

/*
 * Parses buf[0..len). Returns the root node (free with yaml_free()) or NULL with *err
 * (static string) and *errline (1-based) set. An empty document yields an empty MAP.
 */
struct yaml_node	*yaml_parse(const char *buf, size_t len, const char **err, size_t *errline);
void			 yaml_free(struct yaml_node *);
/*
 * The value of key in a MAP node, or NULL (also when node is not a MAP). When line is
 * not NULL, *line is the key's line, or 0 when map has no such key.
 */
const struct yaml_node	*yaml_get(const struct yaml_node *map, const char *key,
			    size_t *line);
/* 1 when the node is a plain scalar null ("", "~", "null") or absent. */
int			 yaml_is_null(const struct yaml_node *);

#endif
