/*
 * pearvisor gpu-server: picks the host Vulkan device and serves the Venus
 * renderer on it over the vtest socket until SIGINT/SIGTERM, each client
 * with a renderer of its own.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gpu/gpu_device.h"
#include "os/log.h"
#include "os/os_process.h"
#include "venus/venus.h"
#include "vmm/commands.h"
#include "vtest/vtest_server.h"
#include "vtest/vtest_wire.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pearvisor gpu-server [--socket PATH] [--device INDEX|NAME]\n"
		"                            [--isolation process|thread]\n"
		"Serves a host Vulkan device to Mesa's Venus driver over the vtest protocol.\n"
		"  --socket PATH   UNIX socket to listen on (default: $VTEST_SOCKET_NAME,\n"
		"                  else " VTEST_DEFAULT_SOCKET ")\n"
		"  --device SPEC   index from 'pearvisor gpu-list', or a case-insensitive\n"
		"                  name substring (default: first non-CPU device)\n"
		"  --isolation M   process (default): each client is served by a process\n"
		"                  of its own, so a host-driver crash loses only that\n"
		"                  client; thread: one thread per client in this process\n");
}

struct probe {
	const char *device;
	struct venus_renderer_options ropts;
	uint64_t spin_ns, rest_spin_ns;
};

/* Picks the device and checks that a renderer can be made on this host.
 * Under process isolation this runs in a child, so the server itself never
 * loads the Vulkan driver that its client processes are forked without. */
static int probe(void *arg, void *out, size_t size)
{
	struct probe *p = out;
	(void)size;
	*p = *(const struct probe *)arg;
	if (gpu_choose(p->device, "gpu-server", "serving", p->ropts.device_uuid))
		return -1;
	struct venus_renderer *r;
	int err = venus_renderer_create(&p->ropts, &r);
	if (err) {
		pv_err("gpu-server: cannot create the Venus renderer: %s", strerror(-err));
		return -1;
	}
	p->spin_ns = venus_renderer_spin_ns(r);
	p->rest_spin_ns = venus_renderer_rest_spin_ns(r);
	venus_renderer_destroy(r);
	p->device = NULL;
	return 0;
}

int cmd_gpu_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "isolation", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *socket_path = getenv("VTEST_SOCKET_NAME");
	const char *device = NULL;
	enum vtest_isolation isolation = VTEST_ISOLATE_PROCESS;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:d:i:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': socket_path = optarg; break;
		case 'd': device = optarg; break;
		case 'i':
			if (!strcmp(optarg, "process")) {
				isolation = VTEST_ISOLATE_PROCESS;
			} else if (!strcmp(optarg, "thread")) {
				isolation = VTEST_ISOLATE_THREAD;
			} else {
				pv_err("gpu-server: --isolation %s: expected process or thread",
				       optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!socket_path || !*socket_path)
		socket_path = VTEST_DEFAULT_SOCKET;

	/* Our own process must never load Mesa's Venus-over-vtest driver: it
	 * would try to connect back to this very server. */
	unsetenv("VN_DEBUG");

	struct probe want = { .device = device }, got;
	int err = isolation == VTEST_ISOLATE_PROCESS
			  ? os_call_in_child("gpu-server", probe, &want, &got, sizeof(got))
			  : probe(&want, &got, sizeof(got));
	if (err)
		return 1;

	/* Stop signals arrive through a signalfd the accept loop polls;
	 * SIGPIPE is ignored so a vanished client is just an EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	int stop_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (stop_fd < 0) {
		pv_err("gpu-server: signalfd: %s", strerror(errno));
		return 1;
	}

	const struct vtest_backend backend = {
		.renderer_create = venus_renderer_create,
		.renderer_destroy = venus_renderer_destroy,
		.renderer_options = got.ropts,
		.get_capset = venus_renderer_get_capset,
		.context_create = venus_context_create,
		.context_destroy = venus_context_destroy,
		.submit = venus_context_submit,
		.is_lost = venus_context_is_lost,
		.device_lost = venus_context_device_lost,
		.create_blob = venus_context_create_blob,
		.destroy_resource = venus_context_destroy_resource,
		.submit_fence = venus_context_submit_fence,
		.poll_fences = venus_context_poll_fences,
		.object_count = venus_context_object_count,
		.spin_ns = got.spin_ns,
		.rest_spin_ns = got.rest_spin_ns,
	};
	struct vtest_server *server;
	err = vtest_server_create(socket_path, &backend, isolation, &server);
	if (err) {
		close(stop_fd);
		return 1;
	}
	pv_info("gpu-server: listening on %s (vtest protocol %d, a %s per client)",
		socket_path, VTEST_PROTOCOL_VERSION,
		isolation == VTEST_ISOLATE_PROCESS ? "process" : "thread");
	err = vtest_server_run(server, stop_fd);
	vtest_server_destroy(server);
	close(stop_fd);
	pv_info("gpu-server: stopped");
	return err ? 1 : 0;
}
