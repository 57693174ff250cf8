/* test_duration.c: Go duration syntax, driven by tests/data/duration/cases.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "test.h"

int
main(void)
{
	FILE	*f = fopen("tests/data/duration/cases.txt", "r");
	char	 line[256], descr[300], buf[64];
	int	 cases = 0;
	int64_t	 ms;

	test_cond("cases file opens", f != NULL);
	if (f == NULL)
		return test_report();
	while (fgets(line, sizeof(line), f) != NULL) {
		char	*tab, *want;

		if (line[0] == '#')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		want = tab + 1;
		cases++;
		snprintf(descr, sizeof(descr), "duration \"%s\" -> %s", line, want);
		if (strcmp(want, "error") == 0)
			test_cond(descr, duration_parse(line, &ms) == -1);
		else
			test_cond(descr, duration_parse(line, &ms) == 0 &&
			    ms == strtoll(want, NULL, 10));
	}
	fclose(f);
	test_cond("at least 30 cases", cases >= 30);
	test_cond("NULL is an error", duration_parse(NULL, &ms) == -1);
	test_cond("format 1h30m0s", strcmp(duration_format(5400000, buf, sizeof(buf)), "1h30m0s") == 0);
	test_cond("format 500ms", strcmp(duration_format(500, buf, sizeof(buf)), "500ms") == 0);
	test_cond("format 1.5s", strcmp(duration_format(1500, buf, sizeof(buf)), "1.5s") == 0);
	test_cond("format 2m0.25s", strcmp(duration_format(120250, buf, sizeof(buf)), "2m0.25s") == 0);
	test_cond("format 0s", strcmp(duration_format(0, buf, sizeof(buf)), "0s") == 0);
	return test_report();
}
