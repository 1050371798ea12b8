#include "test.h"
#include "os/os_spin.h"
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

/* The adaptive poll window: waits caught inside it leave it alone, waits
 * a longer poll would have caught grow it, waits past the cap shrink it
 * to off, and from off the next short wait starts it again. */
TEST(spin_window_adapts)
{
	struct os_spin s;
	os_spin_init(&s, 0);
	os_spin_update(&s, 5000);
	CHECK(s.window_ns == 0);

	os_spin_init(&s, 200000);
	CHECK(s.window_ns == 200000);
	os_spin_update(&s, 150000); /* caught */
	CHECK(s.window_ns == 200000);
	os_spin_update(&s, 5000000); /* 5 ms: wasted */
	CHECK(s.window_ns == 100000);
	os_spin_update(&s, 150000); /* just missed: grow, up to the cap */
	CHECK(s.window_ns == 200000);
	os_spin_update(&s, 190000);
	CHECK(s.window_ns == 200000);
	for (int i = 0; i < 8; i++)
		os_spin_update(&s, 1000000000ull);
	CHECK(s.window_ns == 0);
	os_spin_update(&s, 3000); /* from off, any wait within the cap restarts it */
	CHECK(s.window_ns == OS_SPIN_GROW_START_NS);
	os_spin_update(&s, 15000);
	CHECK(s.window_ns == 2 * OS_SPIN_GROW_START_NS);
	os_spin_update(&s, 15000);
	CHECK(s.window_ns == 2 * OS_SPIN_GROW_START_NS);

	os_spin_init(&s, 5000); /* a cap below the growth start */
	os_spin_update(&s, 1000000);
	CHECK(s.window_ns == 0);
	os_spin_update(&s, 4000);
	CHECK(s.window_ns == 5000);
}
