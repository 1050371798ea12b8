#include "gpu/gpu_host_runtime.h"

#include <pthread.h>

#include "os/log.h"

#if defined(__linux__)
#include <dlfcn.h>

static pthread_once_t runtime_once = PTHREAD_ONCE_INIT;

static void make_global(const char *soname)
{
	/* The handle is kept on purpose: the library stays global for the
	 * life of the process, as JIT code may call into it at any time. */
	if (!dlopen(soname, RTLD_NOW | RTLD_GLOBAL))
		pv_debug("gpu: %s not made global (%s); JIT-compiling drivers may "
			 "miss its symbols", soname, dlerror());
}

static void prepare_once(void)
{
	make_global("libm.so.6");
	make_global("libgcc_s.so.1");
}

void gpu_host_runtime_prepare(void)
{
	pthread_once(&runtime_once, prepare_once);
}
#else
/* macOS: libm and the compiler runtime are part of libSystem, always global. */
void gpu_host_runtime_prepare(void)
{
}
#endif
