/*
 * ident.h: who holds the lock, and whether that holder still runs.
 *
 * An owner is host + PID, and, because PIDs are reused, the process's start time
 * (clock ticks after boot, /proc/PID/stat field 22) and the host's boot id
 * (/proc/sys/kernel/random/boot_id). Either may be empty when /proc is not there
 * (a FROM scratch container without /proc): liveness then falls back to the PID.
 */
#ifndef CL_IDENT_H
#define CL_IDENT_H

#include <stddef.h>
#include <sys/types.h>

#define IDENT_MAX_HOST	253	/* a DNS name; longer --host values are refused */

/*
 * 1 when s (NUL-terminated) may name the owner's host: 1 to IDENT_MAX_HOST bytes of
 * printable ASCII without spaces, so that it is printed and compared as it is. The
 * command line checks --host with it (a usage error); ident_self checks gethostname().
 */
int	ident_host_valid(const char *s);

struct ident {
	char	host[IDENT_MAX_HOST + 1];
	long	pid;
	char	proc_start[24];	/* decimal ticks, or "" when unknown */
	char	boot_id[40];	/* "" when unknown */
};

/*
 * Fills id for pid (> 0) on this machine, with host (or gethostname() when NULL).
 * Returns 0, or -1 with a logged error: gethostname() failed, or host (or the kernel's
 * name) is not ident_host_valid(); the message suggests --host for the kernel's name.
 */
int	ident_self(struct ident *id, const char *host, long pid);

enum ident_liveness {
	IDENT_ALIVE,		/* that very process still runs */
	IDENT_DEAD,		/* no such PID, a reused PID, or another boot */
};

/*
 * Judges a holder recorded on THIS host. proc_start and boot_id may be NULL or ""
 * (records of the original tool): then only the PID's existence counts.
 * *why gets a static sentence for the user ("process 123 is gone", ...).
 */
enum ident_liveness ident_check(long pid, const char *proc_start, const char *boot_id,
	    const char **why);

/*
 * 1 when the process recorded as pid (started at proc_start; NULL or "" when unknown) is
 * this process or one of its ancestors on this host, by /proc's parent chain; without
 * /proc, when it is this process or its parent. A sibling or an unrelated process is not.
 */
int	ident_is_self_or_ancestor(long pid, const char *proc_start);

/* The start time of pid in ticks after boot, as decimal into buf; -1 if unreadable. */
int	ident_proc_start(long pid, char *buf, size_t bufsz);

#endif
