/*
 * clock: the monotonic clock in the units the proxy counts in.  A module
 * of its own so that timing a thing does not mean including the worker.
 */
#ifndef SWITCHOVER_CLOCK_H
#define SWITCHOVER_CLOCK_H

#include <stdint.h>

/* Microseconds on the monotonic clock. */
uint64_t	now_us(void);
/* Milliseconds on the monotonic clock. */
uint64_t	now_ms(void);

#endif
