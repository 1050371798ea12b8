#include "os/os_fd.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int os_eventfd_create(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

int os_eventfd_create_readable(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
	if (fd < 0)
		return -errno;
	uint64_t most = UINT64_MAX - 1;
	if (write(fd, &most, sizeof(most)) != (ssize_t)sizeof(most)) {
		int err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	return fd;
}

void os_eventfd_signal(int fd)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: it is readable anyway. */
	ssize_t r = write(fd, &one, sizeof(one));
	(void)r;
}

int os_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t r = read(fd, p + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = done ? EPIPE : ECONNRESET;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

int os_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t r = send(fd, p + done, len - done, MSG_NOSIGNAL);
		if (r < 0 && errno == ENOTSOCK)
			r = write(fd, p + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* The 1-byte message that carries an fd (the vtest convention). */
struct fd_msg {
	char dummy;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
};

static void fd_msg_init(struct fd_msg *m, struct msghdr *msg, int fd)
{
	memset(m, 0, sizeof(*m));
	m->iov = (struct iovec){ .iov_base = &m->dummy, .iov_len = 1 };
	*msg = (struct msghdr){ .msg_iov = &m->iov, .msg_iovlen = 1,
				.msg_control = m->cbuf.buf, .msg_controllen = sizeof(m->cbuf.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

int os_send_fd(int sock, int fd)
{
	struct fd_msg m;
	struct msghdr msg;
	fd_msg_init(&m, &msg, fd);
	for (;;) {
		ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		return r == 1 ? 0 : (r < 0 ? -errno : -EIO);
	}
}

int os_send_then_fd(int sock, const void *buf, size_t len, int fd)
{
	struct fd_msg m;
	struct mmsghdr v[2];
	memset(v, 0, sizeof(v));
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	v[0].msg_hdr = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	fd_msg_init(&m, &v[1].msg_hdr, fd);
	int n;
	do
		n = sendmmsg(sock, v, 2, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 2)
		/* Both went; only a signal in the middle of a blocked first
		 * message could have cut it short, and then the fd overtook
		 * its bytes: the stream is out of order. */
		return v[0].msg_len == len && v[1].msg_len == 1 ? 0 : -EIO;
	size_t done = n == 1 ? v[0].msg_len : 0;
	if (os_write_full(sock, (const char *)buf + done, len - done))
		return -errno;
	return os_send_fd(sock, fd);
}

int os_recv_fd(int sock)
{
	char dummy;
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	ssize_t r;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (r != 1 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int os_unix_connect(const char *path)
{
	struct sockaddr_un sa;
	int err = fill_addr(path, &sa);
	if (err)
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int os_unix_listen(const char *path)
{
	struct sockaddr_un sa;
	int err = fill_addr(path, &sa);
	if (err)
		return err;
	int probe = os_unix_connect(path);
	if (probe >= 0) {
		close(probe);
		return -EADDRINUSE;
	}
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}
