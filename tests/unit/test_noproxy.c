/*
 * test_noproxy.c: NO_PROXY decisions (noproxy.h), driven by tests/data/noproxy/cases.txt:
 * Go's own httpproxy cases first, then the corners of each rule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noproxy.h"
#include "test.h"

int
main(void)
{
	FILE	*f = fopen("tests/data/noproxy/cases.txt", "r");
	char	 line[1024], go_list[512] = "", descr[1200];
	int	 cases = 0;

	test_cond("cases file opens", f != NULL);
	if (f == NULL)
		return test_report();
	while (fgets(line, sizeof(line), f) != NULL) {
		char	*fld[4], *p = line;
		int	 n = 0, got;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		while (n < 4 && p != NULL) {
			fld[n++] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (n == 2 && strcmp(fld[0], "@GO") == 0) {
			snprintf(go_list, sizeof(go_list), "%s", fld[1]);
			continue;
		}
		if (n != 4) {
			test_cond("well-formed case line", 0);
			continue;
		}
		if (strcmp(fld[0], "@GO") == 0)
			fld[0] = go_list;
		got = noproxy_bypass(strcmp(fld[0], "-") == 0 ? NULL : fld[0], fld[1], fld[2]);
		snprintf(descr, sizeof(descr), "NO_PROXY \"%s\": %s port %s -> %s", fld[0], fld[1],
		    fld[2], fld[3]);
		test_cond(descr, got == (strcmp(fld[3], "direct") == 0));
		cases++;
	}
	fclose(f);
	test_cond("at least 75 cases", cases >= 75);
	return test_report();
}
