# make docker: the example built and run by Docker itself (Debian's
# docker.io and docker-compose, a daemon of its own with its state under
# build/docker/), signed in through by Chromium, with the conditions a
# compose user meets (tests/docker/run.sh). Slow leg, run by .ci/run after
# the others; needs what .ci/install-image-deps installs. Included by the
# top-level Makefile.
#   make docker-stop   stops a daemon a killed run left behind
#   make tools-stage   the files of the tools image hostshim/tools
#                      (dist/tools.Dockerfile) in build/tools-stage/: make
#                      install of both libcs' builds, the static supervisor,
#                      and a static busybox for Kubernetes' init containers
#   make tools-image   that image, hostshim/tools:$(VERSION), built with the
#                      docker found in PATH (BuildKit: dist/tools.Dockerfile's
#                      own ignore file sends build/tools-stage/ only)

docker: build/libhostshim.so build/hostshim build/musl/libhostshim.so build/musl/hostshim-supervise
	bash tests/docker/run.sh

docker-stop:
	sh mk/dockerd.sh stop

BUSYBOX ?= /bin/busybox
tools-stage: build/libhostshim.so build/hostshim build/musl/libhostshim.so build/musl/hostshim-supervise
	rm -rf build/tools-stage
	$(MAKE) -s install DESTDIR=$(CURDIR)/build/tools-stage PREFIX=/usr/local
	install -m 755 build/musl/hostshim-supervise build/tools-stage/usr/local/lib/hostshim/hostshim-supervise
	@# Kubernetes' init container copies with it (the image has no shell):
	@# Debian's busybox-static, outside /usr/local so COPY --from leaves it.
	@if ! [ -x $(BUSYBOX) ] || readelf -l $(BUSYBOX) | grep -q 'INTERP'; then \
	  echo "tools-stage: $(BUSYBOX) is not a static busybox (apt-get install busybox-static)"; exit 1; fi
	install -D -m 755 $(BUSYBOX) build/tools-stage/bin/busybox

tools-image: tools-stage
	DOCKER_BUILDKIT=1 docker build -f dist/tools.Dockerfile -t hostshim/tools:$(VERSION) .

.PHONY: docker docker-stop tools-stage tools-image
