/*
 * clock.h: monotonic time in milliseconds, and deadlines built from it; and the wall clock.
 * A deadline is an absolute clock_ms() value; CLOCK_NEVER means no deadline.
 */
#ifndef CL_CLOCK_H
#define CL_CLOCK_H

#include <stdint.h>

#define CLOCK_NEVER INT64_MAX

int64_t	clock_ms(void);
/* Milliseconds left until deadline, clamped to [0, INT32_MAX]; poll()-ready. */
int	clock_left(int64_t deadline);
/* now + ms, saturating at CLOCK_NEVER; ms <= 0 means "now". */
int64_t	clock_deadline(int64_t ms);
/* Wall-clock time, ms since the epoch: for expiry times that others wrote, never deadlines. */
int64_t	clock_wall_ms(void);

#endif
