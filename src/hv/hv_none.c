/*
 * The backend on hosts with no supported hypervisor (today: anything but
 * Linux/arm64). Everything portable in `pearvisor run` (option and file
 * validation, layout, device tree) still runs, then VM creation fails here.
 */
#include "hv/hv.h"

#include <errno.h>
#include <stddef.h>

#include "os/log.h"

const char *hv_backend_name(void) { return "none"; }

int hv_vm_create(const struct hv_vm_config *cfg, struct hv_vm **out)
{
	(void)cfg;
	*out = NULL;
	pv_err("no hypervisor backend for this host architecture "
	       "(pearvisor run needs Linux/arm64 with /dev/kvm)");
	return -ENOSYS;
}

void hv_vm_destroy(struct hv_vm *vm) { (void)vm; }
int hv_vm_map(struct hv_vm *vm, uint64_t gpa, void *host, uint64_t size)
{ (void)vm; (void)gpa; (void)host; (void)size; return -ENOSYS; }
int hv_vm_finalize(struct hv_vm *vm) { (void)vm; return -ENOSYS; }
int hv_irq_set(struct hv_vm *vm, unsigned spi, bool level)
{ (void)vm; (void)spi; (void)level; return -ENOSYS; }
int hv_vcpu_create(struct hv_vm *vm, unsigned index, struct hv_vcpu **out)
{ (void)vm; (void)index; *out = NULL; return -ENOSYS; }
void hv_vcpu_destroy(struct hv_vcpu *vcpu) { (void)vcpu; }
int hv_vcpu_set_reg(struct hv_vcpu *vcpu, enum hv_reg reg, uint64_t value)
{ (void)vcpu; (void)reg; (void)value; return -ENOSYS; }
int hv_vcpu_get_reg(struct hv_vcpu *vcpu, enum hv_reg reg, uint64_t *value)
{ (void)vcpu; (void)reg; (void)value; return -ENOSYS; }
int hv_vcpu_run(struct hv_vcpu *vcpu, struct hv_exit *exit)
{ (void)vcpu; (void)exit; return -ENOSYS; }
void hv_vcpu_kick(struct hv_vcpu *vcpu) { (void)vcpu; }
