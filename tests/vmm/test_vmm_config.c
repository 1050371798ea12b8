#include <string.h>

#include "../unit/test.h"
#include "config_args.h"

TEST(defaults)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k")), VM_CONFIG_OK);
	CHECK(!strcmp(c.kernel, "/k"));
	CHECK_EQ(c.cpus, 1);
	CHECK_EQ(c.mem_size, 512ULL << 20);
	CHECK_EQ(c.nr_disks, 0);
	CHECK_EQ(c.console, VM_CONSOLE_STDIO);
	CHECK(c.initrd == NULL && c.append == NULL);
}

TEST(all_options)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--kernel=/k", "--initrd", "/i", "--append", "console=ttyAMA0 quiet",
				    "--cpus", "4", "--memory", "1G", "--disk", "/a.img",
				    "--disk=/b.img,readonly", "--console", "file:/tmp/c.log")), VM_CONFIG_OK);
	CHECK(!strcmp(c.kernel, "/k"));
	CHECK(!strcmp(c.initrd, "/i"));
	CHECK(!strcmp(c.append, "console=ttyAMA0 quiet"));
	CHECK_EQ(c.cpus, 4);
	CHECK_EQ(c.mem_size, 1ULL << 30);
	CHECK_EQ(c.nr_disks, 2);
	CHECK(!strcmp(c.disks[0].path, "/a.img") && !c.disks[0].readonly);
	CHECK(!strcmp(c.disks[1].path, "/b.img") && c.disks[1].readonly);
	CHECK_EQ(c.console, VM_CONSOLE_FILE);
	CHECK(!strcmp(c.console_path, "/tmp/c.log"));
}

TEST(help)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--help")), VM_CONFIG_HELP);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "-h")), VM_CONFIG_HELP);
	CHECK(strstr(vm_run_usage, "Exit status") != NULL);
}

TEST(sizes)
{
	uint64_t v;
	CHECK_EQ(vm_parse_size("512M", &v), 0); CHECK_EQ(v, 512ULL << 20);
	CHECK_EQ(vm_parse_size("1G", &v), 0);   CHECK_EQ(v, 1ULL << 30);
	CHECK_EQ(vm_parse_size("2g", &v), 0);   CHECK_EQ(v, 2ULL << 30);
	CHECK_EQ(vm_parse_size("1GiB", &v), 0); CHECK_EQ(v, 1ULL << 30);
	CHECK_EQ(vm_parse_size("256MB", &v), 0); CHECK_EQ(v, 256ULL << 20);
	CHECK_EQ(vm_parse_size("2048", &v), 0); CHECK_EQ(v, 2048ULL << 20);
	CHECK_EQ(vm_parse_size("65536K", &v), 0); CHECK_EQ(v, 64ULL << 20);
	CHECK_EQ(vm_parse_size("", &v), -1);
	CHECK_EQ(vm_parse_size("-1G", &v), -1);
	CHECK_EQ(vm_parse_size("1.5G", &v), -1);
	CHECK_EQ(vm_parse_size("12X", &v), -1);
	CHECK_EQ(vm_parse_size("1Gx", &v), -1);
	CHECK_EQ(vm_parse_size("99999999999999999999", &v), -1);
	CHECK_EQ(vm_parse_size("99999999999T", &v), -1);
	CHECK_EQ(vm_parse_size(" 1G", &v), -1);
}

TEST(errors)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--memory", "1G")), VM_CONFIG_ERROR);
	CHECK(strstr(err, "--kernel is required") != NULL);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--frobnicate")), VM_CONFIG_ERROR);
	CHECK(strstr(err, "unknown option '--frobnicate'") != NULL);
	CHECK_EQ(parse(&c, err, ARGS("--kernel")), VM_CONFIG_ERROR);
	CHECK(strstr(err, "needs a value") != NULL);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--cpus", "0")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--cpus", "65")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--cpus", "2x")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--cpus", "-1")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--memory", "lots")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--memory", "32M")), VM_CONFIG_ERROR);
	CHECK(strstr(err, "64 MiB") != NULL);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--memory", "65")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--memory", "1T")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--console", "tcp:1")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--console", "file:")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--disk", ",readonly")), VM_CONFIG_ERROR);
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--kernelx", "/k")), VM_CONFIG_ERROR);
}

TEST(disk_paths_with_commas)
{
	struct vm_config c;
	char err[256];
	CHECK_EQ(parse(&c, err, ARGS("--kernel", "/k", "--disk", "/a,b.img", "--disk", "/c,d.img,ro")),
		 VM_CONFIG_OK);
	CHECK(!strcmp(c.disks[0].path, "/a,b.img") && !c.disks[0].readonly);
	CHECK(!strcmp(c.disks[1].path, "/c,d.img") && c.disks[1].readonly);
}

TEST(too_many_disks)
{
	struct vm_config c;
	char err[256];
	const char *args[2 * VM_MAX_DISKS + 6];
	int n = 0;
	args[n++] = "--kernel";
	args[n++] = "/k";
	for (int i = 0; i <= VM_MAX_DISKS; i++) {
		args[n++] = "--disk";
		args[n++] = "/d";
	}
	args[n] = NULL;
	char *argv[2 * VM_MAX_DISKS + 8];
	argv[0] = (char *)"run";
	for (int i = 0; i < n; i++)
		argv[i + 1] = (char *)args[i];
	CHECK_EQ(vm_config_parse(&c, n + 1, argv, err, sizeof(err)), VM_CONFIG_ERROR);
	CHECK(strstr(err, "at most") != NULL);
}
