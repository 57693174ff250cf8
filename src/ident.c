/* ident.c: see ident.h. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ident.h"
#include "log.h"
#include "text.h"

#define STAT_MAX	4096	/* /proc/PID/stat is far shorter */

/* Reads at most bufsz-1 bytes of a small /proc file; returns length or -1. */
static ssize_t
read_small(const char *path, char *buf, size_t bufsz)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, bufsz - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}


/*
 * Field n (>= 3) of /proc/pid/stat, after the command name (which may hold spaces and
 * parentheses: fields restart after the last ')'), into buf; -1 when it does not fit.
 */
static int
stat_field(long pid, int n, char *buf, size_t bufsz)
{
	char		 path[64], stat[STAT_MAX];
	const char	*p;
	size_t		 len;
	int		 field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (read_small(path, stat, sizeof(stat)) <= 0 || (p = strrchr(stat, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; field < n; field++)
		if ((p = strchr(p + 1, ' ')) == NULL)
			return -1;
	p++;
	len = strcspn(p, " \n");
	if (len == 0 || len >= bufsz)
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

/* 1 when /proc says pid is a zombie or dead (state Z or X); 0 otherwise or unknown. */
static int
proc_ended(long pid)
{
	char	state[2];

	return stat_field(pid, 3, state, sizeof(state)) == 0 &&
	    (state[0] == 'Z' || state[0] == 'X');
}

#define IDENT_MAX_DEPTH	128	/* ancestors looked at; process trees are far flatter */

int
ident_is_self_or_ancestor(long pid, const char *proc_start)
{
	char	num[24];
	long	cur = (long)getpid(), next;
	int	depth;

	if (pid <= 0)
		return 0;
	if (access("/proc/self/stat", R_OK) != 0)
		return pid == cur || pid == (long)getppid();
	for (depth = 0; cur > 0 && depth < IDENT_MAX_DEPTH; depth++) {
		if (cur == pid)
			return proc_start == NULL || *proc_start == '\0' ||
			    (ident_proc_start(cur, num, sizeof(num)) == 0 &&
			    strcmp(num, proc_start) == 0);
		if (stat_field(cur, 4, num, sizeof(num)) != 0 || text_pid(num, &next) != 0)
			return 0;
		cur = next;
	}
	return 0;
}

int
ident_proc_start(long pid, char *buf, size_t bufsz)
{
	if (stat_field(pid, 22, buf, bufsz) != 0 || buf[strspn(buf, "0123456789")] != '\0')
		return -1;
	return 0;
}

static void
boot_id_read(char *buf, size_t bufsz)
{
	char	tmp[64];
	size_t	n;

	buf[0] = '\0';
	if (read_small("/proc/sys/kernel/random/boot_id", tmp, sizeof(tmp)) <= 0)
		return;
	n = strspn(tmp, "0123456789abcdef-");
	if (n == 36 && n < bufsz) {
		memcpy(buf, tmp, n);
		buf[n] = '\0';
	}
}

int
ident_host_valid(const char *s)
{
	size_t	i, n = strnlen(s, IDENT_MAX_HOST + 1);

	if (n == 0 || n > IDENT_MAX_HOST)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return 0;
	}
	return 1;
}

int
ident_self(struct ident *id, const char *host, long pid)
{
	char	tmp[256], shown[80];

	memset(id, 0, sizeof(*id));
	if (host == NULL) {
		if (gethostname(tmp, sizeof(tmp)) != 0) {
			log_error("cannot read the host name: %s; pass --host", strerror(errno));
			return -1;
		}
		tmp[sizeof(tmp) - 1] = '\0';
		/* The kernel takes any bytes (sethostname, a container runtime): check them. */
		if (!ident_host_valid(tmp)) {
			log_error("this host's name \"%s\" (from the kernel) is not 1 to %d bytes "
			    "of printable ASCII without spaces; pass --host NAME",
			    log_sanitize(shown, sizeof(shown), tmp, strlen(tmp)), IDENT_MAX_HOST);
			return -1;
		}
		host = tmp;
	} else if (!ident_host_valid(host)) {
		/* cli.c refuses such a --host first, as a usage error naming it. */
		log_error("--host \"%s\": must be 1 to %d bytes of printable ASCII without "
		    "spaces", log_sanitize(shown, sizeof(shown), host, strlen(host)),
		    IDENT_MAX_HOST);
		return -1;
	}
	memcpy(id->host, host, strlen(host));
	id->pid = pid;
	if (ident_proc_start(pid, id->proc_start, sizeof(id->proc_start)) != 0)
		id->proc_start[0] = '\0';
	boot_id_read(id->boot_id, sizeof(id->boot_id));
	return 0;
}

enum ident_liveness
ident_check(long pid, const char *proc_start, const char *boot_id, const char **why)
{
	char	now[24], boot[40];

	if (pid <= 0) {
		*why = "the recorded PID is not a process";
		return IDENT_DEAD;
	}
	if (boot_id != NULL && *boot_id != '\0') {
		boot_id_read(boot, sizeof(boot));
		if (boot[0] != '\0' && strcmp(boot, boot_id) != 0) {
			*why = "the host has rebooted since the lock was taken";
			return IDENT_DEAD;
		}
	}
	/* EPERM means the process exists but belongs to another user. */
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
		*why = "the owner process is gone";
		return IDENT_DEAD;
	}
	/* A zombie has ended; only its entry waits for a parent to reap it. */
	if (proc_ended(pid)) {
		*why = "the owner process has ended (a zombie not yet reaped)";
		return IDENT_DEAD;
	}
	if (proc_start != NULL && *proc_start != '\0' &&
	    ident_proc_start(pid, now, sizeof(now)) == 0 && strcmp(now, proc_start) != 0) {
		*why = "the PID now belongs to another process (it was reused)";
		return IDENT_DEAD;
	}
	*why = "the owner process is still running";
	return IDENT_ALIVE;
}
