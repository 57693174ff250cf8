/* text.c: see text.h. */
#include <string.h>

#include "text.h"

int
text_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned	d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
text_pid(const char *s, long *pid)
{
	uint64_t	v;
	size_t		n = strlen(s);

	if (n > 10 || text_u64(s, n, 0x7fffffff, &v) != 0 || v == 0)
		return -1;
	*pid = (long)v;
	return 0;
}

int
text_dns_name(const char *s, size_t max, int dots)
{
	size_t	i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char	ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if (ch == '-' && i > 0 && i + 1 < n)
			continue;
		if (ch == '.' && dots && i > 0 && i + 1 < n && s[i - 1] != '.')
			continue;
		return 0;
	}
	return 1;
}

int
text_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_';
}

int
text_token_ok(const char *t)
{
	for (; *t != '\0'; t++)
		if (*t <= 0x20 || *t >= 0x7f)
			return 0;
	return 1;
}
