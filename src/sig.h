/*
 * sig.h: signals during long waits and while run's command runs.
 *
 * sig_install() catches every signal whose default action would end carrier-lock
 * (HUP, INT, QUIT, TERM, USR1, USR2, ALRM, PIPE, VTALRM, PROF, XCPU, XFSZ, IO, PWR,
 * STKFLT and the real-time signals), and for `run` also SIGCHLD, without SA_RESTART, so
 * a blocked poll() returns EINTR; sig_pending() then says which signal is waiting (0 if
 * none). The I/O layers check it on EINTR and fail with errno = EINTR, so callers unwind:
 * acquire exits 128+N, run forwards the signal to its child or reaps it, then calls
 * sig_take() and goes on. So no such signal can end carrier-lock without it deciding
 * what becomes of the lock (only SIGKILL and faults can; run's child dies with it then).
 *
 * A signal ignored on entry (nohup, `trap '' HUP`, env --ignore-signal) stays ignored:
 * it is not caught, and run's command inherits the ignoring, as with nohup and flock.
 * SIGPIPE raised by our own write to a closed pipe is not a request to stop (the write
 * fails with EPIPE instead); only a SIGPIPE sent by a process counts.
 */
#ifndef CL_SIG_H
#define CL_SIG_H

#include <stdint.h>

/* supervise: also catch SIGCHLD (to notice the child's end). */
void	sig_install(int supervise);
/* The lowest-numbered caught signal not yet taken, or 0. */
int	sig_pending(void);
/* Returns sig_pending() and forgets that signal. */
int	sig_take(void);
/*
 * In a child about to exec: every signal we handle back to its default, as exec would
 * do, but at once, so that a signal forwarded before the exec is not caught and lost.
 * Signals ignored on entry stay ignored.
 */
void	sig_default_handlers(void);
/* Sleeps up to ms, returning early when a signal is pending. */
void	sig_nap(int64_t ms);
/* 1 when signo was ignored when carrier-lock started (and so is still ignored). */
int	sig_ignored_on_entry(int signo);

#endif
