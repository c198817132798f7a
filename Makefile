# hostshim: make | make test | make check | make demo | make install
#           make musl | make fuzz | make tsan | make bench
#           make old-glibc | make cross ARCH=aarch64 | make images
#
# The library links inih statically and nothing else, so a container only
# needs libc (on glibc: libc.so.6 and libdl.so.2, both part of glibc, see
# LIBDL below). No _FORTIFY_SOURCE: its __*_chk symbols do not exist in musl.
# -fno-strict-aliasing: the socket API reads one sockaddr type through
# another, and inlined code must see those stores.

CC       ?= cc
# The release version, in one place: the file VERSION. Stamped into the
# launcher and compiled into the library and the supervisor. (A build
# context without the file, as the examples' Dockerfiles copy only
# Makefile and shim/, says "unknown".)
VERSION  := $(or $(shell cat VERSION 2>/dev/null),unknown)
VERSION_DEF := -DHOSTSHIM_VERSION='"$(VERSION)"'
PREFIX   ?= /usr/local
DESTDIR  ?=
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror
SHIM_CFLAGS  := -std=gnu11 -fPIC -fvisibility=hidden -fno-strict-aliasing \
                -U_FORTIFY_SOURCE $(WARN) $(VERSION_DEF)
# No -z now: every program pays for binding each libc function the library
# calls, networking or not (/bin/true: +50k instructions, a third more); lazily
# only those a program reaches are bound.
SHIM_LDFLAGS := -shared -Wl,--version-script=shim/exports.map -Wl,-z,defs \
                -Wl,-z,relro
# inih's archive, not its shared library: the only run-time need is libc.
INIH     ?= -l:libinih.a
# dlsym: shim/real.c binds the oldest version (GLIBC_2.2.5 on x86_64), which
# glibc before 2.34 defines in libdl.so.2 and glibc 2.34+ in libc.so.6 (its
# libdl.so.2 is then an empty stub). Naming libdl.so.2 as needed makes the
# loader find dlsym on both; with --as-needed the linker would drop it here.
# glibc only: musl has dlsym in libc and no libdl.so.2.
IS_GLIBC := $(shell $(CC) -dM -E -include features.h - </dev/null 2>/dev/null | grep -c '__GLIBC__ ')
ifneq ($(IS_GLIBC),0)
LIBDL    ?= -Wl,--push-state,--no-as-needed -l:libdl.so.2 -Wl,--pop-state
endif

