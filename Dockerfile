# carrier-lock in an image of its own: the static binary and nothing else.
#
#   ./build.sh && docker build -t carrier-lock .
#   docker run --rm -v ~/.kube/perf4:/kubeconfig:ro carrier-lock query --kubeconfig /kubeconfig
#
# A release binary instead (e.g. for arm64):
#   docker build --platform linux/arm64 \
#       --build-arg BIN=dist/carrier-lock-VERSION-linux-arm64 -t carrier-lock:arm64 .
#
# Building needs no network and no base image. The binary needs no libc, /etc, /dev or
# /proc; a server given by host name needs /etc/hosts or /etc/resolv.conf mounted.
FROM scratch
ARG BIN=carrier-lock
COPY ${BIN} /carrier-lock
# No /etc/passwd here: a numeric user (nobody) that can read a mounted kubeconfig.
USER 65534:65534
ENTRYPOINT ["/carrier-lock"]
