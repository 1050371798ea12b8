/*
 * pearvisor gpu-server: picks the host Vulkan device, creates the Venus
 * renderer on it and serves it over the vtest socket until SIGINT/SIGTERM.
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
#include "venus/venus.h"
#include "vmm/commands.h"
#include "vtest/vtest_server.h"
#include "vtest/vtest_wire.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pearvisor gpu-server [--socket PATH] [--device INDEX|NAME]\n"
		"Serves a host Vulkan device to Mesa's Venus driver over the vtest protocol.\n"
		"  --socket PATH   UNIX socket to listen on (default: $VTEST_SOCKET_NAME,\n"
		"                  else " VTEST_DEFAULT_SOCKET ")\n"
		"  --device SPEC   index from 'pearvisor gpu-list', or a case-insensitive\n"
		"                  name substring (default: first non-CPU device)\n");
}

int cmd_gpu_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *socket_path = getenv("VTEST_SOCKET_NAME");
	const char *device = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': socket_path = optarg; break;
		case 'd': device = optarg; break;
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

	struct venus_renderer_options ropts;
	memset(&ropts, 0, sizeof(ropts));
	if (gpu_choose(device, "gpu-server", "serving", ropts.device_uuid))
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

	struct venus_renderer *r;
	int err = venus_renderer_create(&ropts, &r);
	if (err) {
		pv_err("gpu-server: cannot create the Venus renderer: %s", strerror(-err));
		close(stop_fd);
		return 1;
	}
	const struct vtest_backend backend = {
		.renderer = r,
		.get_capset = venus_renderer_get_capset,
		.context_create = venus_context_create,
		.context_destroy = venus_context_destroy,
		.submit = venus_context_submit,
		.is_lost = venus_context_is_lost,
		.create_blob = venus_context_create_blob,
		.destroy_resource = venus_context_destroy_resource,
		.submit_fence = venus_context_submit_fence,
		.object_count = venus_context_object_count,
		.spin_ns = venus_renderer_spin_ns(r),
	};
	struct vtest_server *server;
	err = vtest_server_create(socket_path, &backend, &server);
	if (err) {
		venus_renderer_destroy(r);
		close(stop_fd);
		return 1;
	}
	pv_info("gpu-server: listening on %s (vtest protocol %d)", socket_path,
		VTEST_PROTOCOL_VERSION);
	err = vtest_server_run(server, stop_fd);
	vtest_server_destroy(server);
	venus_renderer_destroy(r);
	close(stop_fd);
	pv_info("gpu-server: stopped");
	return err ? 1 : 0;
}
