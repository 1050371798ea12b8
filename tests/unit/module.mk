# Every unit test executable includes the harness main.
unit-test-main := tests/unit/test_main.c

unit-tests += test_util
test_util-srcs := $(unit-test-main) tests/unit/test_util.c

# virtio: each test links the simulated driver.
unit-tests += test_virtio_mmio test_virtio_blk test_virtio_console
test_virtio_mmio-srcs := $(unit-test-main) tests/unit/virtio_sim.c tests/unit/test_virtio_mmio.c
test_virtio_blk-srcs := $(unit-test-main) tests/unit/virtio_sim.c tests/unit/test_virtio_blk.c
test_virtio_console-srcs := $(unit-test-main) tests/unit/virtio_sim.c tests/unit/test_virtio_console.c

# virtio-gpu against a scripted renderer (portable: every build).
unit-tests += test_virtio_gpu
test_virtio_gpu-srcs := $(unit-test-main) tests/unit/virtio_sim.c tests/unit/test_virtio_gpu.c
ifeq ($(GPU),1)
test_virtio_gpu-srcs += tests/unit/test_virtio_gpu_venus.c
endif
