/*
 * Accept loop and client supervision. Each client is served by
 * vtest_client_serve() with its own renderer and context, either in a
 * forked child process (the default: a host-driver crash or a wedged
 * driver costs only that client) or in a thread of this process (for
 * debugging under one gdb, and for unit tests that inspect the renderer).
 *
 * Under process isolation the server never touches Vulkan itself, so
 * every child starts from a process with no driver state to inherit. The
 * server keeps its copy of each client's socket: on stop it shuts them
 * all down, which ends the children's reads; when a child dies it closes
 * its copy, so the client sees EOF at once.
 */
#include "vtest/vtest_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "os/log.h"
#include "os/os_fd.h"
#include "os/os_process.h"
#include "os/os_time.h"
#include "vtest/vtest_client.h"

/* How long stop waits for children to clean up before killing them. */
#define STOP_GRACE_MS 10000

struct client_slot {
	struct client_slot *next;
	struct vtest_server *server;
	int fd;
	uint32_t id;
	/* thread isolation */
	pthread_t thread;
	bool done;
	/* process isolation */
	pid_t pid;
	int pidfd;
};

struct vtest_server {
	int listen_fd;
	char *path;
	const struct vtest_backend *backend;
	enum vtest_isolation isolation;
	pthread_mutex_t lock;
	struct client_slot *clients;
	uint32_t next_client_id;
	struct vtest_server_stats stats;
};

