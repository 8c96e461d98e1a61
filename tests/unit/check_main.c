/*
 * check_main.c: shared main() for Check unit-test executables. Each test_<module>.c defines
 * `Suite *test_suite(void)`; this runs it and exits non-zero on any failure.
 */
#include "check_main.h"

#include <stdlib.h>

int main(void)
{
	SRunner *runner = srunner_create(test_suite());
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
