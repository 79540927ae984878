/* SPDX-License-Identifier: MIT */
/* What sonde reads about a Node.js process before opening its inspector, and
 * the sentinel paths its injected script passes to access(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/types.h>
#include <string.h>
#include <sys/socket.h>

#include "nodejs/node_proc.h"
#include "sonde_event.h"

/* The parser the BPF side runs (plain C), built here as it is there
 * (glibc's sys/cdefs.h defines __always_inline as the BPF headers do). */
#include "../../bpf/node_sentinel.h"

static void test_tcp_lines(void **state)
{
	/* /proc/PID/net/tcp and tcp6 on this machine, with Node.js's inspector */
	static const char head[] = "  sl  local_address rem_address   st tx_queue rx_queue tr "
				   "tm->when retrnsmt   uid  timeout inode\n";
	static const char insp[] = "   2: 0100007F:240D 00000000:0000 0A 00000000:00000000 "
				   "00:00000000 00000000     0        0 114542 1 00000000317ac2f9 "
				   "100 0 0 10 0\n";
	static const char any[] = "   5: 00000000:07E8 00000000:0000 0A 00000000:00000000 "
				  "00:00000000 00000000     0        0 1318 1 00000000548fc55c 100 "
				  "0 0 10 0\n";
	static const char estab[] = "  12: 0100007F:D2A6 0100007F:1F91 01 00000000:00000000 "
				    "00:00000000 00000000     0        0 173022 1 0000000000000000 "
				    "20 4 30 10 -1\n";
	static const char v6[] = "   0: 00000000000000000000000001000000:2412 "
				 "00000000000000000000000000000000:0000 0A 00000000:00000000 "
				 "00:00000000 00000000  1000        0 99001 1 0000000000000000 100 "
				 "0 0 10 0\n";
	static const uint8_t loop6[16] = { [15] = 1 };
	struct tcp_listener l;

	(void)state;
	assert_int_equal(node_tcp_line(head, false, &l), 0);
	assert_int_equal(node_tcp_line(insp, false, &l), 1);
	assert_int_equal(l.family, AF_INET);
	assert_int_equal(l.port, 9229);
	assert_memory_equal(l.addr, "\x7f\x00\x00\x01", 4);
	assert_int_equal(l.inode, 114542);
	assert_int_equal(node_tcp_line(any, false, &l), 1);
	assert_int_equal(l.port, 2024);
	assert_memory_equal(l.addr, "\0\0\0\0", 4);
	assert_int_equal(l.inode, 1318);
	assert_int_equal(node_tcp_line(estab, false, &l), 0);
	assert_int_equal(node_tcp_line(v6, true, &l), 1);
	assert_int_equal(l.family, AF_INET6);
	assert_int_equal(l.port, 9234);
	assert_memory_equal(l.addr, loop6, 16);
	assert_int_equal(l.inode, 99001);
	/* malformed */
	assert_int_equal(node_tcp_line("garbage\n", false, &l), -EINVAL);
	assert_int_equal(node_tcp_line("   2: 0100007F:240D\n", false, &l), -EINVAL);
	assert_int_equal(node_tcp_line("   2: 0100007G:240D 00000000:0000 0A\n", false, &l),
			 -EINVAL);
	assert_int_equal(node_tcp_line(insp, true, &l), -EINVAL); /* v4 line read as v6 */
}

static struct node_inspect_opts args(const char *a, size_t len, char sep)
{
	struct node_inspect_opts o = { false, NODE_INSPECT_DEFAULT_PORT };

	node_inspect_args(a, len, sep, &o);
	return o;
}

#define CMDLINE(s) args(s, sizeof(s), '\0') /* with the last NUL, as /proc gives it */

