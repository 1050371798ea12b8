#include "os/os_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/log.h"
#include "os/os_fd.h"

int os_process_watch(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	return fd < 0 ? -errno : fd;
}

void os_close_fds_from(int lowfd)
{
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0u, 0) == 0)
		return;
	/* Kernels before 5.9: close what /proc lists would need allocation;
	 * the fd limit bounds a plain sweep instead. */
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = lowfd; fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

void os_die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have died between fork and prctl. */
	if (getppid() != parent)
		_exit(1);
}

void os_describe_wait_status(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, size, "wait status 0x%x", (unsigned)status);
}

int os_call_in_child(const char *what, int (*fn)(void *arg, void *out, size_t size),
		     void *arg, void *out, size_t size)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC)) {
		pv_err("%s: pipe: %s", what, strerror(errno));
		return -1;
	}
	/* Unflushed stdio would otherwise be written twice. */
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		pv_err("%s: fork: %s", what, strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		os_die_with_parent(parent);
		int ret = fn(arg, out, size);
		if (!ret && os_write_full(pipefd[1], out, size))
			ret = -1;
		_exit(ret ? 1 : 0);
	}
	close(pipefd[1]);
	int rd = os_read_full(pipefd[0], out, size);
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && rd == 0)
		return 0;
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 1)) {
		char why[96];
		os_describe_wait_status(status, why, sizeof(why));
		pv_err("%s: child process failed: %s", what, why);
	}
	return -1;
}
