# Benchmarks built as host programs (run by hand; no timing assertions).
ifeq ($(GPU),1)
host-progs += venus-null-call
venus-null-call-srcs := bench/venus_null_call.c
endif
