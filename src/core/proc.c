/* proc.c: child processes. Every program the node runs (a reload worker, PostgreSQL's
 * initdb and pg_ctl) starts here, so limits, time-outs, cancels and where the output goes
 * are written once. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(const struct proc_spec *s)
{
	int out = open(s->output ? s->output : "/dev/null",
		       s->output ? O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC : O_WRONLY | O_CLOEXEC,
		       0600);
	if (out >= 0) {
		if (s->output && s->as_user && fchown(out, s->uid, s->gid) != 0 && geteuid() == 0)
			_exit(126);
		dup2(out, STDOUT_FILENO);
		if (s->output || s->quiet)
			dup2(out, STDERR_FILENO);
	}
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in >= 0)
		dup2(in, STDIN_FILENO);
#ifndef __SANITIZE_ADDRESS__ /* ASan reserves terabytes of address space for its shadow */
	if (s->memory_bytes > 0) {
		struct rlimit lim = {(rlim_t)s->memory_bytes, (rlim_t)s->memory_bytes};
		setrlimit(RLIMIT_AS, &lim);
	}
#endif
	if (s->as_user && geteuid() != s->uid &&
	    (setgroups(0, NULL) != 0 || setgid(s->gid) != 0 || setuid(s->uid) != 0))
		_exit(126);
	execv(s->argv[0], (char *const *)s->argv);
	_exit(127);
}

static void fill(int st, struct proc_status *out)
{
	if (WIFSIGNALED(st)) {
		out->end = PROC_SIGNALED;
		out->code = WTERMSIG(st);
	} else {
		out->end = PROC_EXITED;
		out->code = WIFEXITED(st) ? WEXITSTATUS(st) : 127;
	}
}

int proc_run(const struct proc_spec *s, struct proc_status *out, struct err *e)
{
	pid_t pid = fork();
	if (pid < 0)
		return err_set(e, ERR_INTERNAL, "cannot start %s: %s", s->argv[0], strerror(errno));
	if (pid == 0)
		child(s);
	if (s->started && !s->started(s->ctx, pid))
		kill(pid, SIGKILL);
	int64_t deadline = s->timeout_ms > 0 ? time_mono_ms() + s->timeout_ms : 0;
	int st = 0;
	for (;;) {
		pid_t w = waitpid(pid, &st, deadline ? WNOHANG : 0);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			/* cannot happen for our own child; do not leave it running */
			kill(pid, SIGKILL);
			return err_set(e, ERR_INTERNAL, "cannot wait for %s: %s", s->argv[0],
				       strerror(errno));
		}
		if (deadline && time_mono_ms() > deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			out->end = PROC_TIMED_OUT;
			out->code = SIGKILL;
			return 0;
		}
		if (deadline)
			sleep_ms(20);
	}
	fill(st, out);
	return 0;
}

/* whether malloc is AddressSanitizer's, which no glibc tunable reaches (gcc says so with
 * __SANITIZE_ADDRESS__, clang with __has_feature) */
#if defined(__SANITIZE_ADDRESS__)
#define MALLOC_IS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MALLOC_IS_ASAN 1
#endif
#endif

void proc_huge_malloc(char **argv)
{
#ifdef MALLOC_IS_ASAN
	/* running again would change nothing but cost a second start of the sanitizer's
	 * runtime: 0.1 s of processor time for every node and reload worker */
	(void)argv;
	return;
#endif
	const char *have = getenv("GLIBC_TUNABLES"), *off = getenv("FATHOM_HUGE_PAGES");
	if ((have && strstr(have, "glibc.malloc.hugetlb")) || (off && strcmp(off, "0") == 0))
		return;
	char mode[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, mode, sizeof(mode) - 1);
		mode[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	if (!mode[0] || strstr(mode, "[never]"))
		return;
	char *tunables = NULL;
	if (asprintf(&tunables, "%s%sglibc.malloc.hugetlb=1", have ? have : "", have ? ":" : "") <
	    0)
		return;
	if (setenv("GLIBC_TUNABLES", tunables, 1) == 0)
		execv("/proc/self/exe", argv);
	/* the exec failed: on as we are, without the setting (its children too) */
	free(tunables);
	if (have)
		setenv("GLIBC_TUNABLES", have, 1);
	else
		unsetenv("GLIBC_TUNABLES");
}
