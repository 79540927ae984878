/* SPDX-License-Identifier: MIT */
/*
 * HPACK on its own: the examples of RFC 7541 Appendix C (with and without
 * Huffman, with evictions), and what a decoder that lost sync gives: fields it
 * can still vouch for, never ones from entries it does not know.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/hpack.h"

/* What the callback saw, "name: value" per line; "?" for an unknown value. */
struct fields {
	char text[4096];
	size_t len;
	int dynamic; /* fields that used the dynamic table */
};

static void collect(void *ctx, const struct hpack_field *f)
{
	struct fields *out = ctx;

	if (f->flags & HPACK_F_VALUE_UNKNOWN)
		out->len += snprintf(out->text + out->len, sizeof(out->text) - out->len,
				     "%.*s: ?\n", (int)f->name_len, f->name);
	else
		out->len +=
			snprintf(out->text + out->len, sizeof(out->text) - out->len, "%.*s: %.*s\n",
				 (int)f->name_len, f->name, (int)f->value_len, f->value);
	if (f->flags & HPACK_F_DYNAMIC)
		out->dynamic++;
}

/* "8286 8441" → bytes; whitespace ignored. */
static size_t dehex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (isspace((unsigned char)*hex))
			continue;
		v = isdigit((unsigned char)*hex) ? *hex - '0'
						 : tolower((unsigned char)*hex) - 'a' + 10;
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

static int decode_hex(struct hpack_decoder *d, const char *hex, struct fields *out,
		      struct hpack_result *res)
{
	uint8_t buf[1024];
	size_t n = dehex(hex, buf);

	memset(out, 0, sizeof(*out));
	return hpack_decode(d, buf, n, collect, out, res);
}

/* The dynamic table, newest first, "name: value" per line. */
static void table_text(const struct hpack_decoder *d, char *buf, size_t len)
{
	struct hpack_field f;
	size_t o = 0;

	buf[0] = '\0';
	for (uint32_t k = 0; hpack_entry(d, k, &f); k++)
		o += snprintf(buf + o, len - o, "%.*s: %.*s\n", (int)f.name_len, f.name,
			      (int)f.value_len, f.value);
}

struct step {
	const char *hex;
	const char *fields;
	const char *table;
	uint32_t size;
};

static void run_series(uint32_t table_size, const struct step *steps, int n)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;
	char table[2048];

	hpack_init(&d, false);
	hpack_set_max_size(&d, table_size);
	for (int i = 0; i < n; i++) {
		assert_int_equal(decode_hex(&d, steps[i].hex, &out, &res), 0);
		assert_false(res.desync);
		assert_int_equal(res.unknown, 0);
		assert_string_equal(out.text, steps[i].fields);
		table_text(&d, table, sizeof(table));
		assert_string_equal(table, steps[i].table);
		assert_int_equal(d.size, steps[i].size);
	}
	hpack_free(&d);
}

/* C.2: one representation of each kind. */
static void test_c2_literals(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;
	char table[256];

	(void)state;
	hpack_init(&d, false);
	/* C.2.1 literal with indexing */
	assert_int_equal(decode_hex(&d,
				    "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 "
				    "6164 6572",
				    &out, &res),
			 0);
	assert_string_equal(out.text, "custom-key: custom-header\n");
	assert_int_equal(d.size, 55);
	hpack_free(&d);

	/* C.2.2 without indexing: the table stays empty */
	hpack_init(&d, false);
	assert_int_equal(decode_hex(&d, "040c 2f73 616d 706c 652f 7061 7468", &out, &res), 0);
	assert_string_equal(out.text, ":path: /sample/path\n");
	assert_int_equal(d.size, 0);
	/* C.2.3 never indexed */
	assert_int_equal(decode_hex(&d, "1008 7061 7373 776f 7264 0673 6563 7265 74", &out, &res),
			 0);
	assert_string_equal(out.text, "password: secret\n");
	assert_int_equal(d.size, 0);
	/* C.2.4 indexed */
	assert_int_equal(decode_hex(&d, "82", &out, &res), 0);
	assert_string_equal(out.text, ":method: GET\n");
	table_text(&d, table, sizeof(table));
	assert_string_equal(table, "");
	hpack_free(&d);
}

