/*
 * What a host Vulkan driver may expect of the process that loads it, beyond
 * its own dependencies. Call before the first Vulkan call that can load a
 * driver (instance creation, device enumeration).
 */
#ifndef PV_GPU_GPU_HOST_RUNTIME_H
#define PV_GPU_GPU_HOST_RUNTIME_H

/*
 * Makes the C math runtime (libm) and the compiler runtime (libgcc_s)
 * global, once per process. Drivers that compile shaders to machine code at
 * run time (Mesa's llvmpipe/lavapipe through LLVM's MCJIT) link that code
 * against the process's global symbols: exp2f for a half-precision exp2,
 * __extendhfsf2 where the CPU lacks F16C. A driver's own dependencies do
 * not count (the loader opens it RTLD_LOCAL), and an unresolved name is
 * linked as address 0: the shader calls it and the process dies. Ordinary
 * applications have both libraries global (C++ programs always do; older
 * Vulkan loaders pulled in libm); a C program whose loader does not (sid's
 * libvulkan 1.4) has neither. Safe to call any number of times, from any
 * thread; a no-op where these libraries do not exist.
 */
void gpu_host_runtime_prepare(void);

#endif
