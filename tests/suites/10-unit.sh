#!/bin/sh
# Native build with -Werror, then every unit test under ASan/UBSan.
set -e
make -j2 all
make -j2 SANITIZE=1 unit-tests
make SANITIZE=1 test-unit
