#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what the arm64 part of the kernel matrix needs on a Debian 12 x86_64
# machine (as root): the cross compiler and the arm64 builds of the agent's
# libraries (`make ARCH=arm64`), qemu-system-aarch64, and mmdebstrap, which
# unpacks the guest's arm64 programs (tools/vmtest). tools/install-deps.sh runs it.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "install-arm64-deps: run as root (apt-get needs it)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	apt-get update -qq
fi
apt-get install -y -qq --no-install-recommends \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross \
	libbpf-dev:arm64 libelf-dev:arm64 libdw-dev:arm64 libcapstone-dev:arm64 \
	libcurl4-openssl-dev:arm64 libyaml-dev:arm64 libjson-c-dev:arm64 libprotobuf-c-dev:arm64 \
	zlib1g-dev:arm64 libzstd-dev:arm64 \
	qemu-system-arm mmdebstrap >/dev/null
echo "install-arm64-deps: done"
