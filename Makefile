# PearVisor build. Plain make, kvmtool style: each source directory has a
# module.mk that appends to the lists below, so subsystems never edit this file.
#
#   make                 native build (x86_64 here): gpu-server, tools, unit tests
#   make ARCH=aarch64    cross build of the VMM for arm64 (static)
#   make SANITIZE=1      ASan/UBSan build in build/<arch>-san
#   make check           everything the README's test command runs
#
ARCH     ?= $(shell uname -m)
HOSTARCH := $(shell uname -m)
SANITIZE ?= 0
V        ?= 0

ifeq ($(V),0)
Q := @
else
Q :=
endif

BUILD := $(if $(O),$(O),build/$(ARCH)$(if $(filter 1,$(SANITIZE)),-san))
GEN   := $(BUILD)/gen

ifneq ($(ARCH),$(HOSTARCH))
  ifeq ($(ARCH),aarch64)
    CROSS ?= aarch64-linux-gnu-
    SYSROOT ?= /opt/pearvisor/sysroot-arm64
  endif
endif
CC := $(CROSS)gcc

# Vulkan registry and headers pinned by tools/setup-host.sh.
VKSDK   ?= /opt/pearvisor/vulkan-1.4.309
VK_XML  ?= $(VKSDK)/usr/share/vulkan/registry/vk.xml
PYTHON  ?= python3

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes \
	-g -O2 -fno-strict-aliasing -pthread -Isrc -I$(GEN) -MMD -MP
ifeq ($(SANITIZE),1)
CFLAGS_BASE += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_BASE += -fsanitize=address,undefined
endif
ifneq ($(SYSROOT),)
CFLAGS_BASE += -I$(SYSROOT)/usr/include
LDFLAGS_BASE += -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
endif
CFLAGS  ?=
LDFLAGS ?=
ALL_CFLAGS  = $(CFLAGS_BASE) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_BASE) $(LDFLAGS) -pthread

# The GPU stack (Venus renderer, vtest) is built where the pinned Vulkan
# headers exist; the arm64 VMM build leaves it out until the VM needs it.
ifeq ($(ARCH),$(HOSTARCH))
GPU ?= 1
else
GPU ?= 0
endif

# Filled by module.mk files:
#   srcs-common   portable code, in every build and in unit tests
#   srcs-vmm      the VMM (arm64 backend files are added only for aarch64)
#   srcs-gpu      renderer and vtest server
#   libs-vmm / libs-gpu       link flags
#   gen-gpu       generated sources for the GPU stack
#   unit-tests    names; each has <name>-srcs (test files) and may set <name>-deps
#   host-progs    extra native programs: name and <name>-srcs
srcs-common :=
srcs-vmm    :=
srcs-gpu    :=
gen-gpu     :=
libs-vmm    :=
libs-gpu    :=
unit-tests  :=
host-progs  :=
cflags-gpu  :=
gen-deps    :=

include $(sort $(wildcard src/*/module.mk src/*/*/module.mk tests/*/module.mk tools/module.mk bench/module.mk))

ifeq ($(GPU),1)
srcs-main := $(srcs-common) $(srcs-vmm) $(srcs-gpu) $(gen-gpu)
libs-main := $(libs-vmm) $(libs-gpu)
ALL_CFLAGS += -DPV_HAVE_GPU=1 $(cflags-gpu)
else
srcs-main := $(srcs-common) $(srcs-vmm)
libs-main := $(libs-vmm)
endif
# The arm64 VMM is static unless it carries the GPU stack, which loads the
# Vulkan loader (libvulkan.so.1) dynamically: `make ARCH=aarch64 GPU=1`
# links against libvulkan-dev:arm64 (VULKAN_ARM64_LIBDIR).
ifeq ($(ARCH),aarch64)
ifeq ($(GPU),1)
VULKAN_ARM64_LIBDIR ?= /usr/lib/aarch64-linux-gnu
ALL_LDFLAGS += -L$(VULKAN_ARM64_LIBDIR)
# libfdt stays static: the L1 host then needs only libc, zlib and the loader.
libs-main := $(subst -lfdt,-l:libfdt.a,$(libs-main))
else
ALL_LDFLAGS += -static
endif
endif

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(patsubst $(GEN)/%,gen/%,$(1)))
lib-objs := $(call obj,$(filter-out src/main.c,$(srcs-main)))

.DEFAULT_GOAL := all
PEARVISOR := $(BUILD)/pearvisor

.PHONY: all check unit-tests clean fuzz gen-headers test-unit
gen-headers: $(if $(filter 1,$(GPU)),$(gen-deps))
all: $(PEARVISOR) $(addprefix $(BUILD)/,$(host-progs))

$(BUILD)/libpearvisor.a: $(lib-objs)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && $(CROSS)ar rcs $@ $^

$(PEARVISOR): $(call obj,src/main.c) $(BUILD)/libpearvisor.a
	@echo "  LD      $@"
	$(Q)$(CC) -o $@ $^ $(ALL_LDFLAGS) $(libs-main)

$(BUILD)/obj/%.o: %.c | gen-headers
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(GEN)/%.c | gen-headers
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Unit tests link against the library; each is its own executable.
define unit-test-rule
$(BUILD)/tests/$(1): $(call obj,$($(1)-srcs)) $(BUILD)/libpearvisor.a
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(CC) -o $$@ $$^ $(ALL_LDFLAGS) $(libs-main) $($(1)-libs)
endef
$(foreach t,$(unit-tests),$(eval $(call unit-test-rule,$(t))))

define host-prog-rule
$(BUILD)/$(1): $(call obj,$($(1)-srcs)) $(BUILD)/libpearvisor.a
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$(CC) -o $$@ $$^ $(ALL_LDFLAGS) $(libs-main) $($(1)-libs)
endef
$(foreach p,$(host-progs),$(eval $(call host-prog-rule,$(p))))

unit-tests: $(addprefix $(BUILD)/tests/,$(unit-tests))

# Runs every unit test; tests/run-unit.sh prints the summary line.
test-unit: unit-tests
	$(Q)sh tests/run-unit.sh $(BUILD)/tests $(unit-tests)

# Everything CI runs; see README.
check:
	$(Q)sh tests/check.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
