# The slow legs, kept out of `make check` and run by .ci/run:
#   make old-glibc   the library built here loads and redirects on Debian
#                    bullseye (glibc 2.31), and builds there
#                    (mk/oldglibc-leg.sh; root file system cached in
#                    build/roots/bullseye)
# Included by the top-level Makefile.

old-glibc: build/libhostshim.so build/tests/http_get
	sh mk/oldglibc-leg.sh

.PHONY: old-glibc
