#include "gpu/gpu_device.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu/gpu_host_runtime.h"
#include "os/log.h"

const char *gpu_device_type_name(VkPhysicalDeviceType type)
{
	switch (type) {
	case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
	case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
	case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
	case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
	default: return "other";
	}
}

void gpu_format_uuid(const uint8_t uuid[VK_UUID_SIZE], char out[37])
{
	char *p = out;
	for (unsigned i = 0; i < VK_UUID_SIZE; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		p += sprintf(p, "%02x", uuid[i]);
	}
	*p = '\0';
}

static void query_device(VkPhysicalDevice pd, uint32_t index, struct gpu_device_info *info)
{
	VkPhysicalDeviceProperties base;
	vkGetPhysicalDeviceProperties(pd, &base);

	memset(info, 0, sizeof(*info));
	info->index = index;
	snprintf(info->name, sizeof(info->name), "%s", base.deviceName);
	info->type = base.deviceType;
	info->api_version = base.apiVersion;
	info->driver_version = base.driverVersion;
	info->vendor_id = base.vendorID;
	info->device_id = base.deviceID;

	/* deviceUUID needs 1.1; driver name needs 1.2 (or the KHR extension,
	 * which every 1.2 driver has promoted anyway). */
	VkPhysicalDeviceDriverProperties drv = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
	};
	VkPhysicalDeviceIDProperties id = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES,
		.pNext = base.apiVersion >= VK_API_VERSION_1_2 ? &drv : NULL,
	};
	VkPhysicalDeviceProperties2 props2 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
		.pNext = &id,
	};
	if (base.apiVersion >= VK_API_VERSION_1_1) {
		vkGetPhysicalDeviceProperties2(pd, &props2);
		memcpy(info->uuid, id.deviceUUID, VK_UUID_SIZE);
		if (base.apiVersion >= VK_API_VERSION_1_2) {
			snprintf(info->driver_name, sizeof(info->driver_name), "%s", drv.driverName);
			snprintf(info->driver_info, sizeof(info->driver_info), "%s", drv.driverInfo);
		}
	}
}

int gpu_enumerate(struct gpu_device_info **out, uint32_t *count)
{
	*out = NULL;
	*count = 0;

	const VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "pearvisor-gpu-list",
		.apiVersion = VK_API_VERSION_1_1,
	};
	const VkInstanceCreateInfo ici = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	VkInstance inst;
	gpu_host_runtime_prepare();
	VkResult res = vkCreateInstance(&ici, NULL, &inst);
	if (res != VK_SUCCESS) {
		pv_err("gpu: vkCreateInstance failed (VkResult %d); is a Vulkan driver installed?", res);
		return -ENODEV;
	}

	uint32_t n = 0;
	res = vkEnumeratePhysicalDevices(inst, &n, NULL);
	VkPhysicalDevice *pds = n ? calloc(n, sizeof(*pds)) : NULL;
	struct gpu_device_info *infos = n ? calloc(n, sizeof(*infos)) : NULL;
	if (res != VK_SUCCESS || (n && (!pds || !infos))) {
		pv_err("gpu: vkEnumeratePhysicalDevices failed (VkResult %d)", res);
		free(pds);
		free(infos);
		vkDestroyInstance(inst, NULL);
		return -ENODEV;
	}
	if (n) {
		res = vkEnumeratePhysicalDevices(inst, &n, pds);
		if (res != VK_SUCCESS && res != VK_INCOMPLETE) {
			pv_err("gpu: vkEnumeratePhysicalDevices failed (VkResult %d)", res);
			free(pds);
			free(infos);
			vkDestroyInstance(inst, NULL);
			return -ENODEV;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		query_device(pds[i], i, &infos[i]);
	free(pds);
	vkDestroyInstance(inst, NULL);
	*out = infos;
	*count = n;
	return 0;
}

void gpu_log_devices(const struct gpu_device_info *devs, uint32_t count)
{
	if (!count)
		pv_info("gpu: no Vulkan devices found");
	for (uint32_t i = 0; i < count; i++) {
		char uuid[37];
		gpu_format_uuid(devs[i].uuid, uuid);
		pv_info("gpu:   [%u] %s (%s, driver %s, uuid %s)", devs[i].index, devs[i].name,
			gpu_device_type_name(devs[i].type),
			devs[i].driver_name[0] ? devs[i].driver_name : "?", uuid);
	}
}

static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int gpu_select(const struct gpu_device_info *devs, uint32_t count, const char *spec)
{
	if (!spec || !*spec) {
		for (uint32_t i = 0; i < count; i++)
			if (devs[i].type != VK_PHYSICAL_DEVICE_TYPE_CPU)
				return (int)i;
		for (uint32_t i = 0; i < count; i++)
			if (devs[i].type == VK_PHYSICAL_DEVICE_TYPE_CPU)
				return (int)i;
		pv_err("gpu: no Vulkan device to serve");
		return -1;
	}
	if (all_digits(spec)) {
		unsigned long idx = strtoul(spec, NULL, 10);
		for (uint32_t i = 0; i < count; i++)
			if (devs[i].index == idx)
				return (int)i;
	} else {
		for (uint32_t i = 0; i < count; i++)
			if (contains_ci(devs[i].name, spec))
				return (int)i;
	}
	pv_err("gpu: requested device '%s' not found; available devices:", spec);
	for (uint32_t i = 0; i < count; i++)
		pv_err("gpu:   [%u] %s (%s)", devs[i].index, devs[i].name,
		       gpu_device_type_name(devs[i].type));
	if (!count)
		pv_err("gpu:   (none)");
	return -1;
}

int gpu_choose(const char *spec, const char *who, const char *verb,
	       uint8_t uuid_out[VK_UUID_SIZE])
{
	struct gpu_device_info *devs = NULL;
	uint32_t ndev = 0;
	if (gpu_enumerate(&devs, &ndev))
		return -1;
	if (ndev == 0) {
		pv_err("%s: no Vulkan device on this host (is a Vulkan driver such as "
		       "lavapipe installed?)", who);
		free(devs);
		return -1;
	}
	int sel = gpu_select(devs, ndev, spec);
	if (sel < 0) {
		free(devs);
		return -1;
	}
	const struct gpu_device_info *d = &devs[sel];
	char uuid[37];
	gpu_format_uuid(d->uuid, uuid);
	pv_info("%s: %s device [%u] %s (%s, driver %s, uuid %s)", who, verb, d->index,
		d->name, gpu_device_type_name(d->type),
		d->driver_name[0] ? d->driver_name : "?", uuid);
	memcpy(uuid_out, d->uuid, VK_UUID_SIZE);
	free(devs);
	return 0;
}