int vtest_server_create(const char *socket_path, const struct vtest_backend *backend,
			enum vtest_isolation isolation, struct vtest_server **out)
{
	struct vtest_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->path = strdup(socket_path);
	s->listen_fd = os_unix_listen(socket_path);
	if (s->listen_fd < 0 || !s->path) {
		int err = s->listen_fd < 0 ? s->listen_fd : -ENOMEM;
		pv_err("vtest: cannot listen on %s: %s", socket_path,
		       err == -EADDRINUSE ? "another server is accepting there" : strerror(-err));
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		free(s->path);
		free(s);
		return err;
	}
	s->backend = backend;
	s->isolation = isolation;
	s->next_client_id = 1;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

static void count_end(struct vtest_server *s, bool clean, bool crashed)
{
	pthread_mutex_lock(&s->lock);
	s->stats.clients_active--;
	if (!clean)
		s->stats.clients_dropped++;
	if (crashed)
		s->stats.clients_crashed++;
	pthread_mutex_unlock(&s->lock);
}

/* ---- thread isolation ---------------------------------------------------- */

static void *client_thread_main(void *arg)
{
	struct client_slot *cs = arg;
	struct vtest_server *s = cs->server;
	bool clean = vtest_client_serve(cs->fd, cs->id, s->backend);
	count_end(s, clean, false);
	pthread_mutex_lock(&s->lock);
	cs->done = true;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int start_thread(struct client_slot *cs)
{
	/* Client threads must not take the process's stop signals. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int err = pthread_create(&cs->thread, NULL, client_thread_main, cs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		pv_err("vtest: cannot start a thread for client %u: %s", cs->id, strerror(err));
	return err ? -1 : 0;
}

/* ---- process isolation --------------------------------------------------- */

static __attribute__((noreturn)) void client_process_main(struct vtest_server *s,
							  struct client_slot *cs,
							  pid_t parent)
{
	os_die_with_parent(parent);
	/* Keep only the client's socket (as fd 3) and stdio: the listening
	 * socket, other clients' sockets and their pidfds stay with the
	 * server, so this child can never hold another client's connection
	 * open after that client's own process is gone. */
	int fd = cs->fd;
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			_exit(1);
		fd = 3;
	}
	os_close_fds_from(4);
	char name[16];
	snprintf(name, sizeof(name), "pv-client-%u", cs->id);
	prctl(PR_SET_NAME, name);
	bool clean = vtest_client_serve(fd, cs->id, s->backend);
	/* _exit: the parent's atexit handlers and stdio are not ours. */
	_exit(clean ? 0 : 1);
}

static int start_process(struct vtest_server *s, struct client_slot *cs)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		pv_err("vtest: cannot fork a process for client %u: %s", cs->id, strerror(errno));
		return -1;
	}
	if (pid == 0)
		client_process_main(s, cs, parent);
	cs->pid = pid;
	cs->pidfd = os_process_watch(pid);
	if (cs->pidfd < 0) {
		pv_err("vtest: cannot watch client %u's process %d: %s", cs->id, (int)pid,
		       strerror(-cs->pidfd));
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	pv_info("vtest: client %u served by process %d", cs->id, (int)pid);
	return 0;
}

/* Reaps a child that has exited (or waits for it to), reporting how. */
static void finish_process(struct vtest_server *s, struct client_slot *cs)
{
	int status = 0;
	while (waitpid(cs->pid, &status, 0) < 0 && errno == EINTR)
		;
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	bool crashed = !WIFEXITED(status);
	if (crashed) {
		char why[96];
		os_describe_wait_status(status, why, sizeof(why));
		pv_err("vtest: client %u: its renderer process %d was %s; that client's "
		       "context is lost, the server goes on", cs->id, (int)cs->pid, why);
	}
	count_end(s, clean, crashed);
	close(cs->pidfd);
}

/* ---- supervision ---------------------------------------------------------- */

static void slot_free(struct vtest_server *s, struct client_slot *cs)
{
	if (s->isolation == VTEST_ISOLATE_THREAD)
		pthread_join(cs->thread, NULL);
	else
		finish_process(s, cs);
	close(cs->fd);
	free(cs);
}

static void unlink_slot(struct vtest_server *s, struct client_slot *victim)
{
	pthread_mutex_lock(&s->lock);
	for (struct client_slot **pc = &s->clients; *pc; pc = &(*pc)->next) {
		if (*pc == victim) {
			*pc = victim->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

/* Joins finished client threads. */
static void reap_threads(struct vtest_server *s)
{
	for (;;) {
		struct client_slot *victim = NULL;
		pthread_mutex_lock(&s->lock);
		for (struct client_slot *cs = s->clients; cs && !victim; cs = cs->next)
			if (cs->done)
				victim = cs;
		pthread_mutex_unlock(&s->lock);
		if (!victim)
			return;
		unlink_slot(s, victim);
		slot_free(s, victim);
	}
}

static void accept_one(struct vtest_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			pv_warn("vtest: accept failed: %s", strerror(errno));
		return;
	}
	struct client_slot *cs = calloc(1, sizeof(*cs));
	if (!cs) {
		pv_err("vtest: out of memory for a client");
		close(fd);
		return;
	}
	cs->server = s;
	cs->fd = fd;
	cs->pidfd = -1;
	pthread_mutex_lock(&s->lock);
	cs->id = s->next_client_id++;
	s->stats.clients_accepted++;
	s->stats.clients_active++;
	/* Listed before the thread starts so it can mark itself done. */
	cs->next = s->clients;
	s->clients = cs;
	pthread_mutex_unlock(&s->lock);
	pv_info("vtest: client %u connected", cs->id);

	int err = s->isolation == VTEST_ISOLATE_THREAD ? start_thread(cs)
						       : start_process(s, cs);
	if (err) {
		unlink_slot(s, cs);
		pthread_mutex_lock(&s->lock);
		s->stats.clients_active--;
		s->stats.clients_dropped++;
		pthread_mutex_unlock(&s->lock);
		close(fd);
		free(cs);
	}
}

/* Waits (bounded) for every child to exit after its socket was shut down,
 * then kills what is left: a child wedged inside the host driver must not
 * keep the server from stopping. */
static void stop_processes(struct vtest_server *s)
{
	uint64_t deadline = os_now_ns() + (uint64_t)STOP_GRACE_MS * 1000000;
	while (s->clients) {
		struct pollfd pfd = { .fd = s->clients->pidfd, .events = POLLIN };
		uint64_t now = os_now_ns();
		int left_ms = now < deadline ? (int)((deadline - now) / 1000000) : 0;
		if (poll(&pfd, 1, left_ms) == 0) {
			pv_warn("vtest: client %u's process %d did not exit in %d ms; killing it",
				s->clients->id, (int)s->clients->pid, STOP_GRACE_MS);
			kill(s->clients->pid, SIGKILL);
		}
		struct client_slot *cs = s->clients;
		s->clients = cs->next;
		slot_free(s, cs);
	}
}

static void disconnect_all(struct vtest_server *s)
{
	/* Unblocks whoever is stuck in read/write on these sockets; each
	 * client then cleans up as after a disconnect. */
	pthread_mutex_lock(&s->lock);
	for (struct client_slot *cs = s->clients; cs; cs = cs->next)
		shutdown(cs->fd, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	if (s->isolation == VTEST_ISOLATE_PROCESS) {
		stop_processes(s);
		return;
	}
	for (;;) {
		pthread_mutex_lock(&s->lock);
		struct client_slot *cs = s->clients;
		if (cs)
			s->clients = cs->next;
		pthread_mutex_unlock(&s->lock);
		if (!cs)
			return;
		slot_free(s, cs);
	}
}

int vtest_server_run(struct vtest_server *s, int stop_fd)
{
	struct pollfd *pfd = NULL;
	struct client_slot **slot_of = NULL;
	size_t cap = 0;
	int ret = 0;
	for (;;) {
		/* [0] listen, [1] stop, then one pidfd per child process. */
		size_t n = 2;
		for (struct client_slot *cs = s->clients; cs; cs = cs->next)
			n += cs->pidfd >= 0;
		if (n > cap) {
			size_t ncap = n * 2;
			struct pollfd *np = realloc(pfd, ncap * sizeof(*np));
			if (np)
				pfd = np;
			struct client_slot **ns = realloc(slot_of, ncap * sizeof(*ns));
			if (ns)
				slot_of = ns;
			if (!np || !ns) {
				pv_err("vtest: out of memory watching %zu clients", n);
				ret = -ENOMEM;
				break;
			}
			cap = ncap;
		}
		pfd[0] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		size_t i = 2;
		for (struct client_slot *cs = s->clients; cs; cs = cs->next) {
			if (cs->pidfd < 0)
				continue;
			slot_of[i] = cs;
			pfd[i++] = (struct pollfd){ .fd = cs->pidfd, .events = POLLIN };
		}
		/* Under thread isolation the timeout only bounds how long a
		 * finished thread waits to be joined. */
		int nready = poll(pfd, (nfds_t)n, 1000);
		if (nready < 0 && errno != EINTR) {
			pv_err("vtest: poll failed: %s", strerror(errno));
			ret = -errno;
			break;
		}
		if (s->isolation == VTEST_ISOLATE_THREAD)
			reap_threads(s);
		if (nready <= 0)
			continue;
		for (i = 2; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			unlink_slot(s, slot_of[i]);
			slot_free(s, slot_of[i]);
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents & POLLIN)
			accept_one(s);
	}
	free(pfd);
	free(slot_of);
	pv_info("vtest: stopping; disconnecting %llu client(s)",
		(unsigned long long)s->stats.clients_active);
	disconnect_all(s);
	return ret;
}

void vtest_server_get_stats(struct vtest_server *s, struct vtest_server_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->lock);
}

void vtest_server_destroy(struct vtest_server *s)
{
	if (!s)
		return;
	disconnect_all(s);
	close(s->listen_fd);
	unlink(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}
