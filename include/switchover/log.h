/*
 * log: the one logging API of switchover.
 *
 * Every line is written with a single write(2), so lines from different
 * threads never interleave.  Safe to call from any thread once log_init()
 * has run; before that, lines go to stderr at level info.
 */
#ifndef SWITCHOVER_LOG_H
#define SWITCHOVER_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERR,
};

/* Open the log: path NULL or "-" means stderr.  Returns 0 or -1. */
int	 log_init(const char *path, enum log_level level);
/* Parse "debug", "info", "warn", "error".  Returns -1 if unknown. */
int	 log_level_parse(const char *s, enum log_level *out);
void	 log_set_level(enum log_level level);
int	 log_enabled(enum log_level level);
/*
 * Reopen the log file (after rotation, on SIGHUP) on the same descriptor
 * (dup2): threads writing meanwhile never see a closed one.
 */
int	 log_reopen(void);
void	 log_close(void);

void	 log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_vmsg(enum log_level, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/*
 * Lines that a client can cause one per request (a flood of bad requests
 * must not fill the disk or stall a worker on a full pipe): at most
 * LOG_LIMIT_BURST a second per struct log_limit, then one line saying
 * how many were suppressed.  Any thread; a static zeroed struct each.
 */
#define LOG_LIMIT_BURST	10
struct log_limit {
	unsigned long long	window;	/* the second being counted */
	unsigned		logged, held;
};
void	 log_limited(struct log_limit *, enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Log at error level and exit(1).  For start-up failures only. */
void	 fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) do {						\
	if (log_enabled(LOG_LVL_DEBUG))					\
		log_msg(LOG_LVL_DEBUG, __VA_ARGS__);			\
} while (0)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)

#endif
