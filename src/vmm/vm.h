/* Running one VM from a parsed config (src/vmm/vm.c). */
#ifndef PV_VMM_VM_H
#define PV_VMM_VM_H

#include "vmm/config.h"

/* Exit statuses of `pearvisor run` (also in its --help and docs/vmm.md). */
#define VM_EXIT_POWER_OFF 0
#define VM_EXIT_ERROR     1
#define VM_EXIT_USAGE     2
#define VM_EXIT_REBOOT    3
#define VM_EXIT_CRASH     4

/* Validates the inputs, boots the guest, returns one of VM_EXIT_*. */
int vm_run(const struct vm_config *cfg);

#endif
