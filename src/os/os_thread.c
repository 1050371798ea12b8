#include "os/os_thread.h"

#include <sys/prctl.h>

#include "os/log.h"

void os_thread_set_timer_slack_ns(unsigned long ns)
{
	if (prctl(PR_SET_TIMERSLACK, ns ? ns : 1, 0, 0, 0))
		pv_debug("os: PR_SET_TIMERSLACK %lu failed", ns);
}
