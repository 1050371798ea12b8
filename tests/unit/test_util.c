#include "test.h"
#include "os/util.h"

TEST(range_ok_rejects_overflow)
{
	CHECK(pv_range_ok(0, 0, 0));
	CHECK(pv_range_ok(0, 16, 16));
	CHECK(pv_range_ok(16, 0, 16));
	CHECK(!pv_range_ok(17, 0, 16));
	CHECK(!pv_range_ok(8, 9, 16));
	CHECK(!pv_range_ok(UINT64_MAX, 2, UINT64_MAX));
	CHECK(!pv_range_ok(1, UINT64_MAX, UINT64_MAX));
}
