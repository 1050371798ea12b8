/*
 * pearvisor: one binary, several subcommands. Each subsystem owns its
 * command's option parsing; this file only routes.
 */
#include <stdio.h>
#include <string.h>

#include "os/log.h"
#include "vmm/commands.h"

struct command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "run", "boot a Linux guest", cmd_run },
#ifdef PV_HAVE_GPU
	{ "gpu-server", "serve the host GPU over the vtest socket (Venus)", cmd_gpu_server },
	{ "gpu-list", "list the host's Vulkan devices", cmd_gpu_list },
#endif
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pearvisor <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'pearvisor <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	}
	pv_err("pearvisor: unknown command '%s'", argv[1]);
	usage(stderr);
	return 2;
}
