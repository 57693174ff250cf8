/* alloc.c: see alloc.h. */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"

#define ALLOC_CLASSES	11			/* blocks of 32 << c bytes, c < ALLOC_CLASSES */
#define ALLOC_LARGE	ALLOC_CLASSES		/* the class of a block mapped on its own */
#define ALLOC_ARENA	(128 * 1024)		/* the classes' blocks come from mappings this big */
#define ALLOC_USED	0xa110c8edu
#define ALLOC_FREE	0xf4eeb10cu

struct alloc_hdr {
	uint32_t	magic;	/* ALLOC_USED or ALLOC_FREE */
	uint32_t	cls;
	size_t		size;	/* the block's bytes, this header's included */
};

_Static_assert(sizeof(struct alloc_hdr) == 16, "the header keeps blocks 16-byte aligned");
_Static_assert(ALLOC_SMALL_MAX + sizeof(struct alloc_hdr) == (size_t)32 << (ALLOC_CLASSES - 1),
    "ALLOC_SMALL_MAX is the largest class's payload");

/* Each class's free blocks, linked through their first bytes. */
static void	*free_list[ALLOC_CLASSES];
static char	*arena_next, *arena_end;

/* The header of block p, which must say magic and be consistent; else a trap. */
static struct alloc_hdr *
alloc_hdr(void *p, uint32_t magic)
{
	struct alloc_hdr	*h = (struct alloc_hdr *)p - 1;

	if (((uintptr_t)p & 15) != 0 || h->magic != magic || h->cls > ALLOC_LARGE ||
	    (h->cls < ALLOC_LARGE ? h->size != (size_t)32 << h->cls :
	    h->size <= ALLOC_SMALL_MAX + sizeof(*h)))
		__builtin_trap();
	return h;
}

static void *
alloc_map(size_t size)
{
	void	*m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

void *
alloc_get(size_t n)
{
	struct alloc_hdr	*h;
	size_t			 size = 32;
	uint32_t		 c = 0;

	if (n > ALLOC_SMALL_MAX) {
		if (n > SIZE_MAX / 2) {
			errno = ENOMEM;
			return NULL;
		}
		size = (n + sizeof(*h) + 15) & ~(size_t)15;
		if ((h = alloc_map(size)) == NULL)
			return NULL;
		c = ALLOC_LARGE;
	} else {
		while (size - sizeof(*h) < n) {
			size <<= 1;
			c++;
		}
		if (free_list[c] != NULL) {
			h = alloc_hdr(free_list[c], ALLOC_FREE);
			if (h->cls != c)
				__builtin_trap();
			memcpy(&free_list[c], h + 1, sizeof(free_list[c]));
		} else {
			if ((size_t)(arena_end - arena_next) < size) {
				if ((arena_next = alloc_map(ALLOC_ARENA)) == NULL)
					return NULL;
				arena_end = arena_next + ALLOC_ARENA;
			}
			h = (struct alloc_hdr *)arena_next;
			arena_next += size;
		}
	}
	h->magic = ALLOC_USED;
	h->cls = c;
	h->size = size;
	return h + 1;
}

void *
alloc_zeroed(size_t n, size_t size)
{
	void	*p;

	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if ((p = alloc_get(n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

void *
alloc_resize(void *p, size_t n)
{
	struct alloc_hdr	*h;
	void			*q;

	if (p == NULL)
		return alloc_get(n);
	h = alloc_hdr(p, ALLOC_USED);
	if (n <= h->size - sizeof(*h))
		return p;
	if ((q = alloc_get(n)) == NULL)
		return NULL;
	memcpy(q, p, h->size - sizeof(*h));
	alloc_put(p);
	return q;
}

void
alloc_put(void *p)
{
	struct alloc_hdr	*h;

	if (p == NULL)
		return;
	h = alloc_hdr(p, ALLOC_USED);
	if (h->cls == ALLOC_LARGE) {
		munmap(h, h->size);
		return;
	}
	h->magic = ALLOC_FREE;
	memcpy(p, &free_list[h->cls], sizeof(free_list[h->cls]));
	free_list[h->cls] = p;
}

#ifdef CARRIER_LOCK_OWN_MALLOC
/* The C library's names, for the static binaries (alloc.h). */
void *
malloc(size_t n)
{
	return alloc_get(n);
}

void *
calloc(size_t n, size_t size)
{
	return alloc_zeroed(n, size);
}

void *
realloc(void *p, size_t n)
{
	return alloc_resize(p, n);
}

void
free(void *p)
{
	alloc_put(p);
}
#endif
