/*
 * exec.h: the exec credential plugin source (a user's "exec:"), as client-go runs one.
 *
 * The command is run directly (execve, no shell): found on PATH, or at the path
 * kcfg_exec.c made absolute. Its environment is ours, with the entry's env added (an
 * entry replaces a variable of the same name) and KUBERNETES_EXEC_INFO, the request
 * (execcred.h). Its stdin is our terminal when the session is interactive, else empty
 * (a pipe without writer, so no /dev/null is needed in an empty root); its stderr is
 * ours (its prompts and messages are for the user); its stdout is read, at most
 * EXECCRED_MAX_REPLY bytes, and wiped after parsing. A plugin still running at the
 * deadline, or when a signal arrives for us, or whose output is too long, is killed
 * (SIGKILL) and reaped; it also gets SIGKILL when carrier-lock dies.
 */
#ifndef CL_EXEC_H
#define CL_EXEC_H

#include <stdint.h>

struct cred_value;
struct kcfg;

/*
 * A cred_get_fn (cred.h) for k->exec. Errors are one line naming the plugin and the user
 * ("exec plugin \"aws\" of user \"ci\": exited with status 1"); a command not found also
 * prints its installHint. interactiveMode Always without a terminal fails before running.
 */
int	exec_cred_get(const struct kcfg *k, int64_t deadline, int rejected,
	    struct cred_value *out);

#endif
