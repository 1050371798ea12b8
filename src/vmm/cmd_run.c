/* Placeholder until the VMM lands (issue 3). */
#include "os/log.h"
#include "vmm/commands.h"

int cmd_run(int argc, char **argv)
{
	(void)argc; (void)argv;
	pv_err("run: not implemented yet");
	return 2;
}
