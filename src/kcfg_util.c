/*
 * kcfg_util.c: what kcfg.c, kcfg_entry.c and kcfg_incluster.c share (kcfg_int.h):
 * reading a file under KCFG_MAX_FILE, messages with file:line, string lookups in a
 * kubeconfig mapping. It calls none of them, so calls between the kcfg files go one way.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kcfg.h"
#include "kcfg_int.h"
#include "log.h"
#include "yaml.h"

void
kcfg_wipe(void *p, size_t n)
{
	volatile unsigned char	*v = p;

	if (p == NULL)
		return;
	while (n-- > 0)
		*v++ = 0;
}

const char *
kcfg_q(char *buf, size_t n, const char *s)
{
	return log_sanitize(buf, n, s, strlen(s));
}

int
kcfg_err(const struct kcfg_file *f, size_t line, const char *fmt, ...)
{
	char	msg[1024], path[512], lbuf[32] = "";
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(lbuf, sizeof(lbuf), ":%zu", line);
	if (f->incluster)
		log_error("in-cluster config: %s", msg);
	else
		log_error("kubeconfig %s%s: %s", kcfg_q(path, sizeof(path), f->path), lbuf, msg);
	return -1;
}

unsigned char *
kcfg_read_file(const char *path, size_t *len, const char **why)
{
	unsigned char	*buf = NULL, *t;
	size_t		 n = 0, cap = 0;
	ssize_t		 r;
	struct stat	 st;
	int		 fd, e;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		goto syserr;
	if (fstat(fd, &st) != 0)
		goto syserr;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto syserr;
	}
	for (;;) {
		if (cap - n < 4096 + 1 && cap < (size_t)KCFG_MAX_FILE + 2) {
			/* Grow up to one byte past the cap, to tell "exactly the cap" from "more". */
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > (size_t)KCFG_MAX_FILE + 2)
				cap = (size_t)KCFG_MAX_FILE + 2;
			if ((t = malloc(cap)) == NULL)
				goto syserr;
			if (buf != NULL) {
				memcpy(t, buf, n);
				kcfg_wipe(buf, n);
				free(buf);
			}
			buf = t;
		}
		do
			r = read(fd, buf + n, cap - 1 - n);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			goto syserr;
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > (size_t)KCFG_MAX_FILE) {
			*why = "file larger than 4 MiB (KCFG_MAX_FILE)";
			close(fd);
			kcfg_wipe(buf, n);
			free(buf);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		*why = strerror(errno);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
syserr:
	e = errno;
	*why = strerror(e);
	if (fd >= 0)
		close(fd);
	if (buf != NULL) {
		kcfg_wipe(buf, n);
		free(buf);
	}
	errno = e;
	return NULL;
}

const struct yaml_node *
kcfg_map_get(const struct yaml_node *map, const char *key, size_t *line)
{
	size_t	i;

	*line = 0;
	if (map == NULL || map->kind != YAML_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0) {
			*line = map->key_lines[i];
			return map->vals[i];
		}
	return NULL;
}

int
kcfg_get_str(const struct kcfg_file *f, const struct yaml_node *map, const char *key,
    const char *what, const char **out, size_t *line)
{
	const struct yaml_node	*v = kcfg_map_get(map, key, line);

	*out = NULL;
	if (v == NULL || yaml_is_null(v))
		return 0;
	if (v->kind != YAML_SCALAR)
		return kcfg_err(f, *line, "%s of %s must be a string, not a %s", key, what,
		    v->kind == YAML_MAP ? "mapping" : "list");
	if (v->scalar[0] != '\0')
		*out = v->scalar;
	return 0;
}

void
kcfg_trim(char *s, size_t *len)
{
	size_t	n = *len, b = 0;

	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		n--;
	while (b < n && strchr(" \t\r\n", s[b]) != NULL)
		b++;
	memmove(s, s + b, n - b);
	kcfg_wipe(s + (n - b), *len - (n - b));
	*len = n - b;
}

int
kcfg_valid_namespace(const char *s)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}
