#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"
#include "os/os_fd.h"
#include "os/os_spin.h"
#include "os/util.h"

TEST(range_ok_rejects_overflow)
{
	CHECK(pv_range_ok(0, 0, 0));
	CHECK(pv_range_ok(0, 16, 16));
	CHECK(pv_range_ok(16, 0, 16));
	CHECK(!pv_range_ok(17, 0, 16));
	CHECK(!pv_range_ok(8, 9, 16));
	CHECK(!pv_range_ok(UINT64_MAX, 2, UINT64_MAX));
	CHECK(!pv_range_ok(1, UINT64_MAX, UINT64_MAX));
}

/* The adaptive poll window: waits caught inside it leave it alone, waits
 * a longer poll would have caught grow it, waits past the cap shrink it
 * down to the floor (or the cap, if lower), and from there short waits
 * grow it again. */
TEST(spin_window_adapts)
{
	struct os_spin s;
	os_spin_init(&s, 0);
	os_spin_update(&s, 5000);
	CHECK(s.window_ns == 0);

	os_spin_init(&s, 200000);
	CHECK(s.window_ns == 200000);
	os_spin_update(&s, 150000); /* caught */
	CHECK(s.window_ns == 200000);
	os_spin_update(&s, 5000000); /* 5 ms: wasted */
	CHECK(s.window_ns == 100000);
	os_spin_update(&s, 150000); /* just missed: grow, up to the cap */
	CHECK(s.window_ns == 200000);
	os_spin_update(&s, 190000);
	CHECK(s.window_ns == 200000);
	for (int i = 0; i < 8; i++)
		os_spin_update(&s, 1000000000ull);
	CHECK(s.window_ns == OS_SPIN_FLOOR_NS);
	os_spin_update(&s, 15000); /* caught by the floor */
	CHECK(s.window_ns == OS_SPIN_FLOOR_NS);
	os_spin_update(&s, 30000);
	CHECK(s.window_ns == 2 * OS_SPIN_FLOOR_NS);

	os_spin_init(&s, 5000); /* a cap below the floor */
	os_spin_update(&s, 1000000);
	CHECK(s.window_ns == 5000);
	os_spin_update(&s, 4000);
	CHECK(s.window_ns == 5000);
}

/* A reply and its fd in one call: a reader that takes the reply with a
 * plain read() (as Mesa's vtest client does) still finds the fd, the same
 * open file, in the next message. */
TEST(send_then_fd_keeps_the_fd_apart)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	int efd = os_eventfd_create();
	CHECK(efd >= 0);
	const char reply[8] = "abcdefgh";
	CHECK(os_send_then_fd(sv[0], reply, sizeof(reply), efd) == 0);
	char got[8];
	CHECK(read(sv[1], got, sizeof(got)) == (ssize_t)sizeof(got));
	CHECK(memcmp(got, reply, sizeof(got)) == 0);
	int fd = os_recv_fd(sv[1]);
	CHECK(fd >= 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 0);
	os_eventfd_signal(efd);
	CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
	close(fd);
	close(efd);
	/* A closed peer is an error, not a signal. */
	close(sv[1]);
	CHECK(os_send_then_fd(sv[0], reply, sizeof(reply), sv[0]) == -EPIPE);
	close(sv[0]);
}
