/* SPDX-License-Identifier: MIT */
/*
 * Redis sessions through the protocol interface: a conversation recorded
 * from redis-cli (strace) and hand-written ones from the RESP2/RESP3 specs,
 * fed whole, split at every byte, pipelined, with gaps, cut captures and
 * garbage; each gives exactly the spans a user must see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/redis/redis_protocol.h"
#include "protocols/redis/resp.h"
#include "sonde_event.h"
#include "proto_driver.h"

static struct redis_shared shared;

static void open_client(struct driver *d)
{
	memset(&shared, 0, sizeof(shared));
	driver_open(d, &redis_protocol, &shared, SONDE_ROLE_CLIENT, NULL);
}

#define W(s)                                 \
	{                                    \
		.ingress = false, .bytes = s \
	}
#define R(s)                                \
	{                                   \
		.ingress = true, .bytes = s \
	}

/* redis-cli 7.0 against redis-server 7.0, as strace showed it (the
 * COMMAND DOCS it sends first is left out: 150 KB). */
static const struct exchange recorded[] = {
	W("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"),
	R("+OK\r\n"),
	W("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
	R("$1\r\nv\r\n"),
	W("*4\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\na\r\n$1\r\nb\r\n"),
	R(":2\r\n"),
	W("*3\r\n$5\r\nBLPOP\r\n$1\r\nl\r\n$1\r\n1\r\n"),
	R("*2\r\n$1\r\nl\r\n$1\r\nb\r\n"),
	W("*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n"),
	R("-ERR value is not an integer or out of range\r\n"),
	W("*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\n1\r\n"),
	R(":1\r\n"),
	W("*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n"),
	R("*2\r\n$1\r\nf\r\n$1\r\n1\r\n"),
	W("*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"),
	R("+OK\r\n"),
	W("*2\r\n$3\r\nGET\r\n$5\r\nnokey\r\n"),
	R("$-1\r\n"),
	W("*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"),
	R(":0\r\n"),
	W("*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$2\r\nme\r\n"),
	R("+OK\r\n"),
	W("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n"),
	R("*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"),
	W("*1\r\n$5\r\nMULTI\r\n"),
	R("+OK\r\n"),
	W("*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"),
	R("+QUEUED\r\n"),
	W("*2\r\n$4\r\nINCR\r\n$1\r\na\r\n"),
	R("+QUEUED\r\n"),
	W("*1\r\n$4\r\nEXEC\r\n"),
	R("*2\r\n+OK\r\n:2\r\n"),
};

static const char recorded_spans[] = "SET q=SET ? ? ns=0 t=1-2\n"
				     "GET q=GET ? ns=0 t=3-4\n"
				     "LPUSH q=LPUSH ? ? ? ns=0 t=5-6\n"
				     "BLPOP q=BLPOP ? ? ns=0 t=7-8\n"
				     "INCR q=INCR ? ns=0 st=ERR E t=9-10\n"
				     "HSET q=HSET ? ? ? ns=0 t=11-12\n"
				     "HGETALL q=HGETALL ? ns=0 t=13-14\n"
				     "SELECT q=SELECT ? ns=2 t=15-16\n"
				     "GET q=GET ? ns=2 t=17-18\n"
				     "DEL q=DEL ? ns=2 t=19-20\n"
				     "CLIENT q=CLIENT SETNAME ? ns=2 t=21-22\n"
				     "CONFIG q=CONFIG GET ? ns=2 t=23-24\n"
				     "MULTI q=MULTI ns=2 t=25-26\n"
				     "SET q=SET ? ? ns=2 t=27-28\n"
				     "INCR q=INCR ? ns=2 t=29-30\n"
				     "EXEC q=EXEC ns=2 t=31-32\n";

#define N(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal written or read whole. */
#define WR(d, ts, lit) driver_write(d, ts, lit, sizeof(lit) - 1)
#define RD(d, ts, lit) driver_read(d, ts, lit, sizeof(lit) - 1)

static void test_recorded(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	driver_play(&d, recorded, N(recorded), SIZE_MAX, 0);
	assert_string_equal(d.text, recorded_spans);
	assert_int_equal(d.not_client, 0);
	assert_int_equal(d.begins, 16);
	assert_int_equal(d.unbegun, 0);
	assert_int_equal(shared.stats.spans, 16);
	assert_int_equal(d.p->in_flight(d.session), 0);
	driver_free(&d);
}

/* Every message cut in two at every byte: the same spans. */
static void test_recorded_split_everywhere(void **state)
{
	struct driver d;

	(void)state;
	for (size_t i = 0; i < N(recorded); i++) {
		for (size_t at = 1; at < exchange_len(&recorded[i]); at++) {
			open_client(&d);
			driver_play(&d, recorded, N(recorded), i, at);
			assert_string_equal(d.text, recorded_spans);
			driver_free(&d);
		}
	}
}

/* One byte per syscall, all of the same time as the message. */
static void test_recorded_byte_by_byte(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	for (size_t i = 0; i < N(recorded); i++)
		for (size_t k = 0; k < exchange_len(&recorded[i]); k++)
			driver_feed(&d, recorded[i].ingress, recorded[i].bytes + k, 1, 1, 0, i + 1);
	assert_string_equal(d.text, recorded_spans);
	driver_free(&d);
}

/* N commands in one write, N replies in one read: N spans, in order. */
static void test_pipelined(void **state)
{
	char cmds[4096] = "", replies[4096] = "";
	struct driver d;

	(void)state;
	for (size_t i = 0; i < N(recorded); i++)
		strcat(recorded[i].ingress ? replies : cmds, recorded[i].bytes);
	open_client(&d);
	driver_write(&d, 1, cmds, strlen(cmds));
	assert_int_equal(d.p->in_flight(d.session), 16);
	driver_read(&d, 2, replies, strlen(replies));
	assert_int_equal(d.spans, 16);
	assert_non_null(strstr(d.text, "INCR q=INCR ? ns=0 st=ERR E t=1-2\n"));
	assert_non_null(strstr(d.text, "GET q=GET ? ns=2 t=1-2\n"));
	assert_non_null(strstr(d.text, "EXEC q=EXEC ns=2 t=1-2\n"));
	driver_free(&d);

	/* and split anywhere in both */
	for (size_t at = 1; at < strlen(replies); at += 7) {
		open_client(&d);
		driver_feed(&d, false, cmds, at % strlen(cmds), at % strlen(cmds), 0, 1);
		driver_feed(&d, false, cmds + at % strlen(cmds), strlen(cmds) - at % strlen(cmds),
			    strlen(cmds) - at % strlen(cmds), 0, 1);
		driver_feed(&d, true, replies, at, at, 0, 2);
		driver_feed(&d, true, replies + at, strlen(replies) - at, strlen(replies) - at, 0,
			    3);
		assert_int_equal(d.spans, 16);
		assert_int_equal(shared.stats.orphan_replies + shared.stats.lost_sync, 0);
		driver_free(&d);
	}
}

static void test_blocking_command_lasts_until_reply(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 100, "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
	assert_int_equal(d.spans, 0);
	RD(&d, 5000000100ull, "*2\r\n$1\r\nq\r\n$3\r\njob\r\n");
	assert_string_equal(d.text, "BLPOP q=BLPOP ? ? ns=0 t=100-5000000100\n");
	driver_free(&d);
}

static void test_errors(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1, "*2\r\n$4\r\nINCR\r\n$1\r\nl\r\n");
	RD(&d, 2, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
	WR(&d, 3, "*1\r\n$4\r\nNOPE\r\n");
	RD(&d, 4, "-ERR unknown command 'NOPE', with args beginning with: \r\n");
	WR(&d, 5, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 6, "-NOAUTH Authentication required.\r\n");
	WR(&d, 7, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 8, "!21\r\nSYNTAX invalid syntax\r\n");
	WR(&d, 9, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 10, "-Error from a module\r\n");
	assert_string_equal(d.text, "INCR q=INCR ? ns=0 st=WRONGTYPE E t=1-2\n"
				    "NOPE q=NOPE ns=0 st=ERR E t=3-4\n"
				    "PING q=PING ns=0 st=NOAUTH E t=5-6\n"
				    "PING q=PING ns=0 st=SYNTAX E t=7-8\n"
				    "PING q=PING ns=0 st=ERR E t=9-10\n");
	driver_free(&d);
}

/* Subcommands stay, arguments go; AUTH and HELLO hide even how many. */
static void test_query_text(void **state)
{
	static const char secret[] = "s3cr3t-pa55";
	struct driver d;

	(void)state;
	open_client(&d);
	d.secret = secret;
	WR(&d, 1, "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$11\r\ns3cr3t-pa55\r\n");
	RD(&d, 2, "+OK\r\n");
	WR(&d, 3, "*2\r\n$4\r\nAUTH\r\n$11\r\ns3cr3t-pa55\r\n");
	RD(&d, 4, "-WRONGPASS invalid username-password pair\r\n");
	WR(&d, 5,
	   "*5\r\n$5\r\nHELLO\r\n$1\r\n2\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$11\r\n"
	   "s3cr3t-pa55\r\n");
	RD(&d, 6, "*2\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
	WR(&d, 7, "*3\r\n$6\r\nOBJECT\r\n$8\r\nencoding\r\n$1\r\nk\r\n");
	RD(&d, 8, "$6\r\nembstr\r\n");
	WR(&d, 9, "*4\r\n$6\r\nXGROUP\r\n$6\r\nCREATE\r\n$1\r\ns\r\n$1\r\ng\r\n");
	RD(&d, 10, "+OK\r\n");
	/* a "subcommand" that is no keyword is an argument like the others */
	WR(&d, 11, "*2\r\n$6\r\nCONFIG\r\n$5\r\na b c\r\n");
	RD(&d, 12, "-ERR unknown subcommand\r\n");
	WR(&d, 13, "*1\r\n$7\r\nCOMMAND\r\n");
	RD(&d, 14, "*0\r\n");
	WR(&d, 15, "*2\r\n$8\r\nJSON.GET\r\n$3\r\ndoc\r\n");
	RD(&d, 16, "$2\r\n{}\r\n");
	assert_string_equal(d.text, "AUTH q=AUTH ? ns=0 t=1-2\n"
				    "AUTH q=AUTH ? ns=0 st=WRONGPASS E t=3-4\n"
				    "HELLO q=HELLO ? ns=0 t=5-6\n"
				    "OBJECT q=OBJECT ENCODING ? ns=0 t=7-8\n"
				    "XGROUP q=XGROUP CREATE ? ? ns=0 t=9-10\n"
				    "CONFIG q=CONFIG ? ns=0 st=ERR E t=11-12\n"
				    "COMMAND q=COMMAND ns=0 t=13-14\n"
				    "JSON.GET q=JSON.GET ? ns=0 t=15-16\n");
	assert_int_equal(d.leaks, 0);
	driver_free(&d);
}

/* The secret is never copied into the session either. */
static void test_auth_argument_never_kept(void **state)
{
	static const char cmd[] = "*2\r\n$4\r\nAUTH\r\n$11\r\ns3cr3t-pa55\r\n";
	struct driver d;

	(void)state;
	for (size_t at = 1; at < sizeof(cmd) - 1; at++) {
		open_client(&d);
		driver_feed(&d, false, cmd, at, at, 0, 1);
		assert_null(memmem(d.session, redis_protocol.session_size, "s3c", 3));
		driver_feed(&d, false, cmd + at, sizeof(cmd) - 1 - at, sizeof(cmd) - 1 - at, 0, 1);
		assert_null(memmem(d.session, redis_protocol.session_size, "s3c", 3));
		driver_free(&d);
	}
}

static void test_query_settings(void **state)
{
	struct protocol_settings none = { .db_query = DB_QUERY_NONE, .db_query_max = 2048 };
	struct protocol_settings tiny = { .db_query = DB_QUERY_SANITIZED, .db_query_max = 9 };
	struct driver d;

	(void)state;
	memset(&shared, 0, sizeof(shared));
	driver_open(&d, &redis_protocol, &shared, SONDE_ROLE_CLIENT, &none);
	WR(&d, 1, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
	RD(&d, 2, "+OK\r\n");
	assert_string_equal(d.text, "SET q= ns=0 t=1-2\n");
	driver_free(&d);

	driver_open(&d, &redis_protocol, &shared, SONDE_ROLE_CLIENT, &tiny);
	WR(&d, 1, "*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n");
	RD(&d, 2, "+OK\r\n");
	assert_string_equal(d.text, "MSET q=MSET ? ? ns=0 T t=1-2\n");
	driver_free(&d);
}

static void test_select_namespace(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	/* pipelined: GET runs in the DB the SELECT before it chose */
	WR(&d, 1,
	   "*2\r\n$6\r\nSELECT\r\n$2\r\n15\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
	   "*2\r\n$6\r\nSELECT\r\n$3\r\n999\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 2, "+OK\r\n$-1\r\n-ERR DB index is out of range\r\n$-1\r\n");
	assert_string_equal(d.text, "SELECT q=SELECT ? ns=15 t=1-2\n"
				    "GET q=GET ? ns=15 t=1-2\n"
				    "SELECT q=SELECT ? ns=15 st=ERR E t=1-2\n"
				    "GET q=GET ? ns=15 t=1-2\n");
	driver_free(&d);
}

static void test_inline_commands(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1, "PING\r\n");
	RD(&d, 2, "+PONG\r\n");
	WR(&d, 3, "set  k \"a b\\\" c\"\n\r\nclient 'setname' x\r\n");
	RD(&d, 4, "+OK\r\n+OK\r\n");
	WR(&d, 5, "auth hunter2\r\n");
	RD(&d, 6, "+OK\r\n");
	assert_string_equal(d.text, "PING q=PING ns=0 t=1-2\n"
				    "SET q=SET ? ? ns=0 t=3-4\n"
				    "CLIENT q=CLIENT SETNAME ? ns=0 t=3-4\n"
				    "AUTH q=AUTH ? ns=0 t=5-6\n");
	driver_free(&d);
}

/* MULTI/EXEC: every queued command is answered by +QUEUED. */
static void test_transaction(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1,
	   "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
	   "*2\r\n$4\r\nLPOP\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n");
	RD(&d, 2,
	   "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n-WRONGTYPE Operation against a key\r\n");
	assert_string_equal(d.text, "MULTI q=MULTI ns=0 t=1-2\n"
				    "SET q=SET ? ? ns=0 t=1-2\n"
				    "LPOP q=LPOP ? ns=0 t=1-2\n"
				    "EXEC q=EXEC ns=0 t=1-2\n");
	driver_free(&d);

	open_client(&d);
	WR(&d, 1, "*1\r\n$5\r\nMULTI\r\n*1\r\n$3\r\nBAD\r\n*1\r\n$4\r\nEXEC\r\n");
	RD(&d, 2, "+OK\r\n-ERR unknown command 'BAD'\r\n-EXECABORT Transaction discarded\r\n");
	assert_string_equal(d.text, "MULTI q=MULTI ns=0 t=1-2\n"
				    "BAD q=BAD ns=0 st=ERR E t=1-2\n"
				    "EXEC q=EXEC ns=0 st=EXECABORT E t=1-2\n");
	driver_free(&d);
}

/* RESP2 pub/sub: SUBSCRIBE is answered by a confirmation per channel;
 * messages are no replies. */
static void test_pubsub_resp2(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1, "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n");
	RD(&d, 2, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
	assert_int_equal(d.spans, 0);
	RD(&d, 3,
	   "*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
	   "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n");
	WR(&d, 4, "*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\nn*\r\n");
	RD(&d, 5,
	   "*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nhi\r\n"
	   "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n");
	RD(&d, 6, "*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$2\r\nnn\r\n$1\r\nx\r\n");
	WR(&d, 7, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 8, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
	/* no arguments: one confirmation per channel (not pattern) */
	WR(&d, 9, "*1\r\n$11\r\nUNSUBSCRIBE\r\n");
	RD(&d, 10,
	   "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
	   "*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nyo\r\n");
	RD(&d, 11, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n");
	WR(&d, 12, "*1\r\n$12\r\nPUNSUBSCRIBE\r\n");
	RD(&d, 13, "*3\r\n$12\r\npunsubscribe\r\n$2\r\nn*\r\n:0\r\n");
	/* out of subscribed mode, an array like a message is a reply */
	WR(&d, 14, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n");
	RD(&d, 15, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n");
	assert_string_equal(d.text, "SUBSCRIBE q=SUBSCRIBE ? ? ns=0 t=1-3\n"
				    "PSUBSCRIBE q=PSUBSCRIBE ? ns=0 t=4-5\n"
				    "PING q=PING ns=0 t=7-8\n"
				    "UNSUBSCRIBE q=UNSUBSCRIBE ns=0 t=9-11\n"
				    "PUNSUBSCRIBE q=PUNSUBSCRIBE ns=0 t=12-13\n"
				    "LRANGE q=LRANGE ? ? ? ns=0 t=14-15\n");
	assert_int_equal(shared.stats.pushes, 4);
	assert_int_equal(shared.stats.orphan_replies, 0);
	driver_free(&d);
}

/* RESP3: HELLO 3, pushes never replies, every type in a reply. */
static void test_resp3(void **state)
{
	static const char types[] = "%7\r\n"
				    "+map\r\n%1\r\n$1\r\nk\r\n*2\r\n:1\r\n_\r\n"
				    "+set\r\n~2\r\n#t\r\n#f\r\n"
				    "+double\r\n,3.14\r\n"
				    "+big\r\n(3492890328409238509324850943850943825024385\r\n"
				    "+verbatim\r\n=15\r\ntxt:Some string\r\n"
				    "+blob error\r\n!9\r\nERR oops!\r\n"
				    "|1\r\n+ttl\r\n:3600\r\n+attributed\r\n,-inf\r\n";
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
	RD(&d, 2,
	   "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n"
	   "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:5\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
	   "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n");
	WR(&d, 3, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n");
	RD(&d, 4, ">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
	/* a command on the subscribed connection; a push comes first */
	WR(&d, 5, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 6,
	   ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n"
	   ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n");
	assert_int_equal(d.spans, 2);
	/* a reply that looks like a RESP2 message is a reply in RESP3 */
	RD(&d, 7, "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n");
	WR(&d, 8, "*1\r\n$5\r\nDEBUG\r\n");
	driver_read(&d, 9, types, sizeof(types) - 1);
	/* an attribute before a reply is part of it */
	WR(&d, 10, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 11, "|1\r\n+key-popularity\r\n%1\r\n$1\r\nk\r\n,0.19\r\n$1\r\nv\r\n");
	WR(&d, 12, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 13, "_\r\n");
	assert_string_equal(d.text, "HELLO q=HELLO ? ns=0 t=1-2\n"
				    "SUBSCRIBE q=SUBSCRIBE ? ns=0 t=3-4\n"
				    "GET q=GET ? ns=0 t=5-7\n"
				    "DEBUG q=DEBUG ns=0 t=8-9\n"
				    "GET q=GET ? ns=0 t=10-11\n"
				    "GET q=GET ? ns=0 t=12-13\n");
	assert_int_equal(shared.stats.pushes, 2);
	assert_int_equal(shared.stats.lost_sync, 0);
	driver_free(&d);
}

/* A 10 MB value, of which 1 KB was captured: skipped by its length. */
static void test_huge_reply_skipped_by_length(void **state)
{
	char head[1024];
	struct driver d;

	(void)state;
	open_client(&d);
	memset(head, 'x', sizeof(head));
	memcpy(head, "$10000000\r\n", 11);
	WR(&d, 1, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
	driver_feed(&d, true, head, sizeof(head), 4000000, 0, 2);
	driver_feed(&d, true, head + 11, 1000, 6000013, 0, 3);
	WR(&d, 4, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 5, "$1\r\nv\r\n");
	/* a 10 MB command too, with a write cut short */
	memcpy(head, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10000000\r\n", 31);
	driver_feed(&d, false, head, sizeof(head), 31 + 10000000 + 2, 0, 6);
	RD(&d, 7, "+OK\r\n");
	assert_string_equal(d.text, "GET q=GET ? ns=0 t=1-3\n"
				    "GET q=GET ? ns=0 t=4-5\n"
				    "SET q=SET ? ? ns=0 t=6-7\n");
	assert_int_equal(shared.stats.lost_sync, 0);
	driver_free(&d);
}

/* Bytes lost where framing was: no wrong pair, then pairing again. */
static void test_lost_replies_resync(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	/* the reply to the first, then a gap that holds the second's */
	RD(&d, 2, "$1\r\nA\r\n");
	driver_feed(&d, true, "+OK\r\n", 5, 5, 9, 3);
	WR(&d, 4, "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
	RD(&d, 5, "$1\r\nC\r\n");
	assert_string_equal(d.text, "GET q=GET ? ns=0 t=1-2\n"
				    "GET q=GET ? ns=0 L t=1-3\n"
				    "GET q=GET ? ns=0 t=4-5\n");
	assert_int_equal(shared.stats.lost_sync, 1);
	driver_free(&d);
}

static void test_lost_commands_resync(void **state)
{
	static const char three[] = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n"
				    "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n";
	struct driver d;

	(void)state;
	open_client(&d);
	/* three commands, the capture ends inside the second's framing */
	driver_feed(&d, false, three, 26, sizeof(three) - 1, 0, 1);
	/* the first's reply pairs; the read ends inside the third's */
	RD(&d, 2, "$1\r\nA\r\n$1\r\nB\r\n$1\r");
	/* written while a reply owed was still coming: not paired */
	WR(&d, 3, "*2\r\n$3\r\nGET\r\n$1\r\nd\r\n");
	RD(&d, 4, "\nC\r\n$1\r\nD\r\n");
	/* every reply owed was read: pairing again */
	WR(&d, 5, "*2\r\n$3\r\nGET\r\n$1\r\ne\r\n");
	RD(&d, 6, "$1\r\nE\r\n");
	assert_string_equal(d.text, "GET q=GET ? ns=0 t=1-2\n"
				    "GET q=GET ? ns=0 L t=3-4\n"
				    "GET q=GET ? ns=0 t=5-6\n");
	assert_int_equal(shared.stats.commands_lost, 1);
	assert_int_equal(shared.stats.unpaired, 1);
	driver_free(&d);

	/* the lost command was the only one: its reply is not paired */
	open_client(&d);
	driver_feed(&d, false, three, 5, 20, 0, 1);
	RD(&d, 2, "$1\r\nA\r\n");
	WR(&d, 3, "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	RD(&d, 4, "$1\r\nB\r\n");
	assert_string_equal(d.text, "GET q=GET ? ns=0 t=3-4\n");
	assert_int_equal(shared.stats.commands_lost, 1);
	driver_free(&d);
}

/* A reply of many small items read in pieces larger than the capture (as
 * redis-cli's COMMAND DOCS): its framing is lost; the command ends at the
 * last read before the next write, and the next reply read whole pairs. */
static void test_nested_reply_beyond_capture(void **state)
{
	static char docs[64 * 1024];
	struct driver d;
	size_t n = 0;

	(void)state;
	n += (size_t)sprintf(docs + n, "*%d\r\n", 2000);
	for (int i = 0; i < 2000; i++)
		n += (size_t)sprintf(docs + n, "*2\r\n$7\r\nsummary\r\n:%d\r\n", i);
	open_client(&d);
	WR(&d, 1, "*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n");
	for (size_t off = 0, i = 0; off < n; off += 16384, i++) {
		size_t total = n - off < 16384 ? n - off : 16384;

		driver_feed(&d, true, docs + off, 1024, total, 0, 2 + i);
	}
	WR(&d, 10, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
	RD(&d, 11, "+OK\r\n");
	WR(&d, 12, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 13, "$1\r\nv\r\n");
	assert_string_equal(d.text, "COMMAND q=COMMAND DOCS ns=0 L t=1-4\n"
				    "SET q=SET ? ? ns=0 t=10-11\n"
				    "GET q=GET ? ns=0 t=12-13\n");
	assert_int_equal(shared.stats.unpaired, 1);
	driver_free(&d);
}

/* The middle of a value after a gap is never taken for commands. */
static void test_gap_inside_value(void **state)
{
	static const char set_head[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n";
	static const char set_short[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n";
	static const char text[] = "GET k\r\nPING\r\n";
	struct driver d;

	(void)state;
	open_client(&d);
	driver_feed(&d, false, set_head, sizeof(set_head) - 1, 1000, 0, 1);
	/* the rest of the value, 2 bytes of which went unseen before it */
	driver_feed(&d, false, text, sizeof(text) - 1, 5002 - (1000 - (sizeof(set_head) - 1)) - 2,
		    2, 2);
	RD(&d, 3, "+OK\r\n");
	assert_string_equal(d.text, "SET q=SET ? ? ns=0 t=1-3\n");
	/* the value's length is wrong: the bytes after it are no command */
	WR(&d, 4, set_short);
	WR(&d, 5, text);
	RD(&d, 6, "+OK\r\n");
	WR(&d, 7, "PING\r\n");
	RD(&d, 8, "+PONG\r\n");
	WR(&d, 9, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 10, "+PONG\r\n");
	assert_string_equal(d.text, "SET q=SET ? ? ns=0 t=1-3\n"
				    "PING q=PING ns=0 t=9-10\n");
	assert_int_equal(shared.stats.commands_lost, 1);
	driver_free(&d);
}

static void test_garbage(void **state)
{
	struct driver d;
	char noise[512];

	(void)state;
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (char)(i * 131 + 7);
	open_client(&d);
	driver_write(&d, 1, noise, sizeof(noise));
	driver_read(&d, 2, noise, sizeof(noise));
	WR(&d, 3, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 4, "+PONG\r\n");
	WR(&d, 5, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 6, "+PONG\r\n");
	assert_string_equal(d.text, "PING q=PING ns=0 t=3-4\n"
				    "PING q=PING ns=0 t=5-6\n");
	/* a reply that is not RESP: the command waiting is reported, unpaired */
	WR(&d, 7, "*1\r\n$4\r\nPING\r\n");
	RD(&d, 8, "HTTP/1.1 200 OK\r\n\r\n");
	driver_close(&d, 9);
	assert_string_equal(d.text, "PING q=PING ns=0 t=3-4\n"
				    "PING q=PING ns=0 t=5-6\n"
				    "PING q=PING ns=0 L t=7-8\n");
	driver_free(&d);
}

/* More commands waiting than kept: counted, and the rest still pair. */
static void test_pending_bounded(void **state)
{
	static char cmds[2000 * 14 + 1], replies[2000 * 7 + 12];
	struct driver d;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		memcpy(cmds + i * 14, "*1\r\n$4\r\nPING\r\n", 14);
		memcpy(replies + i * 7, "+PONG\r\n", 7);
	}
	open_client(&d);
	driver_write(&d, 1, cmds, 2000 * 14);
	assert_int_equal(d.p->in_flight(d.session), REDIS_MAX_PENDING);
	assert_int_equal(shared.stats.pending_dropped, 2000 - REDIS_MAX_PENDING);
	driver_read(&d, 2, replies, 2000 * 7);
	assert_int_equal(d.spans, REDIS_MAX_PENDING);
	WR(&d, 3, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	RD(&d, 4, "$1\r\nv\r\n");
	assert_string_equal(d.text + d.len - 23, "GET q=GET ? ns=0 t=3-4\n");
	assert_int_equal(shared.stats.orphan_replies, 0);
	driver_free(&d);
}

static void test_client_reply_modes(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1,
	   "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n"
	   "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
	   "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
	RD(&d, 2, "$1\r\n1\r\n");
	WR(&d, 3,
	   "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\noff\r\n"
	   "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n2\r\n"
	   "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n");
	RD(&d, 4, "+OK\r\n");
	assert_string_equal(d.text, "CLIENT q=CLIENT REPLY ? ns=0 t=1-1\n"
				    "SET q=SET ? ? ns=0 t=1-1\n"
				    "GET q=GET ? ns=0 t=1-2\n"
				    "CLIENT q=CLIENT REPLY ? ns=0 t=3-3\n"
				    "SET q=SET ? ? ns=0 t=3-3\n"
				    "CLIENT q=CLIENT REPLY ? ns=0 t=3-4\n");
	driver_free(&d);
}

static void test_monitor_and_close(void **state)
{
	struct driver d;

	(void)state;
	open_client(&d);
	WR(&d, 1, "*1\r\n$7\r\nMONITOR\r\n");
	RD(&d, 2, "+OK\r\n+1700000000.000000 [0 127.0.0.1:1] \"GET\" \"k\"\r\n");
	RD(&d, 3, "+1700000000.000001 [0 127.0.0.1:1] \"SET\" \"k\" \"v\"\r\n");
	assert_string_equal(d.text, "MONITOR q=MONITOR ns=0 t=1-2\n");
	assert_int_equal(shared.stats.orphan_replies, 0);
	driver_free(&d);

	open_client(&d);
	WR(&d, 1, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$8\r\nSHUTDOWN\r\n");
	RD(&d, 2, "$1\r\nv\r\n");
	driver_close(&d, 9);
	assert_string_equal(d.text, "GET q=GET ? ns=0 t=1-2\n"
				    "SHUTDOWN q=SHUTDOWN ns=0 N t=1-9\n");
	driver_free(&d);
}

/* A traced Redis server makes no spans. */
static void test_server_role_silent(void **state)
{
	struct driver d;

	(void)state;
	memset(&shared, 0, sizeof(shared));
	for (int role = SONDE_ROLE_UNKNOWN; role <= SONDE_ROLE_SERVER; role++) {
		driver_open(&d, &redis_protocol, &shared, (uint8_t)role, NULL);
		RD(&d, 1, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
		WR(&d, 2, "+OK\r\n");
		driver_close(&d, 3);
		assert_int_equal(d.spans, 0);
		driver_free(&d);
	}
	assert_int_equal(shared.stats.server_sessions, 2);
}

/* A connection found already open, role unknown: arrays could be either
 * side's; a reply that is no array shows a client, which then pairs from
 * the first command written after every reply owed was read. */
static void test_unknown_role_learnt(void **state)
{
	struct driver d;

	(void)state;
	memset(&shared, 0, sizeof(shared));
	driver_open(&d, &redis_protocol, &shared, SONDE_ROLE_UNKNOWN, NULL);
	WR(&d, 1, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
	RD(&d, 2, "*1\r\n$1\r\nx\r\n");
	assert_int_equal(d.p->in_flight(d.session), 0);
	RD(&d, 3, "$1\r\nA\r\n");
	WR(&d, 4, "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	RD(&d, 5, "$1\r\nB\r\n");
	assert_string_equal(d.text, "GET q=GET ? ns=0 t=4-5\n");
	assert_int_equal(shared.stats.server_sessions, 0);
	driver_free(&d);
}

/* The parser alone: nesting of any depth and the RESP3 types. */
static void test_resp_parser_nesting(void **state)
{
	struct resp_parser p;
	char deep[8192];
	size_t n = 0, used;

	(void)state;
	for (int i = 0; i < 500; i++)
		n += (size_t)sprintf(deep + n, "*2\r\n:%d\r\n", i);
	n += (size_t)sprintf(deep + n, "$3\r\nend\r\n+next\r\n");
	resp_parser_init(&p, false);
	assert_int_equal(resp_parse(&p, (const uint8_t *)deep, n, &used), RESP_FRAME);
	assert_int_equal(p.frame.type, '*');
	assert_int_equal(p.frame.items, 2);
	assert_int_equal(p.frame.item[0].num, 0);
	assert_true(resp_at_frame_start(&p));
	assert_int_equal(resp_parse(&p, (const uint8_t *)deep + used, n - used, &used), RESP_FRAME);
	assert_int_equal(p.frame.type, '+');
	assert_memory_equal(p.frame.item[0].text, "next", 4);

	/* streamed types and bad lengths are not taken */
	resp_parser_init(&p, false);
	assert_int_equal(resp_parse(&p, (const uint8_t *)"$?\r\n", 4, &used), RESP_BAD);
	resp_parser_init(&p, false);
	assert_int_equal(resp_parse(&p, (const uint8_t *)"*-2\r\n", 5, &used), RESP_BAD);
	resp_parser_init(&p, false);
	assert_int_equal(resp_parse(&p, (const uint8_t *)"$3\r\nabcd\r\n", 10, &used), RESP_BAD);
	resp_parser_init(&p, true);
	assert_int_equal(resp_parse(&p, (const uint8_t *)"*1\r\n:1\r\n", 8, &used), RESP_BAD);
}

/* Random bytes in both directions, in random pieces: no crash, no hang, no
 * span that is not a database client span. */
static void test_random_input(void **state)
{
	static const char *const pieces[] = {
		"*",	"$", "\r\n", "3",  "-1", ":",		"+OK",		"-ERR x",
		">",	"%", "|",    "~",  "_",	 "#t",		"SET",		"GET",
		"PING", " ", "\"",   "\n", "0",	 "99999999999", "*2\r\n$3\r\n",
	};
	struct driver d;
	uint32_t seed = 1;

	(void)state;
	for (int round = 0; round < 300; round++) {
		open_client(&d);
		for (int chunk = 0; chunk < 40; chunk++) {
			char buf[256];
			size_t len = 0;
			int parts;

			seed = seed * 1103515245 + 12345;
			parts = (int)(seed >> 16) % 12;
			for (int k = 0; k < parts; k++) {
				const char *p;

				seed = seed * 1103515245 + 12345;
				p = pieces[(seed >> 16) % N(pieces)];
				if (len + strlen(p) < sizeof(buf)) {
					memcpy(buf + len, p, strlen(p));
					len += strlen(p);
				}
			}
			seed = seed * 1103515245 + 12345;
			driver_feed(&d, (seed >> 20) & 1, buf, len, len + ((seed >> 21) & 3),
				    (seed >> 23) & 1, (uint64_t)chunk);
		}
		driver_close(&d, 99);
		assert_int_equal(d.not_client, 0);
		driver_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_recorded_split_everywhere),
		cmocka_unit_test(test_recorded_byte_by_byte),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_blocking_command_lasts_until_reply),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_query_text),
		cmocka_unit_test(test_auth_argument_never_kept),
		cmocka_unit_test(test_query_settings),
		cmocka_unit_test(test_select_namespace),
		cmocka_unit_test(test_inline_commands),
		cmocka_unit_test(test_transaction),
		cmocka_unit_test(test_pubsub_resp2),
		cmocka_unit_test(test_resp3),
		cmocka_unit_test(test_huge_reply_skipped_by_length),
		cmocka_unit_test(test_lost_replies_resync),
		cmocka_unit_test(test_lost_commands_resync),
		cmocka_unit_test(test_nested_reply_beyond_capture),
		cmocka_unit_test(test_gap_inside_value),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_pending_bounded),
		cmocka_unit_test(test_client_reply_modes),
		cmocka_unit_test(test_monitor_and_close),
		cmocka_unit_test(test_server_role_silent),
		cmocka_unit_test(test_unknown_role_learnt),
		cmocka_unit_test(test_resp_parser_nesting),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
