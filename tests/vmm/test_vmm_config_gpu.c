/* `pearvisor run` GPU options: --gpu, --gpu-device, --screenshot. */
#include <string.h>

#include "../unit/test.h"
#include "config_args.h"

TEST(gpu_off_by_default)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k")), VM_CONFIG_OK);
	CHECK(!c.gpu && !c.gpu_device && !c.screenshot);
}

TEST(gpu_options)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--gpu", "--screenshot", "/tmp/s.png")),
		 VM_CONFIG_OK);
	CHECK(c.gpu && !c.gpu_device);
	CHECK(c.screenshot && !strcmp(c.screenshot, "/tmp/s.png"));
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--gpu-device=llvmpipe")), VM_CONFIG_OK);
	CHECK(c.gpu && !strcmp(c.gpu_device, "llvmpipe"));
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--gpu-device", "1")), VM_CONFIG_OK);
	CHECK(c.gpu && !strcmp(c.gpu_device, "1"));
}

TEST(gpu_option_errors)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--screenshot", "/s.png")), VM_CONFIG_ERROR);
	CHECK(strstr(err, "--gpu") != NULL);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--gpu", "--screenshot=")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--gpu-device")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--gpux")), VM_CONFIG_ERROR);
}
