/* Runs every TEST() linked into this executable (or those named in argv). */
#include "test.h"

struct pv_test *pv_test_list;
int pv_test_failed_checks;

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;

	/* Registration prepends; reverse for source order. */
	struct pv_test *rev = NULL;
	while (pv_test_list) {
		struct pv_test *t = pv_test_list;
		pv_test_list = t->next;
		t->next = rev;
		rev = t;
	}
	for (struct pv_test *t = rev; t; t = t->next) {
		if (argc > 1) {
			int want = 0;
			for (int i = 1; i < argc; i++)
				want |= !strcmp(argv[i], t->name);
			if (!want)
				continue;
		}
		int before = pv_test_failed_checks;
		t->fn();
		if (pv_test_failed_checks == before) {
			printf("PASS %s\n", t->name);
			passed++;
		} else {
			printf("FAIL %s\n", t->name);
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
