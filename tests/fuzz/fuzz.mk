# Fuzzing: libFuzzer targets for the INI parser, the HOSTSHIM_MAP parser
# and the name matcher, built with clang into build/fuzz/.
#   make fuzz FUZZ_SECONDS=N   runs each target for N seconds (default 60);
#                              fails on any crash, leak or timeout.
#   make fuzz-build            builds the targets only.
# Included by the top-level Makefile.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_TARGETS := ini map match
FUZZ_BINS    := $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Ishim -fno-strict-aliasing \
                -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_INIH    ?= -l:libinih.a
# fuzz_match includes rules.c itself (to empty its tables between inputs).
FUZZ_LIBSRCS := shim/config.c shim/log.c shim/targets.c shim/real.c

build/fuzz/fuzz_ini build/fuzz/fuzz_map: build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
    tests/fuzz/fuzz_common.h $(FUZZ_LIBSRCS) shim/rules.c $(wildcard shim/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIBSRCS) shim/rules.c $(FUZZ_INIH)

build/fuzz/fuzz_match: tests/fuzz/fuzz_match.c tests/fuzz/fuzz_common.h \
    $(FUZZ_LIBSRCS) shim/rules.c $(wildcard shim/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIBSRCS) $(FUZZ_INIH)

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: fuzz fuzz-build

# The ThreadSanitizer stress test has its own makefile.
-include tests/tsan/tsan.mk
