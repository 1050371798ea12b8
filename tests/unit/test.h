/*
 * A minimal unit-test harness: each test is a function registered with
 * TEST(name); CHECK() records a failure and continues, so one run reports
 * every broken expectation. The runner prints "PASS name"/"FAIL name" lines
 * that tests/check.sh counts.
 */
#ifndef PV_TEST_H
#define PV_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

struct pv_test {
	const char *name;
	void (*fn)(void);
	struct pv_test *next;
};

extern struct pv_test *pv_test_list;
extern int pv_test_failed_checks;

#define TEST(name)                                                        \
	static void test_##name(void);                                    \
	static struct pv_test test_reg_##name = { #name, test_##name, 0 }; \
	__attribute__((constructor)) static void test_ctor_##name(void)   \
	{                                                                 \
		test_reg_##name.next = pv_test_list;                      \
		pv_test_list = &test_reg_##name;                          \
	}                                                                 \
	static void test_##name(void)

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "  %s:%d: CHECK failed: %s\n",    \
				__FILE__, __LINE__, #cond);                \
			pv_test_failed_checks++;                           \
		}                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		if (_a != _b) {                                                \
			fprintf(stderr, "  %s:%d: CHECK_EQ failed: %s == %s "  \
				"(%lld != %lld)\n", __FILE__, __LINE__, #a,    \
				#b, _a, _b);                                   \
			pv_test_failed_checks++;                               \
		}                                                              \
	} while (0)

#endif
