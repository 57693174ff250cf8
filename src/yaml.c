/*
 * yaml.c: see yaml.h. Block style is parsed line by line: a lookahead (yp_advance)
 * finds the next line with content and its indentation, and each block collection
 * continues while lines sit at its column. Flow collections and quoted scalars are
 * parsed character by character and may span lines. Every recursion passes a depth
 * checked against YAML_MAX_DEPTH, and the node count is capped at YAML_MAX_NODES, so
 * memory is bounded by the input size.
 *
 * Decisions beyond the subset listed in yaml.h:
 *  - Control bytes other than TAB, LF and CRLF are refused, NUL included; a UTF-8 BOM
 *    at the very start is skipped.
 *  - "---" may only stand alone on its line (a comment may follow).
 *  - Plain scalars continue on more-indented lines in block context only; quoted
 *    scalars may span lines. Both are folded as YAML says.
 *  - Keys are single-line scalars; "key:value" without a space is a plain scalar.
 *  - A ":" followed by a space inside a plain value ("a: b: c") is refused.
 *  - Directives (%YAML) are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "yaml.h"
#include "yaml_int.h"

static struct yaml_node	*yp_block_node(struct yp *, size_t, size_t);

/* The rest of the line may hold only blanks and a comment; steps onto the next line. */
static int
yp_end_line(struct yp *p, const char *what)
{
	yp_skip_blanks(p);
	if (yp_at_comment(p))
		yp_skip_to_eol(p);
	if (!is_eol(yp_ch(p, 0))) {
		yp_fail(p, p->line, what);
		return -1;
	}
	yp_newline(p);
	return 0;
}

/*
 * From the start of a line, skips blank and comment lines and stops at the first
 * content of the next line that has some, setting p->st and p->ind. A tab before that
 * content is an error.
 */
static void
yp_advance(struct yp *p)
{
	size_t	i, n;
	int	tab;

	if (p->err != NULL)
		return;
	for (;;) {
		if (p->pos >= p->len) {
			p->st = YL_EOF;
			return;
		}
		i = p->pos;
		n = 0;
		tab = 0;
		while (i < p->len && is_blank(p->buf[i])) {
			if (p->buf[i] == '\t')
				tab = 1;
			else if (!tab)
				n++;
			i++;
		}
		if (i == p->len || is_eol(p->buf[i]) || p->buf[i] == '#') {
			p->pos = i;
			yp_skip_to_eol(p);
			yp_newline(p);
			continue;
		}
		if (tab) {
			yp_fail(p, p->line, "tab in indentation");
			return;
		}
		p->pos = i;
		p->ind = n;
		if (yp_is_marker(p, i, '-'))
			p->st = YL_DOC_START;
		else if (yp_is_marker(p, i, '.'))
			p->st = YL_DOC_END;
		else
			p->st = YL_CONTENT;
		return;
	}
}

static int
yp_is_seq_item(const struct yp *p)
{
	return yp_ch(p, 0) == '-' && is_ws_eol(yp_ch(p, 1));
}

/*
 * A value that starts on the current line after "key: " (or is a whole line): a flow
 * collection, a quoted or a plain scalar (continued on lines indented min_ind or more).
 * Consumes its lines and advances.
 */
static struct yaml_node *
yp_inline_value(struct yp *p, size_t depth, size_t min_ind)
{
	struct yaml_node	*v;
	size_t			 line = p->line, end, start = p->pos;
	char			 c = yp_ch(p, 0);

	if (!yp_depth_ok(p, depth))
		return NULL;
	if (yp_is_seq_item(p))
		return yp_fail(p, line, "a block sequence cannot start on the line of its key");
	if (c == '{' || c == '[') {
		if ((v = yp_flow_coll(p, depth)) == NULL)
			return NULL;
		if (yp_end_line(p, "unexpected text after a flow collection") != 0) {
			yaml_free(v);
			return NULL;
		}
	} else if (c == '"' || c == '\'') {
		if ((end = yp_quoted_end(p)) == 0)
			return NULL;
		if ((v = yp_scalar(p, line, yp_quoted_decode(p, end), 1)) == NULL)
			return NULL;
		yp_span(p, v, start);
		if (yp_end_line(p, "unexpected text after a quoted string") != 0) {
			yaml_free(v);
			return NULL;
		}
	} else {
		if (yp_check_start(p, 0) != 0)
			return NULL;
		if ((v = yp_scalar(p, line, yp_plain_block(p, min_ind), 0)) == NULL)
			return NULL;
		yp_span(p, v, start);
		if (yp_end_line(p, "unexpected text after a value") != 0) {
			yaml_free(v);
			return NULL;
		}
	}
	yp_advance(p);
	return v;
}

