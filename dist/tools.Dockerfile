# image: hostshim/tools:0.2.0
# hostshim's installed files and nothing else, to copy into an image:
#
#   COPY --from=hostshim/tools:0.2.0 /usr/local/ /usr/local/
#
# /usr/local/bin/hostshim                         the launcher (a sh script)
# /usr/local/lib/hostshim/libhostshim.so          the library, glibc build
# /usr/local/lib/hostshim/musl/libhostshim.so     the library, musl build
# /usr/local/lib/hostshim/hostshim-supervise      the supervisor, static (musl)
#
# Each library needs its libc alone; the supervisor needs nothing. The
# launcher picks the musl build for a musl program by itself.
#
# Built from a checkout (context: the repository root; only build/tools-stage
# is sent, see tools.Dockerfile.dockerignore):
#   make tools-stage     (make install of the glibc and musl builds into
#                         build/tools-stage, the static supervisor, and
#                         /bin/busybox from Debian's busybox-static)
#   DOCKER_BUILDKIT=1 docker build -f dist/tools.Dockerfile -t hostshim/tools:0.2.0 .
# or both in one: make tools-image
# (make docker and make images do exactly this.)
FROM scratch
COPY build/tools-stage/usr/local/ /usr/local/
# For a Kubernetes init container, which copies /usr/local/ into a volume
# shared with the app's container (examples/kubernetes/): a static busybox
# (Debian's busybox-static), outside /usr/local, so that the COPY line above
# never brings it into an image.
#   command: ["/bin/busybox", "cp", "-a", "/usr/local/.", "/hostshim/"]
COPY build/tools-stage/bin/busybox /bin/busybox
