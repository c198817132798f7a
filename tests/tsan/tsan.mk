# ThreadSanitizer stress test: the library and a 16-thread stress program,
# both built with clang -fsanitize=thread into build/tsan/.
#   make tsan     builds them and runs tests/tsan/run.sh (root, ip netns)
# Included from tests/fuzz/fuzz.mk (or from the top-level Makefile).

TSAN_CC     ?= clang
TSAN_SRCS   := $(wildcard shim/*.c)
TSAN_INIH   ?= -l:libinih.a
TSAN_CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -fno-strict-aliasing -fsanitize=thread

build/tsan/libhostshim.so: $(TSAN_SRCS) $(wildcard shim/*.h) shim/exports.map
	@mkdir -p $(@D)
	$(TSAN_CC) $(TSAN_CFLAGS) -fPIC -fvisibility=hidden -U_FORTIFY_SOURCE \
	  -shared -Wl,--version-script=shim/exports.map -o $@ $(TSAN_SRCS) \
	  $(TSAN_INIH)

build/tsan/stress: tests/tsan/stress.c
	@mkdir -p $(@D)
	$(TSAN_CC) $(TSAN_CFLAGS) -Wall -Wextra -pthread -o $@ $<

# The slots read as connect does while lookups reuse them and reloads free
# rulesets (tests/unit/slots_stress.c), under ThreadSanitizer.
build/tsan/slots_stress: tests/unit/slots_stress.c $(UNIT_SRCS) $(wildcard shim/*.h)
	@mkdir -p $(@D)
	$(TSAN_CC) $(TSAN_CFLAGS) -Wall -Wextra -pthread -DSLOT_BITS=9 -Ishim -o $@ \
	  tests/unit/slots_stress.c $(UNIT_SRCS) $(TSAN_INIH)

tsan: build/tsan/libhostshim.so build/tsan/stress build/tsan/slots_stress
	TSAN_OPTIONS=halt_on_error=1 build/tsan/slots_stress 3
	sh tests/tsan/run.sh

.PHONY: tsan
