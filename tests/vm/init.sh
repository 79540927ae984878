#!/bin/sh
# SPDX-License-Identifier: MIT
# PID 1 of the kernel-matrix VMs that tools/vmtest boots. Sets up what a normal
# system has mounted (tracefs and bpffs are left to sonde, which mounts them
# when missing), brings up loopback, runs the target's command from the
# repository copy in /repo, and writes its output and exit status to the second
# serial port, which tools/vmtest reads apart from the kernel's console. A
# machine with one serial port (arm64's virt) names it in VMTEST_OUT (the
# kernel passes unknown command-line settings to init as environment): the
# output follows a mark there, and only emergencies interrupt it. Then
# powers off; should that fail, init exiting panics the kernel, and panic=-1
# with qemu's -no-reboot ends the VM all the same.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root TMPDIR=/tmp
mount -t devtmpfs devtmpfs /dev
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t cgroup2 cgroup2 /sys/fs/cgroup
ip link set lo up

out=${VMTEST_OUT:-/dev/ttyS1}
if [ -n "${VMTEST_OUT:-}" ]; then
	echo 1 >/proc/sys/kernel/printk
	echo vmtest-output-begin >"$out"
fi
{
	echo "vmtest: kernel $(uname -r), $(uname -m), $(nproc) CPUs, up $(cut -d' ' -f1 /proc/uptime) s"
	cd /repo && sh -c "$(cat /vmtest/command)"
	echo "vmtest-exit-status: $?"
} >"$out" 2>&1
sync
poweroff -f
