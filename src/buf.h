/*
 * buf.h: the one growable byte buffer, after antirez's sds: one growth rule (double, at
 * least BUF_MIN, at most the buffer's max), one overflow check (before any allocation),
 * and a failure that sticks, so that a run of appends is checked once, at the end.
 * Also the one way to wipe secrets.
 *
 * A struct buf of zeros is an empty buffer without a limit. The buffer owns b->p; a
 * caller may write up to b->cap - b->len bytes at b->p + b->len after buf_reserve() and
 * then add what it wrote to b->len. Nothing here logs.
 */
#ifndef CL_BUF_H
#define CL_BUF_H

#include <stddef.h>

struct buf {
	char	*p;	/* b->cap + 1 bytes (room for a NUL), or NULL before the first reserve */
	size_t	 len;	/* bytes in use */
	size_t	 cap;	/* bytes usable, the NUL's byte not counted */
	size_t	 max;	/* len never exceeds it; 0: no limit but memory */
	int	 wipe;	/* holds secrets: memory is wiped before it is freed or moved */
	int	 err;	/* 0, or the errno of the first failure (ENOMEM, EFBIG): sticky */
};

/*
 * Makes room for more bytes after b->len (and a NUL). Returns 0, or -1 with errno and
 * b->err set: EFBIG when b->len + more would pass b->max, ENOMEM; also -1 (errno b->err)
 * after any earlier failure. On failure the contents are unchanged and still owned by b.
 */
int	 buf_reserve(struct buf *b, size_t more);
/* Appends s[0..n) and keeps b->p NUL-terminated; after a failure, does nothing. */
void	 buf_add(struct buf *b, const void *s, size_t n);
/*
 * Hands the contents to the caller: a malloc'd NUL-terminated string ("" when empty;
 * the caller frees it, after buf_wipe() if b->wipe), its length in *len (len may be
 * NULL). b is left empty, with its max and wipe kept. Returns NULL (errno set) after an
 * earlier failure, or when an empty b cannot get its one byte; the contents are freed.
 */
char	*buf_take(struct buf *b, size_t *len);
/* Frees the contents (wiped first if b->wipe) and empties b; max and wipe are kept. */
void	 buf_free(struct buf *b);

/* Overwrites p[0..n) with zeros in a way the compiler keeps; p may be NULL. */
void	 buf_wipe(void *p, size_t n);
/* buf_wipe(p, n), then free(p). */
void	 buf_wipe_free(void *p, size_t n);

#endif
