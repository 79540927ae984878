/* SPDX-License-Identifier: MIT */
/* `sonde trace --tree`: traces printed as trees once their root ends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cli/tree.h"

#define MS 1000000ull

static struct span make(enum span_kind kind, uint8_t id, uint8_t parent, uint8_t link,
			const char *comm, uint32_t pid, const char *path, uint64_t start,
			uint64_t end)
{
	struct span s = { 0 };

	s.kind = kind;
	memset(s.trace_id, 0xab, sizeof(s.trace_id));
	s.span_id[7] = id;
	s.parent_span_id[7] = parent;
	s.link = link;
	snprintf(s.comm, sizeof(s.comm), "%s", comm);
	s.pid = pid;
	snprintf(s.method, sizeof(s.method), "GET");
	snprintf(s.target, sizeof(s.target), "%s", path);
	s.status = 200;
	s.start_ns = start;
	s.end_ns = end;
	s.peer.family = AF_INET;
	s.peer.port = 5432;
	inet_pton(AF_INET, "127.0.0.1", s.peer.addr);
	return s;
}

/* frontend serves /order; it calls checkout (traced here: one line with both
 * sides) which queries PostgreSQL; the tree waits for the root. */
static void test_tree_of_a_request(void **state)
{
	struct tree t;
	struct strbuf out = { 0 };
	struct span root =
		make(SPAN_SERVER, 1, 0, SPAN_LINK_ROOT, "node", 10, "/order", 0, 30 * MS);
	struct span call =
		make(SPAN_CLIENT, 2, 1, SPAN_LINK_ASYNC, "node", 10, "/checkout", 2 * MS, 28 * MS);
	struct span served = make(SPAN_SERVER, 3, 2, SPAN_LINK_CONNECTION, "checkout", 20,
				  "/checkout", 3 * MS, 27 * MS);
	struct span query =
		make(SPAN_CLIENT, 4, 3, SPAN_LINK_GOROUTINE, "checkout", 20, "", 4 * MS, 25 * MS);

	(void)state;
	query.flags = SPAN_F_DB;
	query.db.system = SPAN_DB_POSTGRESQL;
	strcpy(query.db.operation, "SELECT");
	strcpy(query.db.collection, "orders");
	query.db.returned_rows = -1;
	assert_int_equal(tree_init(&t, true), 0);
	tree_add(&t, &query, &out);
	tree_add(&t, &served, &out);
	tree_add(&t, &call, &out);
	assert_int_equal(out.len, 0);
	tree_add(&t, &root, &out);
	assert_string_equal(
		out.buf,
		"trace abababababababababababababababab\n"
		"  GET /order 200  server node[10] <- 127.0.0.1:5432  30.00ms\n"
		"    GET /checkout 200  node[10] -> checkout[20]  client 26.00ms  server "
		"24.00ms\n"
		"      postgresql SELECT orders OK  client checkout[20] -> 127.0.0.1:5432  "
		"21.00ms\n");
	assert_int_equal(t.count, 0);
	assert_int_equal(t.stats.traces, 1);
	strbuf_free(&out);
	tree_free(&t);
}

/* A trace whose root never ends here is printed after the wait, counted. */
static void test_rootless_trace_after_the_wait(void **state)
{
	struct tree t;
	struct strbuf out = { 0 };
	struct span orphan =
		make(SPAN_CLIENT, 5, 9, SPAN_LINK_THREAD, "py", 30, "/x", 1 * MS, 2 * MS);

	(void)state;
	assert_int_equal(tree_init(&t, true), 0);
	tree_add(&t, &orphan, &out);
	tree_expire(&t, 2 * MS + TREE_WAIT_NS - 1, false, &out);
	assert_int_equal(out.len, 0);
	tree_expire(&t, 2 * MS + TREE_WAIT_NS, false, &out);
	assert_non_null(
		strstr(out.buf, "(its root did not end here)\n  GET /x 200  client py[30]"));
	assert_int_equal(t.stats.rootless, 1);
	assert_int_equal(t.count, 0);
	strbuf_free(&out);
	tree_free(&t);
}

