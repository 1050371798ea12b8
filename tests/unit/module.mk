# Every unit test executable includes the harness main.
unit-test-main := tests/unit/test_main.c

unit-tests += test_util
test_util-srcs := $(unit-test-main) tests/unit/test_util.c
