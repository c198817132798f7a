# The slow legs, kept out of `make check` and run by .ci/run:
#   make old-glibc   the library built here loads and redirects on Debian
#                    bullseye (glibc 2.31), and builds there
#                    (mk/oldglibc-leg.sh; root file system cached in
#                    build/roots/bullseye)
# Included by the top-level Makefile.

old-glibc: build/libhostshim.so build/tests/http_get
	sh mk/oldglibc-leg.sh

.PHONY: old-glibc

# make images: the example's slim Dockerfile built with buildah on a local
# stand-in for node:24-slim, then a sign-in through the built image's server
# (mk/images.sh, tests/e2e/run.sh E2E_CASES=image).
images:
	sh mk/images.sh

.PHONY: images
