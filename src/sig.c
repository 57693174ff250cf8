/* sig.c: see sig.h. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "clock.h"
#include "sig.h"

/* One flag per signal: a handler may only store to volatile sig_atomic_t. */
static volatile sig_atomic_t caught[NSIG];
static unsigned char ignored[NSIG];
static unsigned char handled[NSIG];	/* we installed sig_handler */

/* Signals whose default action ends the process and that say "stop" (not faults). */
static const int terminating[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE,
	SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR,
#ifdef SIGSTKFLT
	SIGSTKFLT,
#endif
};

static void
sig_handler(int signo, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (signo <= 0 || signo >= NSIG)
		return;
	/* si_code > 0: raised by the kernel, i.e. our own write to a closed pipe. */
	if (signo == SIGPIPE && info != NULL && info->si_code > 0)
		return;
	caught[signo] = 1;
}

/* Catches signo unless it was ignored on entry; real-time signals libc keeps fail quietly. */
static void
catch(int signo)
{
	struct sigaction sa, old;

	if (sigaction(signo, NULL, &old) != 0)
		return;
	if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_IGN) {
		ignored[signo] = 1;
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sig_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked poll() must return so that we can act. */
	sa.sa_flags = SA_SIGINFO | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
	if (sigaction(signo, &sa, NULL) == 0)
		handled[signo] = 1;
}

void
sig_install(int supervise)
{
	size_t	i;
	int	s;

	for (i = 0; i < sizeof(terminating) / sizeof(terminating[0]); i++)
		catch(terminating[i]);
	for (s = SIGRTMIN; s <= SIGRTMAX; s++)
		catch(s);
	if (supervise)
		catch(SIGCHLD);
}

void
sig_default_handlers(void)
{
	int	s;

	for (s = 1; s < NSIG; s++)
		if (handled[s])
			signal(s, SIG_DFL);
}

void
sig_nap(int64_t ms)
{
	int64_t	until = clock_deadline(ms);

	while (clock_left(until) > 0 && !sig_pending())
		poll(NULL, 0, clock_left(until));
}

int
sig_ignored_on_entry(int signo)
{
	return signo > 0 && signo < NSIG && ignored[signo];
}

int
sig_pending(void)
{
	int	s;

	for (s = 1; s < NSIG; s++)
		if (caught[s])
			return s;
	return 0;
}

int
sig_take(void)
{
	int	s = sig_pending();

	if (s != 0)
		caught[s] = 0;
	return s;
}
