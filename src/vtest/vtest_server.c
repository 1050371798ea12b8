/*
 * Accept loop and client threads. The renderer is shared; each client gets
 * its own thread and context (vtest_client.c). Finished threads are joined
 * from the accept loop; on stop every connection is shut down so blocked
 * client threads return and clean up before run() does.
 */
#include "vtest/vtest_server.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/log.h"
#include "os/os_fd.h"
#include "vtest/vtest_client.h"

struct client_thread {
	struct client_thread *next;
	struct vtest_server *server;
	pthread_t thread;
	int fd;
	uint32_t id;
	bool done;
};

struct vtest_server {
	int listen_fd;
	char *path;
	const struct vtest_backend *backend;
	pthread_mutex_t lock;
	struct client_thread *clients;
	uint32_t next_client_id;
	struct vtest_server_stats stats;
};

int vtest_server_create(const char *socket_path, const struct vtest_backend *backend,
			struct vtest_server **out)
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
	s->next_client_id = 1;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

static void *client_main(void *arg)
{
	struct client_thread *ct = arg;
	struct vtest_server *s = ct->server;
	bool clean = vtest_client_serve(ct->fd, ct->id, s->backend);
	pthread_mutex_lock(&s->lock);
	ct->done = true;
	s->stats.clients_active--;
	if (!clean)
		s->stats.clients_dropped++;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void reap(struct vtest_server *s, bool all)
{
	for (;;) {
		struct client_thread *victim = NULL;
		pthread_mutex_lock(&s->lock);
		for (struct client_thread **pc = &s->clients; *pc; pc = &(*pc)->next) {
			if ((*pc)->done || all) {
				victim = *pc;
				*pc = victim->next;
				/* Unblocks a thread stuck in read/write on
				 * shutdown; its own close follows. */
				if (!victim->done)
					shutdown(victim->fd, SHUT_RDWR);
				break;
			}
		}
		pthread_mutex_unlock(&s->lock);
		if (!victim)
			return;
		pthread_join(victim->thread, NULL);
		close(victim->fd);
		free(victim);
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
	struct client_thread *ct = calloc(1, sizeof(*ct));
	if (!ct) {
		pv_err("vtest: out of memory for a client");
		close(fd);
		return;
	}
	ct->server = s;
	ct->fd = fd;
	pthread_mutex_lock(&s->lock);
	ct->id = s->next_client_id++;
	s->stats.clients_accepted++;
	s->stats.clients_active++;
	pthread_mutex_unlock(&s->lock);
	pv_info("vtest: client %u connected", ct->id);

	/* Client threads must not take the process's stop signals. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&s->lock);
	int err = pthread_create(&ct->thread, NULL, client_main, ct);
	if (!err) {
		ct->next = s->clients;
		s->clients = ct;
	} else {
		s->stats.clients_active--;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pv_err("vtest: cannot start a client thread: %s", strerror(err));
		close(fd);
		free(ct);
	}
}

int vtest_server_run(struct vtest_server *s, int stop_fd)
{
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = s->listen_fd, .events = POLLIN },
			{ .fd = stop_fd, .events = POLLIN },
		};
		/* The timeout only bounds how long finished threads wait to
		 * be joined. */
		int n = poll(pfd, 2, 1000);
		if (n < 0 && errno != EINTR) {
			pv_err("vtest: poll failed: %s", strerror(errno));
			break;
		}
		reap(s, false);
		if (n > 0 && pfd[1].revents)
			break;
		if (n > 0 && (pfd[0].revents & POLLIN))
			accept_one(s);
	}
	pv_info("vtest: stopping; disconnecting %llu client(s)",
		(unsigned long long)s->stats.clients_active);
	reap(s, true);
	return 0;
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
	reap(s, true);
	close(s->listen_fd);
	unlink(s->path);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}
