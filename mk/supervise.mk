# Supervised mode: build/hostshim-supervise, the seccomp supervisor that
# `hostshim --supervise` runs (shim/supervise/). It links the library's
# configuration, matching and logging code (not the hooks) and inih, so
# it needs libc alone at run time. Included by the top-level Makefile.
#   make build/musl/hostshim-supervise   the same, static with musl
#   make supervise-test   its tests (tests/supervise/run.py: root, a network
#                         namespace; Go clients need golang-go, the static
#                         client musl-gcc, the Node client node), with each
#                         of the two supervisors

# The library files the supervisor links: configuration, matching (which
# keeps each rule's target in targets.c), logging, and the `real` table.
SUP_SRCS := $(wildcard shim/supervise/*.c) shim/config.c shim/rules.c shim/log.c \
            shim/targets.c shim/real.c
SUP_HDRS := shim/supervise/supervise.h $(wildcard shim/*.h)

build/hostshim-supervise: $(SUP_SRCS) $(SUP_HDRS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(CFLAGS) $(WARN) -fno-strict-aliasing -U_FORTIFY_SOURCE \
	  $(VERSION_DEF) -Ishim -pthread -o $@ $(SUP_SRCS) $(INIH)

all: build/hostshim-supervise

# The same supervisor linked statically against musl: it runs in any image,
# including ones with no libc at all (distroless, scratch), as Go images
# often are. musl-gcc sees musl's headers only: the kernel's few headers it
# needs are copied in, like uthash for the musl library build.
SUP_KINC := build/musl/kernel-include
$(SUP_KINC)/linux/seccomp.h:
	@mkdir -p $(SUP_KINC)
	cp -r /usr/include/linux /usr/include/asm-generic $(SUP_KINC)/
	cp -r /usr/include/$$($(CC) -print-multiarch)/asm $(SUP_KINC)/

build/musl/hostshim-supervise: $(SUP_SRCS) $(SUP_HDRS) build/musl/inih/ini.o \
    $(MUSL_INC)/uthash.h $(SUP_KINC)/linux/seccomp.h
	$(MUSL_CC) -static -std=gnu11 -O2 -g $(WARN) -fno-strict-aliasing -Ishim \
	  -I$(MUSL_INC) -Ibuild/musl/inih -idirafter $(SUP_KINC) -pthread $(VERSION_DEF) \
	  -o $@ $(SUP_SRCS) build/musl/inih/ini.o

# Breaker 2's tests (tests/supervise/test_breaker2.py) less its open
# defects: a daemon left running by COMMAND loses its redirects
# (documented in docs/supervised.md, not fixed); a setuid program exec'd
# straight by a process that just changed user is not reported (it is not
# dumpable); and the library's exec hook (its items 7, 9, 10: /proc/self/fd
# and memfd execs, seccomp refused), which belongs to another branch.
BRK2_OPEN := daemonized_child_after_command_exits,setuid_exec_right_after_a_user_switch,$\
             exec_through_proc_self_fd,fexecve_of_a_cloexec_memfd,exec_hook_where_seccomp_is_refused

supervise-test: build/hostshim-supervise build/hostshim build/musl/hostshim-supervise build/libhostshim.so
	python3 tests/supervise/run.py
	python3 tests/supervise/test_exec.py
	HOSTSHIM_SUPERVISOR=build/musl/hostshim-supervise python3 tests/supervise/run.py
	python3 tests/supervise/test_breaker2.py --skip=$(BRK2_OPEN)
	HOSTSHIM_SUPERVISOR=build/musl/hostshim-supervise python3 tests/supervise/test_breaker2.py --skip=$(BRK2_OPEN)

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
