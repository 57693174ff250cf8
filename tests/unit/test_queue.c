/*
 * test_queue.c: the pure parts of the waiters' queue: the label a lock's Leases carry,
 * and the order of places in line (lock_queue_cmp, lock_queue_in_line).
 */
#include <stdlib.h>
#include <string.h>

#include "kube.h"
#include "lock_int.h"
#include "test.h"

static int
label_ok(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	return s[n - 1] != '-' && s[n - 1] != '.';
}

int
main(void)
{
	char			a[64], b[64], name[254];
	struct kube_lease	x, y, z;
	struct kube_lease	*v[3];

	lock_queue_label("carrier-lock", a, sizeof(a));
	test_cond("a short name is its own label", strcmp(a, "carrier-lock") == 0);
	memset(name, 'a', 253);
	name[253] = '\0';
	name[45] = '-';
	lock_queue_label(name, a, sizeof(a));
	test_cond("a 253-byte name gives a valid label of at most 63 bytes", label_ok(a));
	lock_queue_label(name, b, sizeof(b));
	test_cond("the same name gives the same label", strcmp(a, b) == 0);
	name[200] = 'b';
	lock_queue_label(name, b, sizeof(b));
	test_cond("names that differ past the kept prefix get different labels",
	    strcmp(a, b) != 0 && label_ok(b));

	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	memset(&z, 0, sizeof(z));
	x.name = "l-b", x.ticket = 7, x.lock = "l", x.record = "{}", x.duration_s = 10;
	y.name = "l-a", y.ticket = 9, y.lock = "l", y.record = "{}", y.duration_s = 10;
	z.name = "l-c", z.ticket = 7, z.lock = "l", z.record = "{}", z.duration_s = 10;
	v[0] = &y, v[1] = &z, v[2] = &x;
	qsort(v, 3, sizeof(*v), lock_queue_cmp);
	test_cond("places are in ticket order, ties by name",
	    v[0] == &x && v[1] == &z && v[2] == &y);
	x.written = 1000;
	test_cond("a Lease renewed within its duration (+2 s) is in line",
	    lock_queue_in_line("l", &x, 1012));
	test_cond("one not renewed for longer is not", !lock_queue_in_line("l", &x, 1013));
	test_cond("without server times a Lease counts as live", lock_queue_in_line("l", &y, 0));
	test_cond("a Lease of another lock is not in this one's line",
	    !lock_queue_in_line("m", &y, 0));
	y.ticket = 0;
	test_cond("a Lease without a ticket has no place", !lock_queue_in_line("l", &y, 0));
	return test_report();
}
