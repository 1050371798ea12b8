# Unit tests of the portable VMM parts (arm64 machine model, PL011, CLI).
unit-tests += test_arm64_image test_arm64_fdt test_arm64_layout test_vmm_config test_pl011 test_console
test_arm64_image-srcs  := tests/unit/test_main.c tests/vmm/test_arm64_image.c
test_arm64_fdt-srcs    := tests/unit/test_main.c tests/vmm/test_arm64_fdt.c
test_arm64_layout-srcs := tests/unit/test_main.c tests/vmm/test_arm64_layout.c
test_vmm_config-srcs   := tests/unit/test_main.c tests/vmm/test_vmm_config.c
test_pl011-srcs        := tests/unit/test_main.c tests/vmm/test_pl011.c
test_console-srcs      := tests/unit/test_main.c tests/vmm/test_console.c
unit-tests += test_vmm_config_gpu
test_vmm_config_gpu-srcs := tests/unit/test_main.c tests/vmm/test_vmm_config_gpu.c
