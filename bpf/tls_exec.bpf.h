/* SPDX-License-Identifier: MIT */
/* execve of a traced process: the agent looks at the new image for TLS
 * libraries to attach to (agent/tls/tls_attach.c). Loaded with the TLS uprobes. */
#ifndef SONDE_TLS_EXEC_BPF_H
#define SONDE_TLS_EXEC_BPF_H

#include "maps.bpf.h"
#include "filter.bpf.h"

SEC("tracepoint/sched/sched_process_exec")
int sched_process_exec(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sonde_proc_exec ev = {};

	if (!task_is_traced(pid_tgid >> 32))
		return 0;
	ev.hdr.type = SONDE_EV_PROC_EXEC;
	ev.hdr.tgid = pid_tgid >> 32;
	ev.hdr.tid = (__u32)pid_tgid;
	ev.hdr.ts_ns = bpf_ktime_get_ns();
	/* Woken at once: attaching sooner means missing less of the start. */
	submit(&ev, sizeof(ev), BPF_RB_FORCE_WAKEUP);
	return 0;
}

#endif /* SONDE_TLS_EXEC_BPF_H */
