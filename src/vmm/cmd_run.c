/* `pearvisor run`: options in, exit status out; vm.c does the work. */
#include <stdio.h>

#include "os/log.h"
#include "vmm/commands.h"
#include "vmm/config.h"
#include "vmm/vm.h"

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg;
	char err[256];
	switch (vm_config_parse(&cfg, argc, argv, err, sizeof(err))) {
	case VM_CONFIG_HELP:
		fputs(vm_run_usage, stdout);
		return 0;
	case VM_CONFIG_ERROR:
		pv_err("run: %s", err);
		fputs("Try 'pearvisor run --help'.\n", stderr);
		return VM_EXIT_USAGE;
	case VM_CONFIG_OK:
		break;
	}
	return vm_run(&cfg);
}