/* The tree shows paths from traffic as the text line does: control
 * characters escaped, the query only when asked for. */
static void test_tree_escapes_and_hides_the_query(void **state)
{
	struct tree t;
	struct strbuf out = { 0 };
	struct span root = make(SPAN_SERVER, 1, 0, SPAN_LINK_ROOT, "n\x1b]0;x\x07", 10,
				"/a\nfake line?token=s3cret", 0, 3 * MS);

	(void)state;
	assert_int_equal(tree_init(&t, false), 0);
	tree_add(&t, &root, &out);
	assert_string_equal(out.buf, "trace abababababababababababababababab\n"
				     "  GET /a\\x0afake line 200  server n\\x1b]0;x\\x07[10] <- "
				     "127.0.0.1:5432  3.00ms\n");
	strbuf_free(&out);
	tree_free(&t);
}

static struct log_record line(const char *body, uint8_t span, bool in_request, uint64_t t)
{
	struct log_record r = { .tgid = 20, .fd = 2, .body = body, .len = strlen(body) };

	r.in_request = in_request;
	memset(r.ctx.trace_id, 0xab, sizeof(r.ctx.trace_id));
	r.ctx.span_id[7] = span;
	r.time_ns = t;
	r.severity.number = LOG_SEV_WARN;
	return r;
}

/* Log lines under their span (a stack trace's lines under the first); a
 * line outside any request at once; a line whose trace was printed before
 * it, on its own after the wait, with its ids. */
static void test_log_lines_under_their_span(void **state)
{
	struct tree t;
	struct strbuf out = { 0 };
	struct span root = make(SPAN_SERVER, 1, 0, SPAN_LINK_ROOT, "shop", 20, "/cart", 0, 30 * MS);
	struct span query =
		make(SPAN_CLIENT, 4, 1, SPAN_LINK_THREAD, "shop", 20, "/db", 4 * MS, 25 * MS);
	struct log_record warn = line("slow query", 1, true, 26 * MS);
	struct log_record stack = line("ERROR boom\n  at f()", 4, true, 10 * MS);
	struct log_record alone = line("starting", 0, false, 0);
	struct log_record late = line("late line", 1, true, 31 * MS);
	char *p;

	(void)state;
	assert_int_equal(tree_init(&t, false), 0);
	tree_add_log(&t, &alone, "shop", &out);
	assert_non_null(strstr(out.buf, "log "));
	assert_non_null(strstr(out.buf, " shop[20] WARN starting\n"));
	assert_null(strstr(out.buf, "trace "));
	strbuf_free(&out);
	tree_add_log(&t, &stack, "shop", &out);
	tree_add(&t, &query, &out);
	tree_add_log(&t, &warn, "shop", &out);
	assert_int_equal(out.len, 0);
	tree_add(&t, &root, &out);
	p = strstr(out.buf, "  GET /cart 200  server shop[20]");
	assert_non_null(p);
	p = strchr(p, '\n') + 1;
	assert_memory_equal(p, "    log ", 8);
	assert_non_null(strstr(p, "WARN slow query\n"));
	p = strstr(p, "    GET /db 200  client shop[20]");
	if (!p)
		fail_msg("%s", out.buf);
	p = strchr(p, '\n') + 1;
	assert_memory_equal(p, "      log ", 10);
	assert_non_null(strstr(p, "WARN ERROR boom\n              at f()\n"));
	assert_null(strstr(out.buf, "(trace "));
	strbuf_free(&out);
	tree_add_log(&t, &late, "shop", &out);
	tree_expire(&t, 31 * MS + TREE_WAIT_NS, false, &out);
	assert_non_null(strstr(out.buf, "WARN late line (trace abababababababababababababababab/"
					"span 0000000000000001)\n"));
	assert_int_equal(t.stats.logs_alone, 1);
	assert_int_equal(t.nlogs, 0);
	strbuf_free(&out);
	tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_of_a_request),
		cmocka_unit_test(test_rootless_trace_after_the_wait),
		cmocka_unit_test(test_tree_escapes_and_hides_the_query),
		cmocka_unit_test(test_log_lines_under_their_span),
	};

	return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
