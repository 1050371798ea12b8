#include "os/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Read once; the environment does not change under a running process. */
static enum pv_log_level threshold(void)
{
	static int cached = -1;
	if (cached < 0) {
		const char *env = getenv("PEARVISOR_LOG");
		int lvl = PV_LOG_INFO;
		for (int i = 0; env && i < 4; i++)
			if (!strcmp(env, level_names[i]))
				lvl = i;
		cached = lvl;
	}
	return (enum pv_log_level)cached;
}

int pv_log_enabled(enum pv_log_level level)
{
	return level <= threshold();
}

void pv_vlog(enum pv_log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (!pv_log_enabled(level))
		return;
	n = snprintf(buf, sizeof(buf), "pearvisor: %s: ", level_names[level]);
	if (n < 0)
		return;
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, buf, len);
	(void)w;
}

void pv_log(enum pv_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pv_vlog(level, fmt, ap);
	va_end(ap);
}