SRCS     := $(wildcard shim/*.c)
HDRS     := $(wildcard shim/*.h)
CLIENTS  := $(patsubst tests/clients/%.c,build/tests/%,\
              $(filter-out %_lib.c,$(wildcard tests/clients/*.c)))
CLIENT_LIBS := $(patsubst tests/clients/%.c,build/tests/%.so,\
              $(wildcard tests/clients/*_lib.c))
ASAN_LIB := $(shell $(CC) -print-file-name=libasan.so)

all: build/libhostshim.so build/hostshim $(CLIENTS) $(CLIENT_LIBS)

build/libhostshim.so: $(SRCS) $(HDRS) shim/exports.map Makefile $(wildcard VERSION)
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) $(CFLAGS) $(SHIM_LDFLAGS) -o $@ $(SRCS) $(INIH) $(LIBDL)

# The same library with AddressSanitizer and UBSan, for `make check`.
build/asan/libhostshim.so: $(SRCS) $(HDRS) shim/exports.map
	@mkdir -p $(@D)
	$(CC) $(SHIM_CFLAGS) -O1 -g -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	  -shared -Wl,--version-script=shim/exports.map -o $@ $(SRCS) $(INIH)

# The launcher with its version= line stamped from VERSION.
build/hostshim: shim/hostshim $(wildcard VERSION)
	@mkdir -p $(@D)
	sed 's|^version=$$|version=$(VERSION)|' $< >$@.tmp
	grep -qx 'version=$(VERSION)' $@.tmp
	chmod 755 $@.tmp && mv -f $@.tmp $@

build/tests/%: tests/clients/%.c tests/clients/client_net.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g $(WARN) -pthread -o $@ $<

build/tests/%_lib.so: tests/clients/%_lib.c tests/clients/client_net.h
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g $(WARN) -shared -fPIC -o $@ $<

# Unit tests link the configuration and matching code directly.
UNIT_SRCS := shim/config.c shim/rules.c shim/log.c shim/slots.c shim/targets.c \
             shim/real.c shim/current.c
build/tests/unit: tests/unit/unit.c $(UNIT_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g $(WARN) -fno-strict-aliasing \
	  -fsanitize=address,undefined \
	  -Ishim -o $@ tests/unit/unit.c $(UNIT_SRCS) $(INIH)

# connect's reads of the slots against lookups and reloads, under ASan.
build/tests/slots_stress: tests/unit/slots_stress.c $(UNIT_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -g $(WARN) -fno-strict-aliasing -pthread \
	  -fsanitize=address,undefined -DSLOT_BITS=9 \
	  -Ishim -o $@ tests/unit/slots_stress.c $(UNIT_SRCS) $(INIH)

test: all build/tests/unit build/tests/slots_stress
	build/tests/unit
	build/tests/slots_stress 2
	python3 tests/integration.py
	sh tests/launcher_test.sh

# Everything CI runs: the musl build and its tests (first, so that the
# launcher's tests can check its choice between the two builds); the tests;
# the integration tests again under ASan/UBSan and (their C clients) under
# valgrind; the hostile-input tests, plain and under ASan; ThreadSanitizer;
# the end-to-end scenario.
check: musl-test test build/asan/libhostshim.so
	HOSTSHIM_TEST_LIB=build/asan/libhostshim.so \
	HOSTSHIM_TEST_PRELOAD_PREFIX=$(ASAN_LIB) python3 tests/integration.py
	HOSTSHIM_TEST_VALGRIND=1 python3 tests/integration.py
	sh tests/hostile/run.sh
	HOSTSHIM_TEST_LIB=build/asan/libhostshim.so \
	HOSTSHIM_TEST_PRELOAD_PREFIX=$(ASAN_LIB) sh tests/hostile/run.sh
	$(MAKE) tsan
	bash tests/e2e/run.sh

demo: build/libhostshim.so
	sh examples/demo.sh

# The fenced blocks of README.md, CONTRIBUTING.md, docs/ and examples/:
# ini through --check, compose through docker-compose config, shell through
# sh -n, Dockerfiles' syntax (tests/docs/blocks.py says how).
docs-check: build/libhostshim.so build/hostshim
	python3 tests/docs/blocks.py --expect-fail tests/docs/wrong.md
	python3 tests/docs/blocks.py
check: docs-check

install: build/libhostshim.so build/hostshim
	install -d $(DESTDIR)$(PREFIX)/lib/hostshim $(DESTDIR)$(PREFIX)/bin
	install -m 644 build/libhostshim.so $(DESTDIR)$(PREFIX)/lib/hostshim/
	sed 's|^installed_prefix=$$|installed_prefix=$(PREFIX)|' build/hostshim >$(DESTDIR)$(PREFIX)/bin/hostshim.tmp
	grep -qx 'installed_prefix=$(PREFIX)' $(DESTDIR)$(PREFIX)/bin/hostshim.tmp
	chmod 755 $(DESTDIR)$(PREFIX)/bin/hostshim.tmp
	mv -f $(DESTDIR)$(PREFIX)/bin/hostshim.tmp $(DESTDIR)$(PREFIX)/bin/hostshim
	if [ -f build/musl/libhostshim.so ]; then \
	  install -d $(DESTDIR)$(PREFIX)/lib/hostshim/musl && \
	  install -m 644 build/musl/libhostshim.so $(DESTDIR)$(PREFIX)/lib/hostshim/musl/; fi

clean:
	rm -rf build

# Benchmarks, fuzzing and the musl build live in makefiles of their own.
-include bench/bench.mk tests/fuzz/fuzz.mk mk/musl.mk mk/supervise.mk mk/images.mk mk/cross.mk
# Release archives and npm packages (after cross.mk: they use its builds).
-include mk/dist.mk mk/npm.mk mk/docker.mk

.PHONY: all test check demo docs-check install clean
