/* buf.c: see buf.h. */
#define _DEFAULT_SOURCE	/* explicit_bzero */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN	64	/* the first allocation: short texts do not grow byte by byte */

static int
buf_fail(struct buf *b, int err)
{
	b->err = err;
	errno = err;
	return -1;
}

int
buf_reserve(struct buf *b, size_t more)
{
	/* SIZE_MAX - 1: cap + 1, the NUL's byte, must not wrap. */
	size_t	 limit = b->max != 0 && b->max < SIZE_MAX ? b->max : SIZE_MAX - 1;
	size_t	 cap;
	char	*p;

	if (b->err != 0)
		return buf_fail(b, b->err);
	if (more > limit - b->len)
		return buf_fail(b, EFBIG);
	if (b->p != NULL && b->len + more <= b->cap)
		return 0;
	cap = b->cap > limit / 2 ? limit : b->cap * 2;
	if (cap < b->len + more)
		cap = b->len + more;
	if (cap < BUF_MIN)
		cap = BUF_MIN < limit ? BUF_MIN : limit;
	if (!b->wipe) {
		if ((p = realloc(b->p, cap + 1)) == NULL)
			return buf_fail(b, ENOMEM);
	} else {
		/* realloc() could leave a copy of the secret behind, unwiped. */
		if ((p = malloc(cap + 1)) == NULL)
			return buf_fail(b, ENOMEM);
		if (b->p != NULL)
			memcpy(p, b->p, b->len);
		buf_wipe_free(b->p, b->cap + 1);
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

char *
buf_take(struct buf *b, size_t *len)
{
	char	*p;
	int	 e;

	if (buf_reserve(b, 0) != 0) {
		e = errno;
		buf_free(b);
		errno = e;
		return NULL;
	}
	p = b->p;
	p[b->len] = '\0';
	if (len != NULL)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	/* All of it: bytes past len may be copies a caller left when it moved data down. */
	if (b->wipe)
		buf_wipe(b->p, b->cap + 1);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void
buf_wipe(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
}

void
buf_wipe_free(void *p, size_t n)
{
	buf_wipe(p, n);
	free(p);
}
