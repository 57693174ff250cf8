/* exec.c: see exec.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "cred.h"
#include "exec.h"
#include "execcred.h"
#include "kcfg.h"
#include "log.h"
#include "sig.h"

#define EXEC_INFO_VAR	"KUBERNETES_EXEC_INFO"
#define EXEC_MAX_ENV	65536		/* variables in the plugin's environment */
#define EXEC_REAP_MS	10		/* between checks on a plugin that closed stdout */

extern char **environ;

/* A running plugin. */
struct plugin {
	const struct kcfg_exec	*x;
	pid_t			 pid;
	int			 out;		/* its stdout, or -1 */
	int			 status;
	int			 reaped;
	sigset_t		 mask;		/* ours before the run */
};

/* 1 when p names a regular file someone may execute (Go's exec.LookPath test). */
static int
executable(const char *p)
{
	struct stat	st;

	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

/* The plugin's path into buf: x->path, or the first match on PATH. -1: not found. */
static int
exec_lookup(const struct kcfg_exec *x, char *buf, size_t n)
{
	const char	*path = getenv("PATH"), *d, *e;
	int		 r;

	if (x->path != NULL) {
		if (snprintf(buf, n, "%s", x->path) >= (int)n)
			return -1;
		return access(buf, F_OK) == 0 ? 0 : -1;
	}
	for (d = path; d != NULL && *d != '\0'; d = *e ? e + 1 : e) {
		e = d + strcspn(d, ":");
		if (e == d || d[0] != '/')
			continue;	/* "" and relative entries would mean the cwd: as Go, no */
		r = snprintf(buf, n, "%.*s/%s", (int)(e - d), d, x->command);
		if (r > 0 && (size_t)r < n && executable(buf))
			return 0;
	}
	return -1;
}

static void
exec_not_found(const struct kcfg_exec *x)
{
	const char	*h, *nl;
	char		 q[512];

	if (x->path != NULL)
		log_error("%s: %s: no such file", x->where,
		    log_sanitize(q, sizeof(q), x->path, strlen(x->path)));
	else
		log_error("%s: command not found on PATH", x->where);
	for (h = x->install_hint; h != NULL && *h != '\0'; h = *nl ? nl + 1 : nl) {
		nl = h + strcspn(h, "\n");
		log_info("%s", log_sanitize(q, sizeof(q), h, (size_t)(nl - h)));
	}
}

/* 1 when variable entry "NAME=..." is named name (of len bytes). */
static int
env_named(const char *entry, const char *name, size_t len)
{
	return strncmp(entry, name, len) == 0 && entry[len] == '=';
}

/* "NAME=VALUE" in a new string, or NULL. */
static char *
env_pair(const char *name, const char *value)
{
	size_t	a = strlen(name), b = strlen(value);
	char	*s;

	if (a > SIZE_MAX - b - 2 || (s = malloc(a + b + 2)) == NULL)
		return NULL;
	memcpy(s, name, a);
	s[a] = '=';
	memcpy(s + a + 1, value, b + 1);
	return s;
}

static void
env_free(char **envp, size_t owned_from)
{
	size_t	i;

	if (envp == NULL)
		return;
	for (i = owned_from; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

/*
 * Our environment without what the entry sets, then the entry's env (the last of a
 * name wins, as in Go), then KUBERNETES_EXEC_INFO=info. *owned_from: entries from there
 * on are the new strings.
 */
static char **
exec_env(const struct kcfg_exec *x, const char *info, size_t *owned_from)
{
	char		**envp;
	size_t		 n = 0, i, j, k = 0;

	while (environ != NULL && environ[n] != NULL)
		n++;
	if (n > EXEC_MAX_ENV || x->nenv > EXEC_MAX_ENV) {
		log_error("%s: too many environment variables", x->where);
		return NULL;
	}
	if ((envp = calloc(n + x->nenv + 2, sizeof(*envp))) == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		int	set = env_named(environ[i], EXEC_INFO_VAR, strlen(EXEC_INFO_VAR));

		for (j = 0; j < x->nenv && !set; j++)
			set = env_named(environ[i], x->env[j].name, strlen(x->env[j].name));
		if (!set)
			envp[k++] = environ[i];
	}
	*owned_from = k;
	for (i = 0; i < x->nenv; i++) {
		int	later = strcmp(x->env[i].name, EXEC_INFO_VAR) == 0;

		for (j = i + 1; j < x->nenv && !later; j++)
			later = strcmp(x->env[i].name, x->env[j].name) == 0;
		if (later)
			continue;
		if ((envp[k++] = env_pair(x->env[i].name, x->env[i].value)) == NULL)
			goto oom;
	}
	if ((envp[k++] = env_pair(EXEC_INFO_VAR, info)) == NULL)
		goto oom;
	return envp;
oom:
	log_error("out of memory");
	env_free(envp, *owned_from);
	return NULL;
}

/*
 * Starts the plugin at path. Returns 0 with p->pid and p->out set, or -1 (logged). The
 * child's exec failure comes back on a close-on-exec pipe, so it is reported here.
 */
static int
plugin_start(struct plugin *p, const char *path, char **envp, int interactive)
{
	int		 out[2], err[2], in[2] = { -1, -1 }, e = 0;
	sigset_t	 all, mask;
	pid_t		 parent;
	ssize_t		 n;
	char		 q[512];

	if (pipe2(out, O_CLOEXEC) != 0)
		goto pipes;
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		goto pipes;
	}
	if (!interactive && pipe2(in, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		goto pipes;
	}
	/* No handler of ours may run in the child before its exec. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &mask);
	parent = getpid();
	if ((p->pid = fork()) == 0) {
		if ((in[0] >= 0 && dup2(in[0], 0) < 0) || dup2(out[1], 1) < 0)
			e = errno;
		/* Dies with us; if we died before it was set, at once. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		sig_default_handlers();
		sigprocmask(SIG_SETMASK, &p->mask, NULL);
		if (e == 0) {
			execve(path, p->x->argv, envp);
			e = errno;
		}
		while (write(err[1], &e, sizeof(e)) < 0 && errno == EINTR)
			;
		_exit(127);
	}
	e = errno;
	/*
	 * SIGCHLD stays blocked until the plugin is reaped (see plugin_reaped), from before
	 * it can end: run catches SIGCHLD, and the plugin's must not read as a signal to us.
	 */
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	close(out[1]);
	close(err[1]);
	if (in[0] >= 0) {
		close(in[0]);
		close(in[1]);
	}
	if (p->pid < 0) {
		close(out[0]);
		close(err[0]);
		log_error("%s: fork: %s", p->x->where, strerror(e));
		return -1;
	}
	while ((n = read(err[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(err[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->reaped = 1;
		close(out[0]);
		log_error("%s: cannot run %s: %s", p->x->where,
		    log_sanitize(q, sizeof(q), path, strlen(path)), strerror(e));
		return -1;
	}
	p->out = out[0];
	return 0;
pipes:
	log_error("%s: pipe: %s", p->x->where, strerror(errno));
	return -1;
}

/*
 * After the plugin is reaped: its SIGCHLD, held back, is taken, and raised again when
 * another child (run's command) has ended too, so that run still hears of that one.
 */
static void
plugin_reaped(struct plugin *p)
{
	sigset_t		chld;
	siginfo_t		si;
	struct timespec		zero = { 0, 0 };
	int			other;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD)
		;
	memset(&si, 0, sizeof(si));
	other = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0;
	sigprocmask(SIG_SETMASK, &p->mask, NULL);
	if (other)
		kill(getpid(), SIGCHLD);
}

static void
plugin_kill(struct plugin *p)
{
	if (!p->reaped) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->reaped = 1;
	}
}

/*
 * Waits for pfd (NULL: only for the deadline). Returns > 0 when it is ready, or -1 with
 * errno EINTR (a signal for us is pending), ETIMEDOUT (the deadline passed) or poll's.
 */
static int
plugin_wait(struct pollfd *pfd, int64_t deadline)
{
	int	n;

	for (;;) {
		if (sig_pending()) {
			errno = EINTR;
			return -1;
		}
		if (clock_left(deadline) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(pfd, pfd != NULL ? 1 : 0, clock_left(deadline));
		if (n > 0 || (n < 0 && errno != EINTR))
			return n;
	}
}

static void
say_timeout(const struct kcfg_exec *x, int64_t started, int64_t deadline)
{
	log_error("%s: did not finish within %lld ms (the request timeout); killed it",
	    x->where, (long long)(deadline - started));
}

/*
 * Reads the plugin's stdout into b to EOF, then waits for its end. Returns 0 with
 * p->status, or -1 (logged, or errno EINTR) with the plugin killed.
 */
static int
plugin_collect(struct plugin *p, struct buf *b, int64_t started, int64_t deadline)
{
	struct pollfd	pfd;
	ssize_t		n;
	pid_t		r;

	for (;;) {
		pfd.fd = p->out;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (plugin_wait(&pfd, deadline) < 0)
			goto stopped;
		/* b->max is one byte over the limit: reading it is how we know. */
		if (b->len == b->max || buf_reserve(b, b->max - b->len < 65536 ?
		    b->max - b->len : 65536) != 0) {
			if (b->len == b->max)
				log_error("%s: wrote more than %d bytes to stdout; killed it",
				    p->x->where, EXECCRED_MAX_REPLY);
			else
				log_error("out of memory");
			plugin_kill(p);
			return -1;
		}
		n = read(p->out, b->p + b->len, b->cap - b->len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_error("%s: reading its output: %s", p->x->where, strerror(errno));
			plugin_kill(p);
			return -1;
		}
		b->len += (size_t)n;
		b->p[b->len] = '\0';
	}
	/* Its stdout is closed; it may still be running. */
	for (;;) {
		while ((r = waitpid(p->pid, &p->status, WNOHANG)) < 0 && errno == EINTR)
			;
		if (r == p->pid) {
			p->reaped = 1;
			return 0;
		}
		if (r < 0) {
			log_error("%s: waitpid: %s", p->x->where, strerror(errno));
			p->reaped = 1;
			return -1;
		}
		if (plugin_wait(NULL, clock_left(deadline) < EXEC_REAP_MS ? deadline :
		    clock_deadline(EXEC_REAP_MS)) < 0 && errno != ETIMEDOUT)
			goto stopped;
		if (clock_left(deadline) == 0) {
			errno = ETIMEDOUT;
			goto stopped;
		}
	}
stopped:
	n = errno;
	plugin_kill(p);
	if (n == ETIMEDOUT)
		say_timeout(p->x, started, deadline);
	errno = (int)n;
	return -1;
}

/* Logs a plugin's failed end: its exit status or its signal, by number and name. */
static void
say_status(const struct kcfg_exec *x, int status)
{
	if (WIFEXITED(status))
		log_error("%s: exited with status %d", x->where, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_error("%s: was killed by signal %d (%s)", x->where, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		log_error("%s: ended with wait status %d", x->where, status);
}

/* The session is interactive when stdin is a terminal and the mode allows; -1: refused. */
static int
exec_interactive(const struct kcfg_exec *x)
{
	int	tty = isatty(0);

	if (x->mode == KCFG_EXEC_NEVER)
		return 0;
	if (x->mode == KCFG_EXEC_ALWAYS && !tty) {
		log_error("%s: its interactiveMode is Always, but standard input is not a "
		    "terminal", x->where);
		return -1;
	}
	return tty;
}

int
exec_cred_get(const struct kcfg *k, int64_t deadline, int rejected, struct cred_value *out)
{
	const struct kcfg_exec	*x = k->exec;
	struct plugin		 p;
	struct buf		 b = { 0 };
	char			 path[4096], why[512], *info = NULL, **envp = NULL;
	size_t			 owned = 0;
	int64_t			 started = clock_ms();
	int			 interactive, rc = -1, e = 0;

	(void)rejected;		/* every run is a new one */
	memset(&p, 0, sizeof(p));
	p.x = x;
	p.out = -1;
	b.max = EXECCRED_MAX_REPLY + 1;
	b.wipe = 1;
	if ((interactive = exec_interactive(x)) < 0)
		return -1;
	if (exec_lookup(x, path, sizeof(path)) != 0) {
		exec_not_found(x);
		return -1;
	}
	if ((info = execcred_request(k, interactive)) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if ((envp = exec_env(x, info, &owned)) == NULL)
		goto done;
	log_verbose("%s: running %s", x->where, path);
	sigprocmask(SIG_SETMASK, NULL, &p.mask);
	if (plugin_start(&p, path, envp, interactive) != 0) {
		if (p.reaped)
			plugin_reaped(&p);
		else
			sigprocmask(SIG_SETMASK, &p.mask, NULL);
		goto done;
	}
	rc = plugin_collect(&p, &b, started, deadline);
	e = rc != 0 ? errno : 0;
	close(p.out);
	plugin_reaped(&p);
	if (rc != 0)
		goto done;
	rc = -1;
	if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
		say_status(x, p.status);
		goto done;
	}
	if (execcred_parse(b.p ? b.p : "", b.len, x->api_version, out, why, sizeof(why)) != 0) {
		log_error("%s: %s", x->where, why);
		goto done;
	}
	out->where = x->where;
	out->cert_where = out->key_where = NULL;
	log_verbose("%s: gave %s%s%s in %lld ms", x->where, out->token ? "a token" : "",
	    out->token && out->cert ? " and " : "", out->cert ? "a client certificate" : "",
	    (long long)(clock_ms() - started));
	rc = 0;
done:
	buf_free(&b);
	env_free(envp, owned);
	free(info);
	errno = e;
	return rc;
}