#define C3_T1 ":authority: www.example.com\n"
#define C3_T2 "cache-control: no-cache\n" C3_T1
#define C3_T3 "custom-key: custom-value\n" C3_T2
#define C3_F1 ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n"
#define C3_F2 C3_F1 "cache-control: no-cache\n"
#define C3_F3                                                                             \
	":method: GET\n:scheme: https\n:path: /index.html\n:authority: www.example.com\n" \
	"custom-key: custom-value\n"

/* C.3: three requests on one connection, no Huffman. */
static void test_c3_requests(void **state)
{
	const struct step steps[] = {
		{ "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", C3_F1, C3_T1, 57 },
		{ "8286 84be 5808 6e6f 2d63 6163 6865", C3_F2, C3_T2, 110 },
		{ "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65", C3_F3,
		  C3_T3, 164 },
	};

	(void)state;
	run_series(4096, steps, 3);
}

/* C.4: the same requests with Huffman-coded strings. */
static void test_c4_requests_huffman(void **state)
{
	const struct step steps[] = {
		{ "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", C3_F1, C3_T1, 57 },
		{ "8286 84be 5886 a8eb 1064 9cbf", C3_F2, C3_T2, 110 },
		{ "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", C3_F3, C3_T3,
		  164 },
	};

	(void)state;
	run_series(4096, steps, 3);
}

#define DATE1  "date: Mon, 21 Oct 2013 20:13:21 GMT\n"
#define DATE2  "date: Mon, 21 Oct 2013 20:13:22 GMT\n"
#define LOC    "location: https://www.example.com\n"
#define COOKIE "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n"
#define C5_F1  ":status: 302\ncache-control: private\n" DATE1 LOC
#define C5_T1  LOC DATE1 "cache-control: private\n:status: 302\n"
#define C5_F2  ":status: 307\ncache-control: private\n" DATE1 LOC
#define C5_T2  ":status: 307\n" LOC DATE1 "cache-control: private\n"
#define C5_F3  ":status: 200\ncache-control: private\n" DATE2 LOC "content-encoding: gzip\n" COOKIE
#define C5_T3  COOKIE "content-encoding: gzip\n" DATE2

/* C.5: three responses with a 256-octet table: entries are evicted. */
static void test_c5_responses_eviction(void **state)
{
	const struct step steps[] = {
		{ "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 "
		  "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 "
		  "6c65 2e63 6f6d",
		  C5_F1, C5_T1, 222 },
		{ "4803 3330 37c1 c0bf", C5_F2, C5_T2, 222 },
		{ "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d "
		  "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 "
		  "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e "
		  "3d31",
		  C5_F3, C5_T3, 215 },
	};

	(void)state;
	run_series(256, steps, 3);
}

