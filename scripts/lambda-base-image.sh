#!/usr/bin/env bash
# lambda-base-image.sh — builds, without any container registry, the image `sam local invoke`
# starts a provided.al2023 function from: public.ecr.aws/lambda/provided:al2023-<arch>.
#
# Usage: scripts/lambda-base-image.sh                 prints the image name; builds it when missing
#        scripts/lambda-base-image.sh --check-docker  only checks that a Docker engine answers
#
# SAM CLI (samcli/local/docker/lambda_image.py) derives its invoke image from that base:
#     FROM public.ecr.aws/lambda/provided:al2023-x86_64
#     ADD aws-lambda-rie-x86_64 /var/rapid/
#     RUN mv /var/rapid/aws-lambda-rie-x86_64 /var/rapid/aws-lambda-rie && chmod +x /var/rapid/aws-lambda-rie
# tags it …/provided:al2023-rapid-x86_64, and runs it with /var/rapid/aws-lambda-rie (the
# runtime interface emulator from its own PyPI package) as entrypoint and the function's CodeUri
# mounted at /var/task, where the emulator finds `bootstrap`. With --skip-pull-image it never asks
# a registry, so the base is all that is missing. It needs a shell with mv and chmod, the C
# library the functions are linked against, and Lambda's layout (/var/task, /var/runtime, /opt).
#
# Built here: a minimal root filesystem of the host's own distribution and release
# (`debootstrap --variant=minbase`: the release binaries are built against the host's glibc, so
# they run on it) with the CA bundle (ca-certificates, as Lambda's images have one), trimmed (no apt
# lists or caches, docs, man pages, locales), then `docker import`ed with Lambda's environment
# variables, WORKDIR /var/task and the emulator's path as ENTRYPOINT. It is not Amazon Linux (no
# dnf, the bundle at Debian's /etc/ssl/certs); the functions need neither.
#
# Cached: the image carries a label with the SHA-256 of this recipe (this file, distribution,
# release, architecture, mirror); when the image under that name has it, nothing is done (well
# under a second). A rebuild also removes the previous base and SAM's derived
# …:al2023-rapid-<arch> image, which SAM makes again from the new base on its next invoke. The first build takes a minute or two.
#
# Needs root (debootstrap), debootstrap (scripts/install-deps.sh installs it) and a running Docker
# engine. Environment: WORK_DIR (default <checkout>/.work; the root filesystem is assembled in
# WORK_DIR/lambda-base and removed after the import), LAMBDA_BASE_MIRROR (Debian/Ubuntu mirror;
# default deb.debian.org or archive.ubuntu.com / ports.ubuntu.com).
set -euo pipefail

PROG=lambda-base-image.sh
die() { echo "$PROG: error: $*" >&2; exit 1; }

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
WORK_DIR=${WORK_DIR:-$(dirname -- "$HERE")/.work}
LABEL=ocp-summary.lambda-base.recipe

case $(uname -m) in
    x86_64) arch=x86_64 debarch=amd64 ;;
    aarch64 | arm64) arch=arm64 debarch=arm64 ;;
    *) die "unsupported host architecture $(uname -m) (Lambda has x86_64 and arm64)" ;;
esac
IMAGE=public.ecr.aws/lambda/provided:al2023-$arch
RAPID_IMAGE=public.ecr.aws/lambda/provided:al2023-rapid-$arch

command -v docker >/dev/null 2>&1 \
    || die "the docker command is missing: sam local invoke needs a Docker engine (Debian: apt-get install docker.io, then start it)"
if ! err=$(docker version --format '{{.Server.Version}}' 2>&1 >/dev/null); then
    die "no Docker engine is reachable (docker version: ${err//$'\n'/ }); sam local invoke needs one running (Debian: apt-get install docker.io; systemctl start docker)"
fi
[ "${1:-}" != --check-docker ] || exit 0

. /etc/os-release
distro=${ID:-}
suite=${VERSION_CODENAME:-}
case $distro in
    debian) mirror=${LAMBDA_BASE_MIRROR:-http://deb.debian.org/debian} ;;
    ubuntu)
        if [ "$debarch" = amd64 ]; then default=http://archive.ubuntu.com/ubuntu
        else default=http://ports.ubuntu.com/ubuntu-ports; fi
        mirror=${LAMBDA_BASE_MIRROR:-$default} ;;
    *) die "the Lambda base image is built with debootstrap from Debian or Ubuntu; this host is ${PRETTY_NAME:-unknown}" ;;
esac
[ -n "$suite" ] || die "no VERSION_CODENAME in /etc/os-release"

recipe=$({ cat -- "${BASH_SOURCE[0]}"; echo "$distro $suite $debarch $mirror"; } | sha256sum | cut -d' ' -f1)
if [ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$IMAGE" 2>/dev/null)" = "$recipe" ]; then
    echo "$IMAGE"
    exit 0
fi

[ "$(id -u)" -eq 0 ] || die "building $IMAGE needs root (debootstrap); run as root once"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing; run scripts/install-deps.sh"

build=$WORK_DIR/lambda-base
rootfs=$build/rootfs
# Never delete through a mount debootstrap may have left behind (an interrupted run).
unmount_all() {
    local m
    for m in $(findmnt -rn -o TARGET | grep -F "$rootfs/" | sort -r); do umount -l "$m" || true; done
}
cleanup() { unmount_all; rm -rf -- "$rootfs"; }
trap cleanup EXIT
cleanup
mkdir -p "$build"
echo "$PROG: building $IMAGE ($distro $suite $debarch, debootstrap from $mirror; a minute or two)" >&2
if ! debootstrap --variant=minbase --include=ca-certificates --arch="$debarch" "$suite" "$rootfs" "$mirror" >"$build/debootstrap.log" 2>&1; then
    tail -n 20 "$build/debootstrap.log" >&2
    die "debootstrap failed (log: $build/debootstrap.log)"
fi
unmount_all
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale
mkdir -p "$rootfs"/var/task "$rootfs"/var/runtime "$rootfs"/var/rapid "$rootfs"/opt
old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change "LABEL $LABEL=$recipe" \
    --change 'ENV LANG=C.UTF-8 TZ=:/etc/localtime LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime' \
    --change 'ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin' \
    --change 'ENV LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib' \
    --change 'WORKDIR /var/task' \
    --change 'ENTRYPOINT ["/var/rapid/aws-lambda-rie"]' \
    - "$IMAGE" >/dev/null || die "docker import of $IMAGE failed"
docker image rm "$RAPID_IMAGE" >/dev/null 2>&1 || true
if [ -n "$old_id" ]; then docker image rm "$old_id" >/dev/null 2>&1 || true; fi   # the previous base
echo "$IMAGE"
