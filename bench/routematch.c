/*
 * routematch: what route_match() costs per request, alone: the four
 * routes of bench/run's get-ka-routes scenario, a few request shapes,
 * nanoseconds per call.  A measurement to read, not a test (no timed
 * unit tests): run `bench/routematch` (taskset -c 0 for a steadier
 * number) and compare with the proxy's CPU time per request that
 * `bench/run -s get-ka-routes` prints.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "switchover/config.h"
#include "switchover/route.h"

#define CALLS	5000000L

static const char conf[] =
    "[listener]\naddress = 127.0.0.1:1\n"
    "[backend source]\nservers = 127.0.0.1:2\nweight = 3\n"
    "[backend target]\nservers = 127.0.0.1:3\nweight = 1\n"
    "[route logs]\noperation = read\nindices = logs-*, metrics-*\n"
    "weights = source=9, target=1\n"
    "[route orders]\nindices = orders*, order-?\nweights = source=1\n"
    "[route writes]\noperation = write\nweights = source=1\n"
    "[route traces]\nindices = traces-*-2026.*\n"
    "weights = source=1, target=1\n";

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(void)
{
	static const char *const paths[] = { "/bench-idx/_search", "/",
	    "/logs-2024.01.01/_search?q=x", "/a,b,c/_search", "/_bulk" };
	struct config_errors	 e = { NULL, 0 };
	struct sw_config	*c;

	if ((c = config_parse("routematch", conf, sizeof(conf) - 1,
	    &e)) == NULL) {
		fprintf(stderr, "routematch: config refused\n");
		return 1;
	}
	for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
		size_t		 n = strlen(paths[k]);
		volatile int	 sink = 0;
		double		 t0 = now();

		for (long i = 0; i < CALLS; i++)
			sink += route_match(c, "GET", 3, paths[k], n);
		printf("GET %-30s %6.1f ns/match (route %d)\n", paths[k],
		    (now() - t0) / CALLS * 1e9,
		    route_match(c, "GET", 3, paths[k], n));
	}
	config_unref(c);
	return 0;
}
