/*
 * kcfg_util.c: what kcfg.c, kcfg_entry.c and kcfg_incluster.c share (kcfg_int.h):
 * reading a file under KCFG_MAX_FILE, messages with file:line, string lookups in a
 * kubeconfig mapping. It calls none of them, so calls between the kcfg files go one way.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "kcfg.h"
#include "kcfg_int.h"
#include "log.h"
#include "yaml.h"

#define KCFG_READ_START	8192	/* first buffer size: most kubeconfigs fit */
#define KCFG_STR(x)	#x
#define KCFG_XSTR(x)	KCFG_STR(x)	/* a number's macro as a string literal */

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
	/* One byte past the limit tells "exactly the limit" from "more". */
	struct buf	 b = { .max = (size_t)KCFG_MAX_FILE + 1, .wipe = 1 };
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
	if (buf_reserve(&b, KCFG_READ_START) != 0)
		goto syserr;
	for (;;) {
		if (b.len == b.cap && buf_reserve(&b, 1) != 0)
			goto syserr;
		do
			r = read(fd, b.p + b.len, b.cap - b.len);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			goto syserr;
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > (size_t)KCFG_MAX_FILE) {
			*why = "file larger than " KCFG_XSTR(KCFG_MAX_FILE_MIB) " MiB "
			    "(KCFG_MAX_FILE)";
			close(fd);
			buf_free(&b);
			errno = EFBIG;
			return NULL;
		}
	}
	close(fd);
	return (unsigned char *)buf_take(&b, len);
syserr:
	e = errno;
	*why = strerror(e);
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	errno = e;
	return NULL;
}

int
kcfg_get_str(const struct kcfg_file *f, const struct yaml_node *map, const char *key,
    const char *what, const char **out, size_t *line)
{
	const struct yaml_node	*v = yaml_get(map, key, line);

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
	buf_wipe(s + (n - b), *len - (n - b));
	*len = n - b;
}
