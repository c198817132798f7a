# Supervised mode: build/hostshim-supervise, the seccomp supervisor that
# `hostshim --supervise` runs (shim/supervise/). It links the library's
# configuration, matching and logging code (not the hooks) and inih, so
# it needs libc alone at run time. Included by the top-level Makefile.
#   make supervise-test   its tests (tests/supervise/run.py: root, a network
#                         namespace; Go clients need golang-go, the static
#                         client musl-gcc, the Node client node)

SUP_SRCS := $(wildcard shim/supervise/*.c) shim/config.c shim/rules.c shim/log.c
SUP_HDRS := shim/supervise/supervise.h shim/shim.h

build/hostshim-supervise: $(SUP_SRCS) $(SUP_HDRS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(CFLAGS) $(WARN) -fno-strict-aliasing -U_FORTIFY_SOURCE \
	  -Ishim -pthread -o $@ $(SUP_SRCS) $(INIH)

all: build/hostshim-supervise

supervise-test: build/hostshim-supervise build/hostshim
	python3 tests/supervise/run.py

check: supervise-test

install: install-supervise
install-supervise: build/hostshim-supervise
	install -d $(DESTDIR)$(PREFIX)/lib/hostshim
	install -m 755 build/hostshim-supervise $(DESTDIR)$(PREFIX)/lib/hostshim/

.PHONY: supervise-test install-supervise

build/bench/supervise_bench: bench/supervise_bench.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g $(WARN) -pthread -o $@ $<

bench-supervise: build/bench/supervise_bench build/hostshim-supervise build/hostshim
	sh bench/supervise.sh $(BENCH_N)

.PHONY: bench-supervise
