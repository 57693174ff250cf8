/* sig.c: see sig.h. */
#include <signal.h>
#include <string.h>

#include "sig.h"

/* One flag per signal: a handler may only store to volatile sig_atomic_t. */
static volatile sig_atomic_t caught[NSIG];

static void
sig_handler(int signo)
{
	if (signo > 0 && signo < NSIG)
		caught[signo] = 1;
}

static void
catch(int signo)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = signo == SIGCHLD ? SA_NOCLDSTOP : 0;	/* no SA_RESTART */
	sigaction(signo, &sa, NULL);
}

void
sig_install(int supervise)
{
	catch(SIGINT);
	catch(SIGTERM);
	catch(SIGHUP);
	if (supervise) {
		catch(SIGQUIT);
		catch(SIGCHLD);
	}
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
