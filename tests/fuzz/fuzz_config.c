/*
 * fuzz_config: any bytes as a config file -> config_parse, the parser
 * behind `switchover -t`, SIGHUP reloads and start-up.
 *
 * Invariants: a config comes back exactly when no error was collected;
 * every error is "NAME:LINE: message" with a line inside the input; an
 * accepted config has at least one backend with weight and can be cloned
 * and released (ASan/LSan see any leak or double free).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switchover/config.h"
#include "switchover/log.h"

#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors	 errs = { NULL, 0 };
	struct sw_config	*cfg, *copy;
	size_t			 lines = 1;

	log_set_level(LOG_LVL_ERR);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	cfg = config_parse("fuzz.conf", (const char *)data, size, &errs);
	FUZZ_ASSERT((cfg == NULL) == (errs.n > 0));
	for (size_t i = 0; i < errs.n; i++) {
		const char	*m = errs.msgs[i];
		char		*end;
		unsigned long	 line;

		FUZZ_ASSERT(strncmp(m, "fuzz.conf:", 10) == 0);
		line = strtoul(m + 10, &end, 10);
		FUZZ_ASSERT(end != m + 10 && *end == ':');
		FUZZ_ASSERT(line <= lines);
	}
	config_errors_free(&errs);
	if (cfg != NULL) {
		int sum = 0;

		for (size_t i = 0; i < cfg->nbackends; i++)
			sum += cfg->backends[i].weight;
		FUZZ_ASSERT(sum > 0);
		FUZZ_ASSERT((copy = config_clone(cfg)) != NULL);
		FUZZ_ASSERT(copy->nbackends == cfg->nbackends);
		config_unref(copy);
		config_unref(cfg);
	}
	return 0;
}
