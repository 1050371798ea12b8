/* pearvisor gpu-list: the host's Vulkan devices, as gpu-server --device sees them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu_device.h"
#include "vmm/commands.h"

int cmd_gpu_list(int argc, char **argv)
{
	if (argc > 1) {
		FILE *out = strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? stderr : stdout;
		fprintf(out, "usage: pearvisor gpu-list\n"
			"Lists host Vulkan devices: index, name, type, driver, API version, UUID.\n"
			"gpu-server --device takes the index or a name substring.\n");
		return out == stdout ? 0 : 2;
	}
	struct gpu_device_info *devs;
	uint32_t n;
	if (gpu_enumerate(&devs, &n))
		return 1;
	int def = gpu_select(devs, n, NULL);
	printf("%-5s %-40s %-10s %-12s %-10s %s\n", "INDEX", "NAME", "TYPE", "DRIVER", "API", "UUID");
	for (uint32_t i = 0; i < n; i++) {
		char uuid[37], api[32];
		gpu_format_uuid(devs[i].uuid, uuid);
		snprintf(api, sizeof(api), "%u.%u.%u", VK_API_VERSION_MAJOR(devs[i].api_version),
			 VK_API_VERSION_MINOR(devs[i].api_version),
			 VK_API_VERSION_PATCH(devs[i].api_version));
		printf("%-5u %-40s %-10s %-12s %-10s %s%s\n", devs[i].index, devs[i].name,
		       gpu_device_type_name(devs[i].type),
		       devs[i].driver_name[0] ? devs[i].driver_name : "?", api, uuid,
		       (int)i == def ? "  (default)" : "");
	}
	free(devs);
	return n ? 0 : 1;
}