/* C.6: the same responses, Huffman-coded; evictions use decoded lengths. */
static void test_c6_responses_huffman(void **state)
{
	const struct step steps[] = {
		{ "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 "
		  "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		  C5_F1, C5_T1, 222 },
		{ "4883 640e ffc1 c0bf", C5_F2, C5_T2, 222 },
		{ "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab "
		  "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f "
		  "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
		  C5_F3, C5_T3, 215 },
	};

	(void)state;
	run_series(256, steps, 3);
}

static void test_huffman_strings(void **state)
{
	uint8_t in[64];
	char out[128];
	size_t n;

	(void)state;
	n = dehex("f1e3 c2e5 f23a 6ba0 ab90 f4ff", in);
	assert_int_equal(hpack_huffman_decode(in, n, out), 15);
	assert_memory_equal(out, "www.example.com", 15);
	/* The empty string. */
	assert_int_equal(hpack_huffman_decode(in, 0, out), 0);
	/* Padding of 8 bits or more (a whole 0xff byte after a complete symbol). */
	n = dehex("1f ff", in); /* 'a' = 00011, then 11 one bits */
	assert_int_equal(hpack_huffman_decode(in, n, out), -EBADMSG);
	/* Padding that is not all ones: '0' then 000. */
	n = dehex("00", in);
	assert_int_equal(hpack_huffman_decode(in, n, out), -EBADMSG);
	/* EOS, 30 ones, inside a string. */
	n = dehex("ff ff ff ff", in);
	assert_int_equal(hpack_huffman_decode(in, n, out), -EBADMSG);
	/* A 30-bit code ('\n' = 0x3ffffffc) followed by padding decodes. */
	n = dehex("ff ff ff f3", in);
	assert_int_equal(hpack_huffman_decode(in, n, out), 1);
	assert_int_equal(out[0], '\n');
}

/* A connection already under way: indexes of entries inserted before the
 * decoder started are unknown, not guessed; what it sees inserted is known. */
static void test_partial_decoder_skips_unknown_entries(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;

	(void)state;
	hpack_init(&d, true);
	/* :method GET (static), index 62 (unknown), :path /x as a literal with
	 * indexing (static name 4). */
	assert_int_equal(decode_hex(&d, "82 be 4402 2f78", &out, &res), 0);
	assert_string_equal(out.text, ":method: GET\n:path: /x\n");
	assert_int_equal(res.unknown, 1);
	assert_false(res.desync);
	assert_true(d.partial);
	/* Now 62 is ":path: /x", and 63 is still unknown. */
	assert_int_equal(decode_hex(&d, "83 be bf", &out, &res), 0);
	assert_string_equal(out.text, ":method: POST\n:path: /x\n");
	assert_int_equal(out.dynamic, 1);
	assert_int_equal(res.unknown, 1);
	/* A literal with an unknown dynamic name: the value is read past, the
	 * field skipped; it is inserted, so every entry is unknown again. */
	assert_int_equal(decode_hex(&d, "7f01 0161 be", &out, &res), 0); /* name index 64 */
	assert_string_equal(out.text, "");
	assert_int_equal(res.unknown, 2);
	/* A size update to 0 empties the table: every entry is known again. */
	assert_int_equal(decode_hex(&d, "20 3fe1 1f 82", &out, &res), 0);
	assert_true(res.resync);
	assert_false(d.partial);
	assert_int_equal(d.max_size, 4096);
	assert_string_equal(out.text, ":method: GET\n");
	hpack_free(&d);
}

/* Known entries that fill the table prove the unknown ones were evicted. */
static void test_partial_decoder_resyncs_when_table_fills(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;
	uint8_t block[256];
	int resynced_at = -1;

	(void)state;
	hpack_init(&d, true);
	/* Entries of 32 + 1 + 67 = 100 octets: after 41, 4100 > 4096 - 32. */
	for (int i = 0; i < 45; i++) {
		size_t n = 0;

		block[n++] = 0x40;
		block[n++] = 1;
		block[n++] = (uint8_t)('a' + i % 26);
		block[n++] = 67;
		memset(block + n, 'v', 67);
		n += 67;
		memset(&out, 0, sizeof(out));
		assert_int_equal(hpack_decode(&d, block, n, collect, &out, &res), 0);
		if (res.resync)
			resynced_at = i;
	}
	assert_int_equal(resynced_at, 40); /* 41 entries: 4100 + 32 > 4096 */
	assert_false(d.partial);
	/* In sync, an index past the table is a desync, not an unknown. */
	assert_int_equal(decode_hex(&d, "82 ff 8001", &out, &res), -EBADMSG); /* index 255 */
	assert_true(res.desync);
	assert_true(d.partial);
	assert_int_equal(d.count, 0);
	assert_string_equal(out.text, ":method: GET\n");
	hpack_free(&d);
}

/* Desync signs while in sync: the static part still decodes, the table is dropped. */
static void test_desync_on_bad_index_and_huffman(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;

	(void)state;
	hpack_init(&d, false);
	assert_int_equal(decode_hex(&d, "4082 e3ff 0161", &out, &res), -EBADMSG);
	/* name "a\xff"... is bad Huffman (padding of 8 ones + more): skipped */
	assert_true(res.desync);
	assert_int_equal(res.unknown, 1);
	assert_true(d.partial);
	hpack_free(&d);

	hpack_init(&d, false);
	/* Index 0 is never valid (§6.1). */
	assert_int_equal(decode_hex(&d, "80 88", &out, &res), -EBADMSG);
	assert_true(res.desync);
	assert_string_equal(out.text, ":status: 200\n");
	hpack_free(&d);

	hpack_init(&d, false);
	/* A value with bad Huffman under a known name: the name comes through. */
	assert_int_equal(decode_hex(&d, "0481 00", &out, &res), -EBADMSG);
	assert_string_equal(out.text, ":path: ?\n");
	hpack_free(&d);
}

/* A block cut inside a representation: what came before stands. */
static void test_malformed_block(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;

	(void)state;
	hpack_init(&d, false);
	assert_int_equal(decode_hex(&d, "88 4005 6162", &out, &res), -EBADMSG);
	assert_true(res.malformed);
	assert_string_equal(out.text, ":status: 200\n");
	assert_true(d.partial);
	/* An integer that never ends. */
	assert_int_equal(decode_hex(&d, "ff ff ff ff ff ff ff", &out, &res), -EBADMSG);
	assert_true(res.malformed);
	hpack_free(&d);
}

/* An encoder announcing more than sonde follows: fields still decode, but
 * the table can never be proved complete. */
static void test_table_larger_than_followed(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;

	(void)state;
	hpack_init(&d, false);
	/* 128 KiB announced: followed up to 64 KiB; nothing is lost until an
	 * entry is evicted that the encoder keeps. */
	assert_int_equal(decode_hex(&d, "3fe1ff07 4402 2f78 be", &out, &res), 0);
	assert_int_equal(d.max_size, HPACK_MAX_TABLE_SIZE);
	assert_false(d.partial);
	assert_string_equal(out.text, ":path: /x\n:path: /x\n");
	hpack_free(&d);

	hpack_init(&d, false);
	assert_int_equal(decode_hex(&d, "3fe1ff07 4402 2f78", &out, &res), 0);
	/* 64 KiB of entries later the first is evicted here, not there. */
	for (int i = 0; i < 700 && !d.partial; i++) {
		uint8_t block[128] = { 0x40, 1, 'n', 90 };

		memset(block + 4, 'v', 90);
		assert_int_equal(hpack_decode(&d, block, 94, collect, &out, &res), 0);
		memset(&out, 0, sizeof(out));
	}
	assert_true(d.partial);
	/* Back to 4096: followed again; the table fills with known entries. */
	assert_int_equal(decode_hex(&d, "3fe11f", &out, &res), 0);
	assert_true(res.resync);
	assert_false(d.partial);
	hpack_free(&d);
}

/* Found by fuzz_http2 (UBSan): an entry of no bytes at all, "" = "" (an empty
 * Huffman name and an empty value), into an empty table: the entry is kept and
 * indexed as any other. */
static void test_empty_entry(void **state)
{
	struct hpack_decoder d;
	struct hpack_result res;
	struct fields out;

	(void)state;
	hpack_init(&d, false);
	assert_int_equal(decode_hex(&d, "40 80 00", &out, &res), 0);
	assert_string_equal(out.text, ": \n");
	assert_int_equal(d.count, 1);
	assert_int_equal(d.size, 32);
	assert_int_equal(decode_hex(&d, "be", &out, &res), 0);
	assert_string_equal(out.text, ": \n");
	assert_int_equal(out.dynamic, 1);
	hpack_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_c2_literals),
		cmocka_unit_test(test_c3_requests),
		cmocka_unit_test(test_c4_requests_huffman),
		cmocka_unit_test(test_c5_responses_eviction),
		cmocka_unit_test(test_c6_responses_huffman),
		cmocka_unit_test(test_huffman_strings),
		cmocka_unit_test(test_partial_decoder_skips_unknown_entries),
		cmocka_unit_test(test_partial_decoder_resyncs_when_table_fills),
		cmocka_unit_test(test_desync_on_bad_index_and_huffman),
		cmocka_unit_test(test_malformed_block),
		cmocka_unit_test(test_table_larger_than_followed),
		cmocka_unit_test(test_empty_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
