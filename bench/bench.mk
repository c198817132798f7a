# Benchmarks: `make bench` (full run, judges the targets; about 7 minutes)
# and `make bench-quick` (a smoke run for CI, under 3 minutes, no
# thresholds). Both need root (a network namespace of their own) and
# valgrind; proxychains4 and nss_wrapper are compared when installed.
# Results: the tables on stdout, and build/bench/results.md, results.json,
# callgrind/. Included from the Makefile.

BENCH_DIR    := build/bench
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror
BENCH_BINS   := $(BENCH_DIR)/libfloor.so $(BENCH_DIR)/micro $(BENCH_DIR)/spawn
BENCH_ARGS   ?=

# The floor is built the way the library is (hidden visibility, the same
# exported names, -z now), so loading and calling it cost alike.
$(BENCH_DIR)/libfloor.so: bench/floor.c shim/exports.map
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -fPIC -fvisibility=hidden -U_FORTIFY_SOURCE \
	  -shared -Wl,--version-script=shim/exports.map -Wl,-z,defs \
	  -Wl,-z,now -Wl,-z,relro -o $@ $<

$(BENCH_DIR)/micro: bench/micro.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -pthread -o $@ $<

$(BENCH_DIR)/spawn: bench/spawn.c
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench: build/libhostshim.so $(BENCH_BINS)
	python3 bench/run.py $(BENCH_ARGS)

bench-quick: build/libhostshim.so $(BENCH_BINS)
	python3 bench/run.py --quick $(BENCH_ARGS)

.PHONY: bench bench-quick
