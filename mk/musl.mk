# The musl build: build/musl/libhostshim.so, for programs linked against
# musl (Alpine images), with musl-gcc (Debian: musl-tools). Included by the
# top-level Makefile.
#   make musl        the library; inih compiled from Debian's source package
#                    for musl (mk/inih-source.sh), since Debian's libinih.a
#                    is compiled against glibc
#   make musl-test   the library, the C test clients built against musl into
#                    build/musl/tests/, and the musl leg (mk/musl-leg.sh)

MUSL_CC      ?= musl-gcc
MUSL_SRCS    := $(wildcard shim/*.c)
MUSL_CFLAGS  := -std=gnu11 -fPIC -fvisibility=hidden -fno-strict-aliasing -U_FORTIFY_SOURCE \
                -O2 -g -Wall -Wextra -Werror $(VERSION_DEF)
MUSL_LDFLAGS := -shared -Wl,--version-script=shim/exports.map -Wl,-z,defs \
                -Wl,-z,now -Wl,-z,relro
# musl-gcc searches musl's headers only: uthash (header-only) is copied in.
MUSL_INC     := build/musl/include
MUSL_CLIENTS := $(patsubst tests/clients/%.c,build/musl/tests/%,\
                  $(filter-out %_lib.c,$(wildcard tests/clients/*.c)))
MUSL_CLIENT_LIBS := $(patsubst tests/clients/%.c,build/musl/tests/%.so,\
                  $(wildcard tests/clients/*_lib.c))

build/musl/inih/ini.c build/musl/inih/ini.h:
	sh mk/inih-source.sh build/musl/inih

build/musl/inih/ini.o: build/musl/inih/ini.c build/musl/inih/ini.h
	$(MUSL_CC) -std=gnu11 -fPIC -fvisibility=hidden -U_FORTIFY_SOURCE -O2 -g \
	  -c -o $@ $<

$(MUSL_INC)/uthash.h: /usr/include/uthash.h
	@mkdir -p $(@D)
	cp $< $@

build/musl/libhostshim.so: $(MUSL_SRCS) $(wildcard shim/*.h) shim/exports.map \
    build/musl/inih/ini.o $(MUSL_INC)/uthash.h
	$(MUSL_CC) $(MUSL_CFLAGS) -I$(MUSL_INC) -Ibuild/musl/inih $(MUSL_LDFLAGS) \
	  -o $@ $(MUSL_SRCS) build/musl/inih/ini.o

# The clients use strerrorname_np and NETDB_INTERNAL (glibc only):
# mk/musl-compat.h supplies them.
MUSL_CLIENT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
                      -include mk/musl-compat.h

build/musl/tests/%: tests/clients/%.c tests/clients/client_net.h mk/musl-compat.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CLIENT_CFLAGS) -pthread -o $@ $<

build/musl/tests/%_lib.so: tests/clients/%_lib.c tests/clients/client_net.h mk/musl-compat.h
	@mkdir -p $(@D)
	$(MUSL_CC) $(MUSL_CLIENT_CFLAGS) -shared -fPIC -o $@ $<

musl: build/musl/libhostshim.so

# -k: a client that does not build for musl is reported, the rest still run.
musl-test: build/musl/libhostshim.so
	-$(MAKE) -k $(MUSL_CLIENTS) $(MUSL_CLIENT_LIBS)
	sh mk/musl-leg.sh

.PHONY: musl musl-test
