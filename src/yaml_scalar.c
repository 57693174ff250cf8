/*
 * yaml_scalar.c: scalars for yaml.c. Plain scalars (single-line in flow context,
 * folded over more-indented lines in block context, as Go's emitter writes long
 * values), single- and double-quoted scalars with YAML's and JSON's escapes and line
 * folding, and the indicators that cannot start a scalar, refused by name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"
#include "yaml_int.h"

/* Messages that name a key or a number; valid until the next yaml_parse(). */
static char	yaml_errbuf[192];

void *
yp_fail(struct yp *p, size_t line, const char *msg)
{
	if (p->err == NULL) {
		p->err = msg;
		p->errline = line;
	}
	p->st = YL_EOF;
	return NULL;
}

void *
yp_failf(struct yp *p, size_t line, const char *fmt, ...)
{
	va_list	ap;

	if (p->err == NULL) {
		va_start(ap, fmt);
		vsnprintf(yaml_errbuf, sizeof(yaml_errbuf), fmt, ap);
		va_end(ap);
	}
	return yp_fail(p, line, yaml_errbuf);
}

/*
 * Refuses what cannot start a scalar here: YAML indicators outside the subset.
 * Returns 0 if the character at pos may start a plain or quoted scalar.
 */
int
yp_check_start(struct yp *p, int flow)
{
	char	c = yp_ch(p, 0), d = yp_ch(p, 1);

	switch (c) {
	case '&':
	case '*':
		yp_fail(p, p->line, "anchors and aliases are not supported");
		return -1;
	case '!':
		yp_fail(p, p->line, "tags (!) are not supported");
		return -1;
	case '|':
	case '>':
		yp_fail(p, p->line, "block scalars (| and >) are not supported");
		return -1;
	case '%':
		yp_fail(p, p->line, "directives (%) are not supported");
		return -1;
	case '@':
	case '`':
		yp_fail(p, p->line, "a plain scalar cannot start with '@' or '`'");
		return -1;
	case '#':
		yp_fail(p, p->line, "a value cannot start with '#' (quote it)");
		return -1;
	case ',':
	case ']':
	case '}':
		yp_failf(p, p->line, "unexpected '%c'", c);
		return -1;
	case '?':
		if (!is_ws_eol(d) && !(flow && is_flow_ind(d)))
			return 0;
		yp_fail(p, p->line, "complex keys (\"? \") are not supported");
		return -1;
	case ':':
		if (!is_ws_eol(d) && !(flow && is_flow_ind(d)))
			return 0;
		yp_fail(p, p->line, "missing key before ':'");
		return -1;
	case '-':
		if (!flow || !is_ws_eol(d))
			return 0;
		yp_fail(p, p->line, "a block sequence cannot appear inside a flow collection");
		return -1;
	default:
		return 0;
	}
}

/*
 * Scans a plain scalar from pos to the end of its line (or, in flow context, to a flow
 * indicator); leaves pos after its last non-blank byte and returns its length.
 */
size_t
yp_scan_plain(struct yp *p, int flow)
{
	size_t	start = p->pos, end = p->pos;
	char	c;

	for (;;) {
		c = yp_ch(p, 0);
		if (is_eol(c))
			break;
		if (c == ':' && (is_ws_eol(yp_ch(p, 1)) || (flow && is_flow_ind(yp_ch(p, 1)))))
			break;
		if (flow && is_flow_ind(c))
			break;
		if (yp_at_comment(p) && p->pos > start)
			break;
		p->pos++;
		if (!is_blank(c))
			end = p->pos;
	}
	p->pos = end;
	return end - start;
}

/*
 * Finds the closing quote of the quoted scalar opening at pos, without moving.
 * Returns its offset, or 0 (never a closing quote's offset) with the error set.
 */
size_t
yp_quoted_end(struct yp *p)
{
	char	q = p->buf[p->pos];
	size_t	i = p->pos + 1;

	while (i < p->len) {
		if (q == '"' && p->buf[i] == '\\') {
			i += 2;
			continue;
		}
		if (p->buf[i] == q) {
			if (q == '\'' && i + 1 < p->len && p->buf[i + 1] == '\'') {
				i += 2;
				continue;
			}
			return i;
		}
		i++;
	}
	yp_fail(p, p->line, q == '"' ? "unterminated double-quoted string" :
	    "unterminated single-quoted string");
	return 0;
}

/*
 * Decodes the escape after a backslash at p->pos (pointing at the letter) into o.
 * Returns the bytes written, or -1 with the error set. Moves pos past the escape.
 */
