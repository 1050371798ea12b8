/*
 * virtio-mmio transport, version 2 (modern; spec 4.2). The VMM creates one
 * per device and registers it on its MMIO bus:
 *
 *   struct virtio_mmio *m = virtio_mmio_create(dev, mem, irq);
 *   mmio_bus_register(bus, base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, m);
 *
 * Interrupts are edge-triggered: each time the device sets a bit in
 * InterruptStatus it pulses the line (level 1 then 0). Describe the SPI in
 * the FDT as IRQ_TYPE_EDGE_RISING (interrupts = <0 SPI 1>), as kvmtool and
 * Firecracker do. The driver reads InterruptStatus and ACKs it before it
 * scans the used rings, so an event that arrives meanwhile is either seen by
 * that scan or pulses the line again; none is lost.
 */
#ifndef PV_VIRTIO_MMIO_H
#define PV_VIRTIO_MMIO_H

#include "virtio/virtio.h"
#include "vmm/irq.h"
#include "vmm/mmio_bus.h"

#define VIRTIO_MMIO_SIZE 0x200

/* Register offsets (spec 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000
#define VIRTIO_MMIO_VERSION             0x004
#define VIRTIO_MMIO_DEVICE_ID           0x008
#define VIRTIO_MMIO_VENDOR_ID           0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL           0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034
#define VIRTIO_MMIO_QUEUE_NUM           0x038
#define VIRTIO_MMIO_QUEUE_READY         0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064
#define VIRTIO_MMIO_STATUS              0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4
#define VIRTIO_MMIO_SHM_SEL             0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW         0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH        0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW        0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH       0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fc
#define VIRTIO_MMIO_CONFIG              0x100

#define VIRTIO_MMIO_MAGIC  0x74726976u   /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x52414550u   /* "PEAR" */

struct virtio_mmio;

/* Takes ownership of dev on success; on failure (NULL, after pv_err) dev is
 * still the caller's. mem must outlive the transport. */
struct virtio_mmio *virtio_mmio_create(struct virtio_device *dev, const struct guest_mem *mem,
				       struct irq_line irq);
extern const struct mmio_ops virtio_mmio_ops;
/* Also destroys the device. */
void virtio_mmio_destroy(struct virtio_mmio *m);

#endif
