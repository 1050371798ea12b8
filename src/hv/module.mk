# Exactly one backend per build: KVM on arm64, a stub that says so elsewhere.
ifeq ($(ARCH),aarch64)
srcs-vmm += src/hv/kvm_arm64.c
else
srcs-vmm += src/hv/hv_none.c
endif
