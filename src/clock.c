/* clock.c: see clock.h. */
#include <time.h>

#include "clock.h"

int64_t
clock_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
clock_left(int64_t deadline)
{
	int64_t	now = clock_ms();

	if (deadline <= now)
		return 0;
	if (deadline - now > INT32_MAX)
		return INT32_MAX;
	return (int)(deadline - now);
}

int64_t
clock_deadline(int64_t ms)
{
	int64_t	now = clock_ms();

	if (ms <= 0)
		return now;
	if (ms >= CLOCK_NEVER - now)
		return CLOCK_NEVER;
	return now + ms;
}

int64_t
clock_wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
