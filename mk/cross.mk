# Cross builds, run under user-mode emulation. Included by the Makefile.
#   make cross ARCH=aarch64
# builds, for ARCH:
#   build/ARCH/libhostshim.so        glibc: ARCH-linux-gnu-gcc, libinih-dev:ARCH
#   build/ARCH-musl/libhostshim.so   musl: ARCH-linux-musl-gcc (musl-dev:ARCH),
#                                    inih compiled from source as for make musl
# with the unit tests and the C clients of tests/clients/ for each, then runs
# the unit tests and the musl leg's checks (mk/musl-leg.sh: lookups of every
# shape, hostent calls, real redirects of blocking and non-blocking
# connects) under qemu-ARCH-static. .ci/install-image-deps installs it all.

ARCH          ?= aarch64
XGNU_CC       ?= $(ARCH)-linux-gnu-gcc
# libgcc's outline atomics (aarch64) call glibc's __getauxval: not on musl.
XMUSL_CC      ?= $(ARCH)-linux-musl-gcc $(if $(filter aarch64,$(ARCH)),-mno-outline-atomics)
XQEMU         ?= qemu-$(ARCH)-static -L /usr/$(ARCH)-linux-gnu
XG            := build/$(ARCH)
XM            := build/$(ARCH)-musl
X_CLIENTS     := gai ghbn gai_loop http_get
XLIBDL        := -Wl,--push-state,--no-as-needed -l:libdl.so.2 -Wl,--pop-state

$(XG)/libhostshim.so: $(SRCS) $(HDRS) shim/exports.map
	@mkdir -p $(@D)
	$(XGNU_CC) $(SHIM_CFLAGS) -O2 -g $(SHIM_LDFLAGS) -o $@ $(SRCS) -l:libinih.a $(XLIBDL)

# Under ASan and UBSan as on x86_64 (LeakSanitizer can't run under qemu).
$(XG)/tests/unit: tests/unit/unit.c $(UNIT_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(XGNU_CC) -std=gnu11 -O1 -g $(WARN) -fno-strict-aliasing \
	  -fsanitize=address,undefined -Ishim -o $@ \
	  tests/unit/unit.c $(UNIT_SRCS) -l:libinih.a

$(XG)/tests/slots_stress: tests/unit/slots_stress.c $(UNIT_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(XGNU_CC) -std=gnu11 -O1 -g $(WARN) -fno-strict-aliasing -pthread \
	  -fsanitize=address,undefined -DSLOT_BITS=9 -Ishim -o $@ \
	  tests/unit/slots_stress.c $(UNIT_SRCS) -l:libinih.a

$(XG)/tests/%: tests/clients/%.c tests/clients/client_net.h
	@mkdir -p $(@D)
	$(XGNU_CC) -std=gnu11 -O1 -g $(WARN) -pthread -o $@ $<

$(XM)/include/uthash.h: /usr/include/uthash.h
	@mkdir -p $(@D)
	cp $< $@

$(XM)/inih/ini.o: build/musl/inih/ini.c build/musl/inih/ini.h
	@mkdir -p $(@D)
	$(XMUSL_CC) -std=gnu11 -fPIC -fvisibility=hidden -U_FORTIFY_SOURCE -O2 -g -c -o $@ $<

$(XM)/libhostshim.so: $(SRCS) $(HDRS) shim/exports.map $(XM)/inih/ini.o $(XM)/include/uthash.h
	$(XMUSL_CC) $(MUSL_CFLAGS) -I$(XM)/include -Ibuild/musl/inih $(MUSL_LDFLAGS) \
	  -o $@ $(SRCS) $(XM)/inih/ini.o

$(XM)/tests/unit: tests/unit/unit.c $(UNIT_SRCS) $(HDRS) $(XM)/inih/ini.o $(XM)/include/uthash.h \
    mk/heap-bytes-stub.c
	@mkdir -p $(@D)
	$(XMUSL_CC) -std=gnu11 -O1 -g $(WARN) -fno-strict-aliasing -Ishim -I$(XM)/include \
	  -Ibuild/musl/inih -o $@ tests/unit/unit.c $(UNIT_SRCS) $(XM)/inih/ini.o mk/heap-bytes-stub.c

$(XM)/tests/%: tests/clients/%.c tests/clients/client_net.h mk/musl-compat.h
	@mkdir -p $(@D)
	$(XMUSL_CC) $(MUSL_CLIENT_CFLAGS) -pthread -o $@ $<

cross-build: $(XG)/libhostshim.so $(XG)/tests/unit $(XG)/tests/slots_stress $(addprefix $(XG)/tests/,$(X_CLIENTS)) \
             $(XM)/libhostshim.so $(XM)/tests/unit $(addprefix $(XM)/tests/,$(X_CLIENTS))

cross: cross-build
	@echo "== $(ARCH) glibc: unit tests under qemu (ASan, UBSan)"; ASAN_OPTIONS=detect_leaks=0 $(XQEMU) $(XG)/tests/unit
	@echo "== $(ARCH) glibc: slots read while assigned and reloaded, under qemu (ASan)"
	@if ASAN_OPTIONS=detect_leaks=0 timeout 30 $(XQEMU) $(XG)/tests/slots_stress 0 >/dev/null 2>&1; then \
	  ASAN_OPTIONS=detect_leaks=0 $(XQEMU) $(XG)/tests/slots_stress 5; \
	else echo "skipped: a thread does not start under $(XQEMU) on this machine"; fi
	@echo "== $(ARCH) musl: unit tests under qemu"; $(XQEMU) $(XM)/tests/unit
	@echo "== $(ARCH) glibc: C clients under qemu with the $(ARCH) glibc library"
	LEG_NAME="$(ARCH) glibc" LEG_LIB=$(CURDIR)/$(XG)/libhostshim.so LEG_BIN=$(CURDIR)/$(XG)/tests \
	  LEG_RUN="$(XQEMU)" sh mk/musl-leg.sh
	@echo "== $(ARCH) musl: C clients under qemu with the $(ARCH) musl library"
	LEG_NAME="$(ARCH) musl" LEG_LIB=$(CURDIR)/$(XM)/libhostshim.so LEG_BIN=$(CURDIR)/$(XM)/tests \
	  LEG_RUN="$(XQEMU)" sh mk/musl-leg.sh

.PHONY: cross cross-build