static int
yp_escape(struct yp *p, char *o, size_t end)
{
	static const char	simple_in[] = "0abtnvfre \"/\\\t";
	static const char	simple_out[] = "\0\a\b\t\n\v\f\r\x1b \"/\\\t";
	const char		*s;
	char			 c = p->buf[p->pos];
	long			 cp, lo;
	size_t			 n;

	if (c != '\0' && (s = strchr(simple_in, c)) != NULL) {
		if (c == '0') {
			yp_fail(p, p->line, "NUL character (\\0) in a string");
			return -1;
		}
		*o = simple_out[s - simple_in];
		p->pos++;
		return 1;
	}
	switch (c) {
	case 'N':
		cp = 0x85;
		n = 0;
		break;
	case '_':
		cp = 0xa0;
		n = 0;
		break;
	case 'L':
		cp = 0x2028;
		n = 0;
		break;
	case 'P':
		cp = 0x2029;
		n = 0;
		break;
	case 'x':
		n = 2;
		break;
	case 'u':
		n = 4;
		break;
	case 'U':
		n = 8;
		break;
	default:
		yp_fail(p, p->line, "unknown escape sequence in a double-quoted string");
		return -1;
	}
	p->pos++;
	if (n > 0 && (cp = utf8_hex(p->buf + p->pos, end - p->pos, n)) < 0) {
		yp_fail(p, p->line, "bad hex digits in a \\x, \\u or \\U escape");
		return -1;
	}
	p->pos += n;
	if (n == 4 && cp >= 0xd800 && cp <= 0xdbff) {
		/* A UTF-16 surrogate pair, as JSON encoders write characters past U+FFFF. */
		if (end - p->pos < 6 || p->buf[p->pos] != '\\' || p->buf[p->pos + 1] != 'u' ||
		    (lo = utf8_hex(p->buf + p->pos + 2, 4, 4)) < 0xdc00 || lo > 0xdfff) {
			yp_fail(p, p->line, "unpaired UTF-16 surrogate in a \\u escape");
			return -1;
		}
		p->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		yp_fail(p, p->line, "unpaired UTF-16 surrogate in a \\u escape");
		return -1;
	}
	if (cp == 0) {
		yp_fail(p, p->line, "NUL character (\\0) in a string");
		return -1;
	}
	if (cp > 0x10ffff) {
		yp_fail(p, p->line, "escape beyond U+10FFFF");
		return -1;
	}
	return (int)utf8_put(o, (unsigned long)cp);
}

/*
 * Decodes the quoted scalar opening at pos and closing at end (from yp_quoted_end),
 * folding line breaks as YAML does. Returns a malloc'd string; pos ends after the
 * closing quote. Returns NULL with the error set.
 */
char *
yp_quoted_decode(struct yp *p, size_t end)
{
	char	 q = p->buf[p->pos];
	char	*out;
	size_t	 o = 0, keep = 0, blank_lines;
	int	 r;

	/* No escape writes more than twice its own length; end - pos <= YAML_MAX_INPUT. */
	if ((out = malloc(2 * (end - p->pos) + 1)) == NULL)
		return yp_fail(p, p->line, "out of memory");
	p->pos++;
	while (p->pos < end) {
		char c = p->buf[p->pos];

		if (q == '\'' && c == '\'') {
			out[o++] = '\'';
			p->pos += 2;
			keep = o;
		} else if (q == '"' && c == '\\' && (p->buf[p->pos + 1] == '\n' ||
		    p->buf[p->pos + 1] == '\r')) {
			/* An escaped line break joins the lines without a space. */
			p->pos++;
			yp_newline(p);
			yp_skip_blanks(p);
			keep = o;
		} else if (q == '"' && c == '\\') {
			p->pos++;
			if ((r = yp_escape(p, out + o, end)) < 0) {
				free(out);
				return NULL;
			}
			o += (size_t)r;
			keep = o;
		} else if (c == '\n' || c == '\r') {
			while (o > keep && is_blank(out[o - 1]))
				o--;
			yp_newline(p);
			blank_lines = 0;
			for (;;) {
				yp_skip_blanks(p);
				if (p->pos >= end || (p->buf[p->pos] != '\n' && p->buf[p->pos] != '\r'))
					break;
				yp_newline(p);
				blank_lines++;
			}
			if (blank_lines == 0)
				out[o++] = ' ';
			while (blank_lines-- > 0)
				out[o++] = '\n';
			keep = o;
		} else {
			out[o++] = c;
			p->pos++;
		}
	}
	out[o] = '\0';
	p->pos = end + 1;
	return out;
}

/*
 * A plain scalar from pos, continued on following lines indented at least min_ind (as
 * Go's YAML emitter folds long values), each line break folded into a space, or into
 * "\n" per blank line between. A comment ends it. Consumes its lines, except the line
 * that follows it. Returns a malloc'd string or NULL with the error set.
 */
char *
yp_plain_block(struct yp *p, size_t min_ind)
{
	struct buf	b = { 0 };
	size_t		start, n, blank, save, line = p->line, i;

	for (blank = 0;; blank = 0) {
		start = p->pos;
		n = yp_scan_plain(p, 0);
		yp_skip_blanks(p);
		if (yp_ch(p, 0) == ':') {
			buf_free(&b);
			return yp_fail(p, p->line,
			    "\": \" inside a plain value (quote values that contain \": \")");
		}
		buf_add(&b, p->buf + start, n);
		if (yp_at_comment(p) || p->pos >= p->len)
			break;
		/* Look past blank lines for a continuation line. */
		save = p->pos;
		yp_newline(p);
		for (;;) {
			for (i = p->pos; i < p->len && p->buf[i] == ' '; i++)
				;
			if (i < p->len && (p->buf[i] == '\n' || p->buf[i] == '\r')) {
				p->pos = i;
				yp_newline(p);
				blank++;
				continue;
			}
			break;
		}
		if (i >= p->len || i - p->pos < min_ind || p->buf[i] == '#' ||
		    p->buf[i] == '\t' || yp_is_marker(p, i, '-') || yp_is_marker(p, i, '.')) {
			/* Not a continuation: back to the end of the scalar's last line. */
			p->pos = save;
			p->line -= blank + 1;
			for (p->lstart = save; p->lstart > 0 && p->buf[p->lstart - 1] != '\n' &&
			    p->buf[p->lstart - 1] != '\r'; p->lstart--)
				;
			break;
		}
		p->pos = i;
		if (blank == 0)
			buf_add(&b, " ", 1);
		while (blank-- > 0)
			buf_add(&b, "\n", 1);
	}
	if (b.err != 0) {
		buf_free(&b);
		return yp_fail(p, line, "out of memory");
	}
	return buf_take(&b, NULL);
}
