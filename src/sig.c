/* sig.c: see sig.h. */
#include <signal.h>
#include <string.h>

#include "sig.h"

static volatile sig_atomic_t pending;

static void
sig_handler(int signo)
{
	pending = signo;
}

void
sig_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: blocked poll() must return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
sig_pending(void)
{
	return pending;
}
