/* check_main.h: every unit-test file defines test_suite(); check_main.c runs it. */
#ifndef SL_CHECK_MAIN_H
#define SL_CHECK_MAIN_H

#include <check.h>

Suite *test_suite(void);

#endif
