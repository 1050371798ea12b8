/*
 * Logging. Messages go to stderr with a level prefix; the level threshold
 * comes from PEARVISOR_LOG (error, warn, info, debug) and defaults to info.
 * Thread-safe: each message is written with a single write(2).
 */
#ifndef PV_OS_LOG_H
#define PV_OS_LOG_H

#include <stdarg.h>

enum pv_log_level { PV_LOG_ERROR, PV_LOG_WARN, PV_LOG_INFO, PV_LOG_DEBUG };

void pv_log(enum pv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pv_vlog(enum pv_log_level level, const char *fmt, va_list ap);
int pv_log_enabled(enum pv_log_level level);

#define pv_err(...)   pv_log(PV_LOG_ERROR, __VA_ARGS__)
#define pv_warn(...)  pv_log(PV_LOG_WARN, __VA_ARGS__)
#define pv_info(...)  pv_log(PV_LOG_INFO, __VA_ARGS__)
#define pv_debug(...) pv_log(PV_LOG_DEBUG, __VA_ARGS__)

#endif