/* Reads a block mapping key at pos; leaves pos after its ':'. */
static char *
yp_block_key(struct yp *p)
{
	size_t	 end, start, i;
	char	*key;
	char	 c = yp_ch(p, 0);

	if (c == '"' || c == '\'') {
		if ((end = yp_quoted_end(p)) == 0)
			return NULL;
		for (i = p->pos; i < end; i++)
			if (p->buf[i] == '\n' || p->buf[i] == '\r')
				return yp_fail(p, p->line, "multi-line keys are not supported");
		key = yp_quoted_decode(p, end);
	} else if (c == '{' || c == '[') {
		return yp_fail(p, p->line, "complex keys (a collection as a key) are not supported");
	} else {
		if (yp_check_start(p, 0) != 0)
			return NULL;
		start = p->pos;
		yp_scan_plain(p, 0);
		key = yp_strndup(p, p->buf + start, p->pos - start);
	}
	if (key == NULL)
		return NULL;
	yp_skip_blanks(p);
	if (yp_ch(p, 0) != ':' || !is_ws_eol(yp_ch(p, 1))) {
		yp_fail(p, p->line, strchr(key, ':') == NULL ? "expected \"key: value\"" :
		    "expected \"key: value\" (is a space missing after ':'?)");
		free(key);
		return NULL;
	}
	p->pos++;
	return key;
}

static struct yaml_node *yp_block_seq(struct yp *, size_t, size_t);

static struct yaml_node *
yp_block_map(struct yp *p, size_t col, size_t depth)
{
	struct yaml_node	*m, *v;
	char			*key;
	size_t			 kline;
	int			 same_line;

	if (!yp_depth_ok(p, depth) || (m = yp_node(p, YAML_MAP, p->line)) == NULL)
		return NULL;
	for (;;) {
		kline = p->line;
		if ((key = yp_block_key(p)) == NULL)
			goto fail;
		yp_skip_blanks(p);
		same_line = !is_eol(yp_ch(p, 0)) && !yp_at_comment(p);
		if (same_line) {
			v = yp_inline_value(p, depth + 1, col + 1);
		} else {
			if (yp_end_line(p, "") != 0) {
				free(key);
				goto fail;
			}
			yp_advance(p);
			if (p->st == YL_CONTENT && p->ind > col)
				v = yp_block_node(p, depth + 1, col + 1);
			else if (p->st == YL_CONTENT && p->ind == col && yp_is_seq_item(p))
				v = yp_block_seq(p, col, depth + 1);
			else
				v = yp_null(p, kline, depth + 1);
		}
		if (v == NULL) {
			free(key);
			goto fail;
		}
		if (yp_add(p, m, key, kline, v) != 0)
			goto fail;
		if (p->err != NULL)
			goto fail;
		if (p->st != YL_CONTENT || p->ind < col)
			break;
		if (p->ind > col) {
			yp_failf(p, p->line, "bad indentation: %zu spaces, but the mapping above "
			    "is at %zu", p->ind, col);
			goto fail;
		}
		if (yp_is_seq_item(p)) {
			yp_fail(p, p->line, "a sequence item (\"- \") where a mapping key was expected");
			goto fail;
		}
	}
	if (yp_check_dups(p, m) != 0)
		goto fail;
	return m;
fail:
	yaml_free(m);
	return NULL;
}

static struct yaml_node *
yp_block_seq(struct yp *p, size_t col, size_t depth)
{
	struct yaml_node	*s, *v;
	size_t			 iline;
	int			 tab;

	if (!yp_depth_ok(p, depth) || (s = yp_node(p, YAML_SEQ, p->line)) == NULL)
		return NULL;
	for (;;) {
		iline = p->line;
		p->pos++;
		tab = 0;
		while (is_blank(yp_ch(p, 0)))
			tab |= p->buf[p->pos++] == '\t';
		if (is_eol(yp_ch(p, 0)) || yp_at_comment(p)) {
			if (yp_end_line(p, "") != 0)
				goto fail;
			yp_advance(p);
			if (p->st == YL_CONTENT && p->ind > col)
				v = yp_block_node(p, depth + 1, col + 1);
			else
				v = yp_null(p, iline, depth + 1);
		} else if (tab) {
			yp_fail(p, p->line, "tab in indentation");
			goto fail;
		} else {
			v = yp_block_node(p, depth + 1, col + 1);
		}
		if (v == NULL || yp_add(p, s, NULL, iline, v) != 0 || p->err != NULL)
			goto fail;
		if (p->st != YL_CONTENT || p->ind < col)
			break;
		if (p->ind > col) {
			yp_failf(p, p->line, "bad indentation: %zu spaces, but the sequence above "
			    "is at %zu", p->ind, col);
			goto fail;
		}
		/* Not an item: the mapping that holds this sequence continues (kubectl style). */
		if (!yp_is_seq_item(p))
			break;
	}
	return s;
fail:
	yaml_free(s);
	return NULL;
}

