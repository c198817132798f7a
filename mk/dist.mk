# Release archives. Included by the Makefile.
#   make dist        build/dist/hostshim-VERSION-linux-ARCH-LIBC.tar.gz for
#                    x86_64 and aarch64, gnu and musl, and SHA256SUMS
#   make dist-test   each archive unpacked into a clean root and used there
#                    (mk/dist-test.sh)
# Each archive holds hostshim-VERSION/ with bin/hostshim, lib/hostshim/
# libhostshim.so (built for that libc and architecture) and
# lib/hostshim/hostshim-supervise (static musl for that architecture, so
# the same one in both archives of an architecture), LICENSE,
# THIRD-PARTY-NOTICES, README.md and shim.ini. The toolchains are those of
# make musl and make cross ARCH=aarch64 (.ci/install-deps and
# .ci/install-image-deps install them).

DIST       := build/dist
DIST_NAME  := hostshim-$(VERSION)
DIST_FLAVOURS := x86_64-gnu x86_64-musl aarch64-gnu aarch64-musl
DIST_TARS  := $(foreach f,$(DIST_FLAVOURS),$(DIST)/$(DIST_NAME)-linux-$(f).tar.gz)
DIST_DOCS  := LICENSE THIRD-PARTY-NOTICES README.md shim.ini

# library, supervisor and strip program of each flavour
dist_lib_x86_64-gnu    := build/libhostshim.so
dist_lib_x86_64-musl   := build/musl/libhostshim.so
dist_lib_aarch64-gnu   := build/aarch64/libhostshim.so
dist_lib_aarch64-musl  := build/aarch64-musl/libhostshim.so
dist_sup_x86_64        := build/musl/hostshim-supervise
dist_sup_aarch64       := build/aarch64-musl/hostshim-supervise
dist_strip_x86_64      := strip
dist_strip_aarch64     := aarch64-linux-gnu-strip

# The static musl supervisor for aarch64, as build/musl/hostshim-supervise
# is made for x86_64 (mk/supervise.mk); the kernel headers are arm64's.
DIST_XKINC := build/aarch64-musl/kernel-include
$(DIST_XKINC)/linux/seccomp.h:
	@mkdir -p $(DIST_XKINC)
	cp -r /usr/include/linux /usr/include/asm-generic $(DIST_XKINC)/
	cp -r /usr/aarch64-linux-gnu/include/asm $(DIST_XKINC)/

build/aarch64-musl/hostshim-supervise: $(SUP_SRCS) $(SUP_HDRS) build/aarch64-musl/inih/ini.o \
    build/aarch64-musl/include/uthash.h $(DIST_XKINC)/linux/seccomp.h
	aarch64-linux-musl-gcc -mno-outline-atomics -static -std=gnu11 -O2 -g $(WARN) \
	  -fno-strict-aliasing -Ishim -Ibuild/aarch64-musl/include -Ibuild/musl/inih \
	  -idirafter $(DIST_XKINC) -pthread $(VERSION_DEF) \
	  -o $@ $(SUP_SRCS) build/aarch64-musl/inih/ini.o

# The archive's mtime: the last commit's time (reproducible for a commit).
DIST_EPOCH := $(or $(shell git log -1 --format=%ct 2>/dev/null),0)

# $(1): flavour, $(2): architecture
define dist_rule
$(DIST)/$(DIST_NAME)-linux-$(1).tar.gz: build/hostshim $(dist_lib_$(1)) $(dist_sup_$(2)) \
    $(DIST_DOCS) VERSION mk/dist.sh
	sh mk/dist.sh $$@ $(DIST_NAME) $(DIST_EPOCH) $(dist_strip_$(2)) \
	  build/hostshim $(dist_lib_$(1)) $(dist_sup_$(2)) $(DIST_DOCS)
endef
$(foreach f,$(DIST_FLAVOURS),$(eval $(call dist_rule,$(f),$(firstword $(subst -, ,$(f))))))

$(DIST)/SHA256SUMS: $(DIST_TARS)
	cd $(DIST) && sha256sum $(notdir $(DIST_TARS)) >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS

dist: $(DIST)/SHA256SUMS
	@cd $(DIST) && ls -l $(notdir $(DIST_TARS)) SHA256SUMS

dist-test: dist build/tests/http_get build/musl/tests/http_get \
    build/aarch64/tests/http_get build/aarch64-musl/tests/http_get
	sh mk/dist-test.sh $(VERSION)

.PHONY: dist dist-test
