/* `pearvisor run` argument lists for the vm_config parser tests. */
#ifndef PV_TESTS_VMM_CONFIG_ARGS_H
#define PV_TESTS_VMM_CONFIG_ARGS_H

#include "vmm/config.h"

/* Parses "run" followed by the NULL-terminated args (at most 30). */
static inline enum vm_config_result parse(struct vm_config *c, char *err,
					  const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"run";
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return vm_config_parse(c, argc, argv, err, 256);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
