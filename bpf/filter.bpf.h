/* SPDX-License-Identifier: MIT */
/* Which processes are traced: decided first, before any other work. */
#ifndef SONDE_FILTER_BPF_H
#define SONDE_FILTER_BPF_H

#include "maps.bpf.h"

static __always_inline bool comm_matches(void)
{
	char comm[SONDE_COMM_LEN];

	bpf_get_current_comm(comm, sizeof(comm));
#pragma unroll
	for (int i = 0; i < SONDE_COMM_LEN; i++) {
		if (comm[i] != targ_comm[i])
			return false;
		if (comm[i] == '\0')
			return true;
	}
	return true;
}

/* True when the current task is to be traced. With several filters set, any
 * match is enough ("trace these"). */
static __always_inline bool task_is_traced(__u32 tgid)
{
	if (tgid == targ_self_tgid)
		return false;
	if (!targ_filter_pid && !targ_filter_cgroup && !targ_filter_comm)
		return true;
	if (targ_filter_pid && bpf_map_lookup_elem(&filter_pids, &tgid))
		return true;
	if (targ_filter_cgroup) {
		__u64 cg = bpf_get_current_cgroup_id();

		if (bpf_map_lookup_elem(&filter_cgroups, &cg))
			return true;
	}
	if (targ_filter_comm && comm_matches())
		return true;
	return false;
}

#endif /* SONDE_FILTER_BPF_H */
