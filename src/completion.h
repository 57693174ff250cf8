/*
 * completion.h: shell completion. "carrier-lock completion bash|zsh|fish" prints a script
 * for that shell; the scripts (and kubectl 1.26+, through kubectl_complete-carrier_lock)
 * call the hidden "carrier-lock __complete WORDS... CURRENT", which prints one candidate
 * a line that starts with CURRENT, then ":N", a Cobra directive (4: no file names; 0: the
 * shell may complete file names). Candidates: actions, flags, duration examples, the
 * kubeconfig's context names and the namespaces its contexts name (the kubeconfig of
 * --kubeconfig among the words, else the files of $KUBECONFIG, else ~/.kube/config;
 * unreadable files add nothing and print nothing).
 */
#ifndef CL_COMPLETION_H
#define CL_COMPLETION_H

/*
 * argv[0] is "completion" or "__complete". Returns 0 when done, -1 after a usage error
 * (printed), 1 when stdout could not be written.
 */
int	completion_main(int argc, char **argv);

#endif
