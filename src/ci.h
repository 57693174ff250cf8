/*
 * ci.h: what the CI system that runs us says about the job, from its own environment
 * variables: Jenkins (BUILD_TAG, BUILD_URL, JOB_NAME, BUILD_NUMBER), GitLab (CI_JOB_ID,
 * CI_JOB_URL, CI_PROJECT_PATH) and GitHub Actions (GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT,
 * GITHUB_JOB, GITHUB_SERVER_URL, GITHUB_REPOSITORY). Values that are not printable text
 * or longer than CI_TEXT_MAX are not used (said with -v), never cut.
 */
#ifndef CL_CI_H
#define CL_CI_H

#include <stddef.h>

#define CI_TEXT_MAX	512

struct ci_job {
	char	owner[CI_TEXT_MAX + 1];	/* a key unique to this job run, "" outside CI */
	char	url[CI_TEXT_MAX + 1];	/* the build's web page, or "" */
	char	name[CI_TEXT_MAX + 1];	/* the job or project, or "" */
};

/* Fills j from the environment (all "" when no CI system is recognised). */
void	ci_job_read(struct ci_job *j);

/* 1 when s is 1 to CI_TEXT_MAX bytes of printable text (no control bytes). */
int	ci_text_ok(const char *s);

#endif
