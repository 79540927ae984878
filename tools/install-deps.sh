#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building and testing sonde needs on Debian 12 (as root).
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (apt-get needs it)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	make gcc clang clang-format llvm bpftool libbpf-dev libelf-dev zlib1g-dev libzstd-dev \
	libcmocka-dev libclang-rt-14-dev pkg-config git ca-certificates \
	curl wrk nginx redis-server python3 jq procps iproute2 \
	qemu-system-x86 busybox-static cpio >/dev/null
echo "install-deps: done"
