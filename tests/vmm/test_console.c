#include <string.h>

#include "vmm/console.h"
#include "../unit/test.h"

static size_t run(bool *esc, const char *in, char *out, bool *quit)
{
	return console_escape(esc, (const uint8_t *)in, strlen(in), (uint8_t *)out, quit);
}

TEST(plain_bytes_pass)
{
	bool esc = false, quit = false;
	char out[16];
	CHECK_EQ(run(&esc, "ls\r", out, &quit), 3);
	CHECK(!memcmp(out, "ls\r", 3));
	CHECK(!quit && !esc);
}

TEST(ctrl_a_x_quits)
{
	bool esc = false, quit = false;
	char out[16];
	CHECK_EQ(run(&esc, "a\001xb", out, &quit), 2);
	CHECK(quit);
	CHECK(!memcmp(out, "ab", 2));
}

TEST(ctrl_a_ctrl_a_sends_one)
{
	bool esc = false, quit = false;
	char out[16];
	CHECK_EQ(run(&esc, "\001\001", out, &quit), 1);
	CHECK_EQ(out[0], 1);
	CHECK(!quit);
}

TEST(ctrl_a_other_sends_both)
{
	bool esc = false, quit = false;
	char out[16];
	CHECK_EQ(run(&esc, "\001c", out, &quit), 2);
	CHECK(!memcmp(out, "\001c", 2));
}

TEST(escape_split_across_reads)
{
	bool esc = false, quit = false;
	char out[16];
	CHECK_EQ(run(&esc, "ab\001", out, &quit), 2);
	CHECK(esc);
	CHECK_EQ(run(&esc, "X", out, &quit), 0);
	CHECK(quit && !esc);
	/* A pending Ctrl-A followed by a full read needs the extra byte. */
	quit = false;
	CHECK_EQ(run(&esc, "\001", out, &quit), 0);
	CHECK_EQ(run(&esc, "0123456789abcde", out, &quit), 16);
	CHECK_EQ(out[0], 1);
	CHECK_EQ(out[15], 'e');
}
