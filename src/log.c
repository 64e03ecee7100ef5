/*
 * log: leveled, timestamped lines to stderr or a file.
 *
 * Invariant: one log line = one write(2) on an O_APPEND descriptor, so
 * threads need no lock and an external rotator may rename the file at any
 * time (log_reopen() then starts a new one).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "switchover/log.h"

static int		 log_fd = STDERR_FILENO;
static char		*log_path;
static enum log_level	 log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/*
 * Open (or reopen) the configured log file.  A reopen puts the new file
 * on the descriptor in use (dup2 swaps it atomically): closing it instead
 * would let a thread write to a closed descriptor, or to whatever socket
 * takes its number next.
 */
static int
log_open_path(const char *path)
{
	int fd, e;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (log_fd == STDERR_FILENO) {
		log_fd = fd;
		return 0;
	}
	if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int
log_init(const char *path, enum log_level level)
{
	log_level = level;
	if (path == NULL || strcmp(path, "-") == 0)
		return 0;
	free(log_path);
	if ((log_path = strdup(path)) == NULL)
		return -1;
	return log_open_path(log_path);
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int
log_enabled(enum log_level level)
{
	return level >= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int
log_reopen(void)
{
	if (log_path == NULL)
		return 0;
	return log_open_path(log_path);
}

void
log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	free(log_path);
	log_path = NULL;
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char		 line[2048];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;
	int		 r;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: ",
	    ts.tv_nsec / 1000000, level_names[level]);
	if (r > 0)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r < 0)
		r = 0;
	n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;	/* truncated: keep the newline */
	line[n++] = '\n';
	/* Best effort: a failed log write has nowhere better to go. */
	if (write(log_fd, line, n) < 0)
		errno = 0;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_limited(struct log_limit *l, enum log_level level, const char *fmt, ...)
{
	struct timespec		 ts;
	unsigned long long	 now, cur;
	unsigned		 n;
	va_list			 ap;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec;
	cur = __atomic_load_n(&l->window, __ATOMIC_RELAXED);
	if (now != cur && __atomic_compare_exchange_n(&l->window, &cur, now, 0,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_store_n(&l->logged, 0, __ATOMIC_RELAXED);
		if ((n = __atomic_exchange_n(&l->held, 0, __ATOMIC_RELAXED)) > 0)
			log_msg(level, "suppressed %u more such lines (at most "
			    "%d a second)", n, LOG_LIMIT_BURST);
	}
	if (__atomic_fetch_add(&l->logged, 1, __ATOMIC_RELAXED) >=
	    LOG_LIMIT_BURST) {
		__atomic_add_fetch(&l->held, 1, __ATOMIC_RELAXED);
		return;
	}
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
