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
	curl wrk nghttp2-client openssl util-linux nginx redis-server python3 jq procps iproute2 \
	qemu-system-x86 busybox-static cpio \
	protobuf-c-compiler libprotobuf-c-dev libcurl4-openssl-dev libyaml-dev libjson-c-dev \
	prometheus golang-1.19-go golang-go golang-google-grpc-dev python3-grpcio \
	libcapstone-dev libdw-dev \
	postgresql mariadb-server python3-psycopg2 python3-pymysql python3-redis \
	golang-github-lib-pq-dev golang-github-go-sql-driver-mysql-dev \
	golang-github-jackc-pgx-v4-dev >/dev/null
# The test OTLP receiver runs on Node.js (these machines have Node 20; Debian's
# own nodejs is the fallback) with pinned npm packages; the Node gRPC peer of the
# HTTP/2 tests uses its @grpc/grpc-js.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
bash "$(dirname "$0")/otlp-receiver/install.sh"
# The Node.js PostgreSQL client of the database tests (pg).
bash "$(dirname "$0")/../tests/integration/peers/pg/install.sh"
# kubernetes-models: offline validation of k8s/ against the Kubernetes schemas.
bash "$(dirname "$0")/k8s-validate/install.sh"
# The kernel matrix's arm64 targets: a cross-built agent under qemu-system-aarch64.
if [ "$(uname -m)" = x86_64 ]; then
	bash "$(dirname "$0")/install-arm64-deps.sh"
fi
echo "install-deps: done"