static void test_inspect_args(void **state)
{
	struct node_inspect_opts o;

	(void)state;
	o = CMDLINE("node\0server.js\0--port\0"
		    "8080");
	assert_false(o.active);
	assert_int_equal(o.port, 9229);
	o = CMDLINE("node\0--inspect\0server.js");
	assert_true(o.active);
	assert_int_equal(o.port, 9229);
	o = CMDLINE("node\0--inspect=0.0.0.0:9230\0server.js");
	assert_true(o.active);
	assert_int_equal(o.port, 9230);
	o = CMDLINE("node\0--inspect-brk=9231\0server.js");
	assert_true(o.active);
	assert_int_equal(o.port, 9231);
	o = CMDLINE("node\0--inspect-wait\0server.js");
	assert_true(o.active);
	/* the port SIGUSR1 will use, the inspector not open */
	o = CMDLINE("node\0--inspect-port=9300\0server.js");
	assert_false(o.active);
	assert_int_equal(o.port, 9300);
	o = CMDLINE("node\0--inspect-port\0[::1]:9301\0server.js");
	assert_false(o.active);
	assert_int_equal(o.port, 9301);
	o = CMDLINE("node\0--debug-port=0\0server.js");
	assert_int_equal(o.port, 0);
	/* look-alikes are not the options */
	o = CMDLINE("node\0--inspector\0--inspect-portal=1\0server.js");
	assert_false(o.active);
	assert_int_equal(o.port, 9229);
	/* the application's own arguments count too: left alone rather than wrong */
	o = CMDLINE("node\0server.js\0--inspect");
	assert_true(o.active);
	/* NODE_OPTIONS */
	o = args("--max-old-space-size=512 --inspect-brk", 38, ' ');
	assert_true(o.active);
	o = args("--require ./tracing.js --inspect-port=9400", 42, ' ');
	assert_false(o.active);
	assert_int_equal(o.port, 9400);
	/* a port that is no port */
	o = CMDLINE("node\0--inspect-port=99999\0x.js");
	assert_int_equal(o.port, 0);
}

static void test_environ(void **state)
{
	static const char env[] = "PATH=/usr/bin\0NODE_OPTIONSX=1\0NODE_OPTIONS=--inspect\0"
				  "NODE_ENV=production";
	const char *v;

	(void)state;
	assert_int_equal(node_environ_get(env, sizeof(env), "NODE_OPTIONS", &v), 9);
	assert_memory_equal(v, "--inspect", 9);
	assert_int_equal(node_environ_get(env, sizeof(env) - 1, "NODE_ENV", &v), 10);
	assert_memory_equal(v, "production", 10);
	assert_int_equal(node_environ_get(env, sizeof(env), "HOME", &v), -ENOENT);
	assert_int_equal(node_environ_get(env, sizeof(env), "NODE", &v), -ENOENT);
}

static void test_exe_names(void **state)
{
	(void)state;
	assert_true(node_exe_name("/usr/bin/node"));
	assert_true(node_exe_name("/usr/bin/nodejs"));
	assert_true(node_exe_name("/opt/node-v20/bin/node20"));
	assert_true(node_exe_name("/usr/local/bin/node-18.19.1"));
	assert_true(node_exe_name("node_22"));
	assert_false(node_exe_name("/usr/bin/node_exporter"));
	assert_false(node_exe_name("/usr/bin/nodemon"));
	assert_false(node_exe_name("/usr/local/bin/bun"));
	assert_false(node_exe_name("/usr/bin/node-"));
	assert_false(node_exe_name("/node/bin/deno"));
}

