/*
 * Host Vulkan device enumeration and selection. Uses its own short-lived
 * VkInstance, so callers (gpu-list, gpu-server) learn what exists before
 * the renderer makes its own instance; the renderer then finds the chosen
 * device again by deviceUUID.
 */
#ifndef PV_GPU_GPU_DEVICE_H
#define PV_GPU_GPU_DEVICE_H

#include <stdint.h>

#include <vulkan/vulkan.h>

struct gpu_device_info {
	uint32_t index;               /* order the loader reports */
	char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
	VkPhysicalDeviceType type;
	char driver_name[VK_MAX_DRIVER_NAME_SIZE];   /* "" if not reported */
	char driver_info[VK_MAX_DRIVER_INFO_SIZE];
	uint32_t api_version;
	uint32_t driver_version;
	uint32_t vendor_id;
	uint32_t device_id;
	uint8_t uuid[VK_UUID_SIZE];   /* VkPhysicalDeviceIDProperties::deviceUUID */
};

/* Fills *out (malloc'ed, caller frees) with every physical device. Returns
 * 0 (possibly with *count == 0) or a negative errno, logged. */
int gpu_enumerate(struct gpu_device_info **out, uint32_t *count);

/*
 * Picks a device by spec: NULL or "" = the first non-CPU device, or the CPU
 * device if nothing else exists; all digits = that index; otherwise a
 * case-insensitive substring of the name. Returns the position in devs, or
 * -1 after logging what was asked and listing what exists.
 */
int gpu_select(const struct gpu_device_info *devs, uint32_t count, const char *spec);

/*
 * What every GPU consumer does at start: enumerate, pick by spec (as
 * gpu_select), and say which device is used, as "<who>: <verb> device [N]
 * NAME (type, driver, uuid)". Fills uuid_out. Returns 0, or -1 after
 * logging why (no device, or the one asked for does not exist).
 */
int gpu_choose(const char *spec, const char *who, const char *verb,
	       uint8_t uuid_out[VK_UUID_SIZE]);

const char *gpu_device_type_name(VkPhysicalDeviceType type);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", NUL-terminated. */
void gpu_format_uuid(const uint8_t uuid[VK_UUID_SIZE], char out[37]);
/* Logs one line per device at info level (for "which device is served"). */
void gpu_log_devices(const struct gpu_device_info *devs, uint32_t count);

#endif
