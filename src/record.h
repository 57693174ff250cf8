/*
 * record.h: the holder's record, the JSON stored in the lock's ConfigMap.
 *
 *   {"host":"ci-07","pid":"43552","start-time":"2021-11-11 11:35:06.500703278 +0000 UTC",
 *    "token":7,"proc-start":"123456","boot-id":"6f1c...","ttl":"30s","renewals":4}
 *
 * cmd-pid and cmd-start (the command's PID and start time, as proc-start) are there only
 * while `run` runs a command for the holder: the holder counts as alive while either it
 * or its command is.
 *
 * owner, keeper, reason, ci-url and ci-job say who holds it beyond host and PID: the owner
 * key a release may match instead of the PID (a CI job whose steps run in separate
 * shells), keeper (true: pid is the keeper process that renews the lease for that job),
 * and what it is for.
 *
 * queue is there in a grant: a release that found waiters wrote the record of the first
 * of them (its Lease, named by queue) with a short ttl; that waiter confirms by writing
 * its own record (lock_queue.c).
 *
 * ttl and renewals are there only for a lock taken with --ttl: the holder rewrites the
 * record (renewals + 1) within every ttl, and a waiter that has seen the same version of
 * it for longer than ttl, by its own clock, may take the lock over.
 *
 * host, pid (a string of digits) and start-time come first and are always written; the
 * rest are ours. Records of the original tool (only the first three, start-time maybe
 * with " m=+30.321635200" after it) are read as well.
 */
#ifndef CL_RECORD_H
#define CL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_MAX_LEN	4096	/* a longer stored record is corrupt, not cut */

struct ident;

struct record {
	char		*host;
	long		 pid;
	char		*start_time;
	uint64_t	 token;		/* 0 when the record has none (original tool) */
	char		*proc_start;	/* or NULL */
	char		*boot_id;	/* or NULL */
	int64_t		 ttl_ms;	/* 0: never expires */
	uint64_t	 renewals;
	long		 cmd_pid;	/* 0: no command */
	char		*cmd_start;	/* or NULL */
	char		*owner;		/* owner key (--owner, or the CI job's), or NULL */
	int		 keeper;	/* pid is a keeper process (acquire --keep) */
	char		*reason;	/* --reason, or NULL */
	char		*ci_url;	/* the CI build that holds the lock, or NULL */
	char		*ci_job;	/* its job's name, or NULL */
	char		*queue;		/* a grant: the Lease of the waiter it was handed to */
};

/*
 * What a new holder says about itself beyond its identity: each may be NULL. Values are
 * printable text (the CLI and ci.c check); they are stored JSON-escaped and sanitised
 * when printed.
 */
struct record_info {
	const char	*owner;
	int		 keeper;
	const char	*reason;
	const char	*ci_url;
	const char	*ci_job;
	const char	*queue;		/* a grant: the Lease of the waiter it is handed to */
};

/*
 * Builds a record for id with fencing token, taken at start_time (NULL: now), with a
 * ttl (0: none) renewed so many times, running command cmd (NULL: none; its host and
 * boot are id's), with info (NULL: none); returns malloc'd JSON text (one line) or NULL
 * on out of memory.
 */
char	*record_build(const struct ident *id, uint64_t token, const char *start_time,
	    int64_t ttl_ms, uint64_t renewals, const struct ident *cmd,
	    const struct record_info *info);

/*
 * Parses stored text into r. Returns 0, or -1 with *why (static) saying what is wrong:
 * not JSON, not an object, a missing or mistyped host/pid/start-time, too long.
 */
int	 record_parse(const char *text, struct record *r, const char **why);
void	 record_clear(struct record *r);

/* 1 when the text is a free lock: empty, or an empty JSON object. */
int	 record_is_free(const char *text);

/* One line of stored text, whitespace outside strings removed; malloc'd or NULL. */
char	*record_compact(const char *text);

/* The current time in the original's layout ("2006-01-02 15:04:05.000000000 +0000 UTC"). */
void	 record_now(char *buf, size_t bufsz);

#endif
