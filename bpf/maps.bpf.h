/* SPDX-License-Identifier: MIT */
/* Maps and load-time settings shared by every hook family. */
#ifndef SONDE_MAPS_BPF_H
#define SONDE_MAPS_BPF_H

#include "sonde_event.h"

/* Settings written by the agent into .rodata before load. */
const volatile __u32 targ_self_tgid = 0; /* the agent itself: never traced */
const volatile __u32 targ_capture_bytes = SONDE_DEFAULT_CAPTURE;
const volatile __u32 targ_wakeup_bytes = 512 * 1024; /* wake the agent past this backlog */
const volatile bool targ_filter_pid = false;	     /* follow only tgids in filter_pids */
const volatile bool targ_filter_cgroup = false;	     /* follow only cgroup ids in filter_cgroups */
const volatile bool targ_filter_comm = false;	     /* follow only threads named targ_comm */
const volatile bool targ_follow_children = false;    /* add forked children of followed tgids */
const volatile char targ_comm[SONDE_COMM_LEN] = {};
/* Logs (bpf/logs.bpf.h): writes to fd 1 and 2 become SONDE_EV_LOG events. */
const volatile bool targ_logs = false;
const volatile bool targ_logs_comm = false; /* only processes named in log_comms */
const volatile __u32 targ_log_rate = 0;	    /* bytes a process may log per second */
const volatile __u32 targ_log_burst = 0;    /* ... at once */
const volatile __u32 targ_log_events = 4;   /* events of SONDE_MAX_CAPTURE per write */

/* Connection state per (tgid, fd). LRU: a lost entry is rediscovered lazily
 * with a new generation, never attributed to the wrong connection. Also caches
 * "not a TCP socket" so other fds cost one lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sonde_conn_key);
	__type(value, struct sonde_conn_state);
} conns SEC(".maps");

/* 2 MiB: the producer writes each record into lines last touched one lap of
 * the ring ago. At 8 MiB those were out of cache and bpf_ringbuf_output cost
 * ~450 ns more per request (`make bench`, per-program run time); 2 MiB still
 * holds ~200 ms of events at 20,000 req/s, and the agent is woken at 512 KiB. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 2 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} filter_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, __u8);
} filter_cgroups SEC(".maps");

/* Logs: the process names whose output is collected (with targ_logs_comm),
 * and each process's budget of bytes (a token bucket). */
#define LOG_MAX_COMMS 64

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOG_MAX_COMMS);
	__type(key, char[SONDE_COMM_LEN]);
	__type(value, __u8);
} log_comms SEC(".maps");

struct log_budget {
	__u64 tokens;  /* bytes it may still log */
	__u64 last_ns; /* when they were last refilled */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct log_budget);
} log_budgets SEC(".maps");

/* Staging area for one data event: the payload is copied here first because
 * ring buffer reservations need a constant size; twice the capture cap so the
 * verifier can prove every iovec copy stays inside. */
/* Where the copy of an HTTP/2 syscall stands (capture.bpf.h). */
struct h2_walk {
	__u64 seg, seg_left; /* the buffer being copied: user address, bytes left */
	__u64 done;	     /* bytes of the syscall already sent in events */
	__u64 fill;	     /* bytes waiting in the payload */
	__u64 ret, pos;	     /* the syscall's byte count and stream position */
	__u64 uiov, iovcnt;  /* its iovec array, if any */
	__u32 iov_i, events;
	__u32 max_events; /* events it may send (at most H2_MAX_EVENTS) */
	__u32 pad;
};

struct data_scratch {
	struct sonde_data ev;
	__u8 payload[2 * SONDE_MAX_CAPTURE];
	struct iovec iov; /* HTTP/2 capture: the iovec being copied */
	struct h2_walk walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct data_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SONDE_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Per-CPU source of connection generations. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_seq SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &which);

	if (v)
		*v += 1;
}

/* Unique across CPUs: a per-CPU sequence with the CPU number in the low bits. */
static __always_inline __u64 next_gen(void)
{
	__u32 zero = 0;
	__u64 *seq = bpf_map_lookup_elem(&gen_seq, &zero);

	if (!seq)
		return 0;
	*seq += 1;
	return (*seq << 12) | (bpf_get_smp_processor_id() & 0xfff);
}

/* Asks for a wake-up only when enough is pending, so a busy server costs one
 * agent wake-up per batch instead of one per event (the agent also polls with
 * a timeout, which bounds latency when traffic is light). A forced wake-up is
 * an interrupt taken inside the traced process's syscall: with the threshold at
 * 64 KiB, BPF run time per request rose by ~750 ns (`make bench`). Each agent
 * wake-up also refills its caches (~140 µs here): at 512 KiB rather than 256,
 * its main thread took ~10% less per request at 10,000 req/s. */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Copies an event into the ring buffer. Only losses are counted here: the
 * agent counts what arrives, and a counter per event would cost a lookup. */
static __always_inline void submit(void *ev, __u64 size, __u64 flags)
{
	if (bpf_ringbuf_output(&events, ev, size, flags))
		count(SONDE_CNT_RB_FULL);
}

#endif /* SONDE_MAPS_BPF_H */