static void test_maps_line(void **state)
{
	static const char text[] =
		"00400000-02b7e000 r-xp 00000000 fd:01 3148911                    /usr/bin/node\n";
	static const char lib[] = "7f8535b50000-7f8535cd1000 r-xp 00028000 fd:01 1181 "
				  "         /usr/lib/x86_64-linux-gnu/libc.so.6\n";
	static const char anon[] = "7ffd1c9e5000-7ffd1ca06000 rw-p 00000000 00:00 0      "
				   "                    [stack]\n";
	const char *path;
	size_t len;
	uint64_t off;

	(void)state;
	assert_int_equal(node_maps_line(text, 0xdfa590, &off, &path, &len), 1);
	assert_int_equal(off, 0xdfa590 - 0x400000);
	assert_int_equal(len, strlen("/usr/bin/node"));
	assert_memory_equal(path, "/usr/bin/node", len);
	assert_int_equal(node_maps_line(lib, 0x7f8535b50010, &off, &path, &len), 1);
	assert_int_equal(off, 0x28010);
	assert_int_equal(node_maps_line(text, 0x02b7e000, &off, &path, &len), 0); /* end excluded */
	assert_int_equal(node_maps_line(anon, 0x7ffd1c9e5008, &off, &path, &len), 0);
	assert_int_equal(node_maps_line("nonsense\n", 1, &off, &path, &len), -EINVAL);
}

static void test_sigusr1_names(void **state)
{
	(void)state;
	/* the symbols of node 20's binary, as `nm` shows them */
	assert_int_equal(node_sigusr1_by_name("_ZN4node9inspector12_GLOBAL__N_1L19StartIoThreadW"
					      "akeupEiP9siginfo_tPv"),
			 NODE_SIGUSR1_NODE);
	assert_int_equal(node_sigusr1_by_name("uv__signal_handler"), NODE_SIGUSR1_APP);
	assert_int_equal(node_sigusr1_by_name("runtime.sigtramp"), NODE_SIGUSR1_OTHER);
	assert_int_equal(node_sigusr1_by_name(""), NODE_SIGUSR1_UNKNOWN);
	assert_int_equal(node_sigusr1_by_name(NULL), NODE_SIGUSR1_UNKNOWN);
}

/* As bpf_probe_read_user_str() leaves it: the path, its NUL, zeros. */
static int sentinel(const char *path, __u32 *in, __u32 *out)
{
	unsigned char buf[NODE_SENTINEL_READ] = { 0 };

	strncpy((char *)buf, path, sizeof(buf) - 1);
	return node_sentinel_parse(buf, in, out);
}

static void test_sentinel_paths(void **state)
{
	static const char *const bad[] = {
		"/dev/null/sonde/00000015/000000",	     /* short */
		"/dev/null/sonde/00000015/000000160",	     /* long */
		"/dev/null/sonde/00000015/0000001G",	     /* not hex */
		"/dev/null/sonde/0000001A/00000016",	     /* upper case */
		"/dev/null/sonde/00000015-00000016",	     /* no slash */
		"/dev/null/sondf/00000015/00000016",	     /* another prefix */
		"/dev/null/obi/0000001500000016",	     /* OBI's */
		"/etc/ld.so.preload",			     /* what processes access() */
		"",					     /* empty */
		"/dev/null/sonde/00000015/00000016/x",	     /* more after it */
		"/dev/null/sonde/ 0000015/00000016",	     /* a space */
		"/dev/null/sonde/0000001500000016/00000000", /* misplaced */
	};
	__u32 in = 0, out = 0;

	(void)state;
	assert_int_equal(sentinel("/dev/null/sonde/00000015/00000016", &in, &out), 0);
	assert_int_equal(in, 21);
	assert_int_equal(out, 22);
	assert_int_equal(sentinel("/dev/null/sonde/ffffffff/0000abcd", &in, &out), 0);
	assert_int_equal(in, SONDE_LINK_NO_REQUEST);
	assert_int_equal(out, 0xabcd);
	assert_int_equal(sentinel("/dev/null/sonde/7fffffff/00000000", &in, &out), 0);
	assert_int_equal(in, 0x7fffffff);
	assert_int_equal(out, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sentinel(bad[i], &in, &out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_lines),      cmocka_unit_test(test_inspect_args),
		cmocka_unit_test(test_environ),	       cmocka_unit_test(test_exe_names),
		cmocka_unit_test(test_maps_line),      cmocka_unit_test(test_sigusr1_names),
		cmocka_unit_test(test_sentinel_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
