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

struct ident {
	char	host[IDENT_MAX_HOST + 1];
	long	pid;
	char	proc_start[24];	/* decimal ticks, or "" when unknown */
	char	boot_id[40];	/* "" when unknown */
};

/*
 * Fills id for pid (> 0) on this machine, with host (or gethostname() when NULL).
 * Returns 0, or -1 with a logged error (host name too long or not printable).
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

/* The start time of pid in ticks after boot, as decimal into buf; -1 if unreadable. */
int	ident_proc_start(long pid, char *buf, size_t bufsz);

#endif