/* Is the line at pos "key: ..."? Looks ahead without moving or failing. */
static int
yp_is_key(struct yp *p)
{
	size_t	save = p->pos, i;
	char	c = yp_ch(p, 0);
	int	r;

	if (c == '"' || c == '\'') {
		for (i = p->pos + 1; i < p->len && !is_eol(p->buf[i]); i++) {
			if (c == '"' && p->buf[i] == '\\' && i + 1 < p->len) {
				i++;
				continue;
			}
			if (p->buf[i] == c) {
				if (c == '\'' && i + 1 < p->len && p->buf[i + 1] == '\'') {
					i++;
					continue;
				}
				break;
			}
		}
		if (i >= p->len || p->buf[i] != c)
			return 0;
		p->pos = i + 1;
	} else {
		yp_scan_plain(p, 0);
	}
	yp_skip_blanks(p);
	r = yp_ch(p, 0) == ':' && is_ws_eol(yp_ch(p, 1));
	p->pos = save;
	return r;
}

/* The node whose first content is at pos: a sequence, a mapping or a single value. */
static struct yaml_node *
yp_block_node(struct yp *p, size_t depth, size_t min_ind)
{
	size_t	col = p->pos - p->lstart;
	char	c = yp_ch(p, 0);

	if (!yp_depth_ok(p, depth))
		return NULL;
	if (yp_is_seq_item(p))
		return yp_block_seq(p, col, depth);
	if (c == '{' || c == '[')
		return yp_inline_value(p, depth, min_ind);
	if (c != '"' && c != '\'' && yp_check_start(p, 0) != 0)
		return NULL;
	if (yp_is_key(p))
		return yp_block_map(p, col, depth);
	return yp_inline_value(p, depth, min_ind);
}

static int
yp_check_bytes(struct yp *p)
{
	size_t	i, line = 1;

	for (i = 0; i < p->len; i++) {
		unsigned char c = (unsigned char)p->buf[i];

		/* CR LF is one line break; a lone CR is one too (yp_newline agrees). */
		if (c == '\n' || (c == '\r' && (i + 1 == p->len || p->buf[i + 1] != '\n')))
			line++;
		else if (c == '\0')
			return yp_fail(p, line, "NUL byte in input"), -1;
		else if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return yp_failf(p, line, "control character 0x%02x in input", c), -1;
	}
	return 0;
}

struct yaml_node *
yaml_parse(const char *buf, size_t len, const char **err, size_t *errline)
{
	struct yp		 p;
	struct yaml_node	*root = NULL;

	memset(&p, 0, sizeof(p));
	p.buf = buf != NULL ? buf : "";
	p.len = buf != NULL ? len : 0;
	p.line = 1;
	if (p.len > YAML_MAX_INPUT) {
		yp_failf(&p, 1, "input larger than %d bytes", YAML_MAX_INPUT);
		goto out;
	}
	if (yp_check_bytes(&p) != 0)
		goto out;
	if (p.len >= 3 && memcmp(p.buf, "\xef\xbb\xbf", 3) == 0)
		p.pos = p.lstart = 3;
	yp_advance(&p);
	if (p.st == YL_DOC_START) {
		p.pos += 3;
		if (yp_end_line(&p, "content after \"---\" on the same line is not supported") != 0)
			goto out;
		yp_advance(&p);
	}
	if (p.st == YL_CONTENT)
		root = yp_block_node(&p, 1, 0);
	else if (p.err == NULL)
		root = yp_node(&p, YAML_MAP, 1);
	if (root == NULL)
		goto out;
	while (p.st == YL_DOC_END && p.err == NULL) {
		p.pos += 3;
		if (yp_end_line(&p, "content after \"...\" on the same line") != 0)
			goto out;
		yp_advance(&p);
		if (p.st == YL_CONTENT)
			yp_fail(&p, p.line, "content after the document end marker \"...\"");
	}
	if (p.st == YL_DOC_START)
		yp_fail(&p, p.line, "multi-document streams are not supported");
	else if (p.st == YL_CONTENT)
		yp_failf(&p, p.line, "bad indentation: %zu spaces, less than the document's "
		    "top level", p.ind);
out:
	if (p.err != NULL) {
		yaml_free(root);
		*err = p.err;
		*errline = p.errline;
		return NULL;
	}
	*err = NULL;
	*errline = 0;
	return root;
}
