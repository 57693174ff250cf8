/*
 * sig.h: signals during long waits.
 *
 * sig_install() catches SIGINT, SIGTERM and SIGHUP (and, for `run`, SIGQUIT and SIGCHLD)
 * without SA_RESTART, so a blocked poll() returns EINTR; sig_pending() then says which
 * signal is waiting (0 if none). The I/O layers check it on EINTR and fail with errno =
 * EINTR, so callers unwind: acquire exits 128+N, run forwards the signal to its child or
 * reaps it, then calls sig_take() and goes on.
 */
#ifndef CL_SIG_H
#define CL_SIG_H

/* supervise: also catch SIGQUIT (to forward) and SIGCHLD (to notice the child's end). */
void	sig_install(int supervise);
/* The lowest-numbered caught signal not yet taken, or 0. */
int	sig_pending(void);
/* Returns sig_pending() and forgets that signal. */
int	sig_take(void);

#endif
