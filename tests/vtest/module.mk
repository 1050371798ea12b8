# The vtest server against a scripted renderer (tests/vtest/fake_renderer.c,
# linked only here).
ifeq ($(GPU),1)
unit-tests += test_vtest_server
test_vtest_server-srcs := $(unit-test-main) tests/vtest/test_vtest_server.c \
	tests/vtest/fake_renderer.c tests/vtest/vt_client.c
endif

# Attacks a running gpu-server (tests/suites/30-venus.sh).
ifeq ($(GPU),1)
host-progs += vtest-hostile
vtest-hostile-srcs := tests/venus/vtest-hostile.c tests/vtest/vt_client.c
endif
