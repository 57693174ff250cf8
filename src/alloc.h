/*
 * alloc.h: a small allocator for the static binaries.
 *
 * With CARRIER_LOCK_OWN_MALLOC (build.sh sets it for the musl builds only) src/alloc.c
 * defines malloc, calloc, realloc and free with these functions: musl's mallocng is
 * about 9 KiB of code, this is under 1 KiB (issue 13's size budget). The sanitizer,
 * fuzz and valgrind builds keep the host libc's allocator, so ASan and memcheck see
 * every allocation; tests/unit/test_alloc.c tests these functions directly.
 *
 * Design: sizes up to ALLOC_SMALL_MAX are served from power-of-two classes (32 bytes to
 * 32 KiB blocks, a 16-byte header included) carved from anonymous mappings and kept on
 * one free list per class when freed; larger ones get a mapping of their own, unmapped
 * when freed. Every block has a header with a magic word, its class and its size, checked
 * on free and realloc, and on every block taken from a free list: a double free, a
 * pointer not from here or a header overwritten by an overflow stops the process at once
 * (a trap instruction, SIGILL; a mapped block freed twice faults, its mapping gone)
 * instead of corrupting the heap further. It is not mallocng: a use after free that
 * writes a plausible header and list pointer into a freed block is not caught, and
 * freed small blocks stay with the process. Memory is 16-byte aligned. Not thread-safe: carrier-lock never starts a thread (its children are
 * processes: fork, then exec).
 */
#ifndef CL_ALLOC_H
#define CL_ALLOC_H

#include <stddef.h>

/* The largest request served from the classes (32 KiB less the header). */
#define ALLOC_SMALL_MAX	(32768 - 16)

/* As malloc: n bytes, or NULL with errno ENOMEM. alloc_get(0) is a unique pointer. */
void	*alloc_get(size_t n);
/* As calloc: n * size bytes of zeros; NULL with errno ENOMEM, also when n * size overflows. */
void	*alloc_zeroed(size_t n, size_t size);
/*
 * As realloc: p (NULL: a new block) resized to n bytes, its contents kept up to the
 * smaller size; the same pointer when the block is big enough already. NULL with errno
 * ENOMEM when it cannot: p is still valid then.
 */
void	*alloc_resize(void *p, size_t n);
/* As free: NULL does nothing. */
void	 alloc_put(void *p);

#endif
