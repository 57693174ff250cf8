/* ci.c: see ci.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci.h"
#include "log.h"

int
ci_text_ok(const char *s)
{
	size_t	i, n = strnlen(s, CI_TEXT_MAX + 1);

	if (n == 0 || n > CI_TEXT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Joins the variables names[] (all set) with sep[] into out; "" if one is missing or bad. */
static void
join(char *out, const char *prefix, const char *const names[], const char *const seps[],
    size_t n)
{
	char	buf[CI_TEXT_MAX + 1];
	size_t	i, len;
	int	w;

	out[0] = '\0';
	w = snprintf(buf, sizeof(buf), "%s", prefix);
	for (i = 0; i < n; i++) {
		const char *v = getenv(names[i]);
		if (v == NULL || *v == '\0')
			return;
		len = (size_t)w;
		w = snprintf(buf + len, sizeof(buf) - len, "%s%s", v, seps[i]);
		if (w < 0 || (size_t)w >= sizeof(buf) - len) {
			log_verbose("CI: $%s makes the value longer than %d bytes; not used",
			    names[i], CI_TEXT_MAX);
			return;
		}
		w += (int)len;
	}
	if (!ci_text_ok(buf)) {
		log_verbose("CI: $%s holds control characters; not used", names[0]);
		return;
	}
	memcpy(out, buf, strlen(buf) + 1);
}

void
ci_job_read(struct ci_job *j)
{
	memset(j, 0, sizeof(*j));
	if (getenv("GITHUB_RUN_ID") != NULL) {
		static const char *const own[] = { "GITHUB_REPOSITORY", "GITHUB_RUN_ID",
		    "GITHUB_RUN_ATTEMPT", "GITHUB_JOB" };
		static const char *const own_sep[] = { "/", "/", "/", "" };
		static const char *const url[] = { "GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
		    "GITHUB_RUN_ID" };
		static const char *const url_sep[] = { "/", "/actions/runs/", "" };
		static const char *const name[] = { "GITHUB_REPOSITORY", "GITHUB_JOB" };
		static const char *const name_sep[] = { " ", "" };

		join(j->owner, "github:", own, own_sep, 4);
		join(j->url, "", url, url_sep, 3);
		join(j->name, "", name, name_sep, 2);
	} else if (getenv("GITLAB_CI") != NULL || getenv("CI_JOB_ID") != NULL) {
		static const char *const own[] = { "CI_PROJECT_PATH", "CI_JOB_ID" };
		static const char *const own_sep[] = { "/", "" };
		static const char *const url[] = { "CI_JOB_URL" };
		static const char *const name[] = { "CI_PROJECT_PATH" };
		static const char *const none[] = { "" };

		join(j->owner, "gitlab:", own, own_sep, 2);
		join(j->url, "", url, none, 1);
		join(j->name, "", name, none, 1);
	} else if (getenv("BUILD_TAG") != NULL || getenv("JENKINS_URL") != NULL) {
		static const char *const own[] = { "BUILD_TAG" };
		static const char *const url[] = { "BUILD_URL" };
		static const char *const name[] = { "JOB_NAME", "BUILD_NUMBER" };
		static const char *const none[] = { "" };
		static const char *const name_sep[] = { " #", "" };

		join(j->owner, "jenkins:", own, none, 1);
		join(j->url, "", url, none, 1);
		join(j->name, "", name, name_sep, 2);
	}
}
