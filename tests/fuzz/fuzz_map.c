/* libFuzzer target: the HOSTSHIM_MAP parser (config_parse_map).
 *
 * An environment variable holds no NUL, so the input is cut at the first
 * NUL byte. Items are separated by commas or newlines. */
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	FUZZ_ASSERT(text);
	memcpy(text, data, size);
	text[size] = '\0';

	struct config cfg = {.file_log = -1};
	config_parse_map(&cfg, text);
	check_config(&cfg, "HOSTSHIM_MAP item ");

	/* Items are numbered 1..N in order; N is at most the separators + 1. */
	size_t items = 1;
	for (const char *p = text; *p; p++)
		items += *p == ',' || *p == '\n';
	for (size_t i = 0; i < cfg.nmessages; i++) {
		unsigned long n = strtoul(cfg.messages[i].text + 18, NULL, 10);
		FUZZ_ASSERT(n >= 1 && n <= items);
	}
	for (size_t i = 0; i < cfg.nrules; i++) {
		FUZZ_ASSERT(cfg.rules[i]->source == 1);
		unsigned long n = strtoul(cfg.rules[i]->origin + 18, NULL, 10);
		FUZZ_ASSERT(n >= 1 && n <= items);
	}
	config_merge(&cfg);
	config_free(&cfg);
	free(text);
	return 0;
}
