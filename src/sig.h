/*
 * sig.h: SIGINT/SIGTERM/SIGHUP handling for long waits.
 *
 * sig_install() sets handlers without SA_RESTART, so a blocked poll() returns EINTR;
 * sig_pending() then returns the signal number received (0 if none). I/O layers check
 * it on EINTR and fail with errno = EINTR, so callers unwind and clean up.
 */
#ifndef CL_SIG_H
#define CL_SIG_H

void	sig_install(void);
int	sig_pending(void);

#endif
