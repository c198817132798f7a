/* libFuzzer target: the INI file parser (config_parse_file).
 *
 * The input is the file's content, bytes as they are: NULs, no final
 * newline, CR, binary junk. It is written to a file in a directory of its
 * own, 0700 (run as root, the library trusts a file only there), and
 * parsed by its path, as the library reads HOSTSHIM_CONFIG. */
#define _GNU_SOURCE
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

static int fd = -1;
static char path[64] = "/tmp/hostshim-fuzz-XXXXXX";

static void remove_file(void)
{
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fd < 0) {
		FUZZ_ASSERT(mkdtemp(path));
		strcat(path, "/fuzz.ini");
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		FUZZ_ASSERT(fd >= 0);
		atexit(remove_file);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size);

	struct config cfg = {.file_log = -1};
	config_parse_file(&cfg, path);

	char prefix[80];
	snprintf(prefix, sizeof prefix, "%s:", path);
	/* The file was read (not refused), whatever it holds. */
	for (size_t i = 0; i < cfg.nmessages; i++)
		FUZZ_ASSERT(cfg.messages[i].text[strlen(prefix)] >= '1' &&
			    cfg.messages[i].text[strlen(prefix)] <= '9');
	check_config(&cfg, prefix);
	FUZZ_ASSERT(cfg.file_log >= -1 && cfg.file_log <= LOG_DEBUG);

	/* Every message names a line that exists. */
	size_t lines = 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size && data[size - 1] != '\n')
		lines++;
	for (size_t i = 0; i < cfg.nmessages; i++) {
		unsigned long line = strtoul(cfg.messages[i].text + strlen(prefix),
					     NULL, 10);
		FUZZ_ASSERT(line >= 1 && line <= lines);
	}

	/* A HOSTSHIM_MAP on top, overriding whatever key the file has first. */
	if (cfg.nrules) {
		char map[LINE_MAX_LEN + 32];
		snprintf(map, sizeof map, "%s = 127.0.0.1:1",
			 cfg.rules[0]->public_text);
		size_t before = cfg.nrules;
		config_parse_map(&cfg, map);
		config_merge(&cfg);
		FUZZ_ASSERT(cfg.nrules == before);
	} else {
		config_merge(&cfg);
	}
	config_free(&cfg);
	return 0;
}
