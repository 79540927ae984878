/* SPDX-License-Identifier: MIT */
/* RFC 6455 client framing and handshake, against the RFC's own examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodejs/websocket.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_sha1_vectors(void **state)
{
	/* FIPS 180-2 appendix A, and the empty message */
	static const struct {
		const char *in, *digest;
	} v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	uint8_t d[20];
	char h[41];
	char *million = malloc(1000000);

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ws_sha1(v[i].in, strlen(v[i].in), d);
		hex(d, 20, h);
		assert_string_equal(h, v[i].digest);
	}
	/* one million 'a': many blocks */
	memset(million, 'a', 1000000);
	ws_sha1(million, 1000000, d);
	hex(d, 20, h);
	assert_string_equal(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(million);
	/* 55 and 56 bytes: the length fits in the last block, or needs another */
	ws_sha1("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 55, d);
	hex(d, 20, h);
	assert_string_equal(h, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
	ws_sha1("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 56, d);
	hex(d, 20, h);
	assert_string_equal(h, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
}

static void test_base64(void **state)
{
	/* RFC 4648, section 10 */
	static const char *const out[] = { "",	       "Zg==",	   "Zm8=",    "Zm9v",
					   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char b[16];

	(void)state;
	for (size_t n = 0; n <= 6; n++) {
		ws_base64((const uint8_t *)"foobar", n, b);
		assert_string_equal(b, out[n]);
	}
}

/* RFC 6455 section 1.3: the key "the sample nonce" and its answer. */
#define RFC_KEY	   "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void test_key_and_accept(void **state)
{
	char key[WS_KEY_LEN + 1], accept[WS_ACCEPT_LEN + 1];

	(void)state;
	ws_key((const uint8_t *)"the sample nonce", key);
	assert_string_equal(key, RFC_KEY);
	ws_accept_for(key, accept);
	assert_string_equal(accept, RFC_ACCEPT);
}

static void test_handshake_request(void **state)
{
	char buf[512];
	int n;

	(void)state;
	n = ws_handshake_request(buf, sizeof(buf), "127.0.0.1:9229", "/0f2c-uuid", RFC_KEY);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "GET /0f2c-uuid HTTP/1.1\r\n"
				 "Host: 127.0.0.1:9229\r\n"
				 "Upgrade: websocket\r\n"
				 "Connection: Upgrade\r\n"
				 "Sec-WebSocket-Key: " RFC_KEY "\r\n"
				 "Sec-WebSocket-Version: 13\r\n"
				 "\r\n");
	assert_int_equal(ws_handshake_request(buf, 40, "h", "/p", RFC_KEY), -ENOSPC);
}

/* What Node.js's inspector answers, with a frame right behind it. */
static const char node_101[] = "HTTP/1.1 101 Switching Protocols\r\n"
			       "Upgrade: websocket\r\n"
			       "Connection: Upgrade\r\n"
			       "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n"
			       "\r\n"
			       "\x81\x02hi";

static void test_handshake_response(void **state)
{
	size_t head = strlen(node_101) - 4;

	(void)state;
	assert_int_equal(ws_handshake_response(node_101, strlen(node_101), RFC_KEY), (int)head);
	/* every cut before the empty line: more bytes are needed */
	for (size_t cut = 0; cut < head; cut++)
		assert_int_equal(ws_handshake_response(node_101, cut, RFC_KEY), 0);
	/* header names and tokens in any case, lists, spaces */
	assert_true(ws_handshake_response("HTTP/1.1 101 OK\r\nconnection: keep-alive, upgrade\r\n"
					  "UPGRADE:  WebSocket \r\n"
					  "sec-websocket-accept: " RFC_ACCEPT "\r\n\r\n",
					  200, RFC_KEY) > 0);
}

static void test_handshake_refused(void **state)
{
	static const char *const bad[] = {
		/* not 101 */
		"HTTP/1.0 400 Bad Request\r\n\r\n",
		"HTTP/1.1 1010 x\r\n\r\n",
		/* the answer to another key */
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n",
		/* no Upgrade, no Connection, no Accept */
		"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
		"Upgrade\r\n\r\n",
		/* a header line without a colon */
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n\r\n",
	};
	char big[WS_MAX_HANDSHAKE_IN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ws_handshake_response(bad[i], strlen(bad[i]), RFC_KEY), -EPROTO);
	/* a head that never ends */
	memset(big, 'x', sizeof(big));
	assert_int_equal(ws_handshake_response(big, sizeof(big), RFC_KEY), -EPROTO);
}

static void test_frame_encode_rfc_examples(void **state)
{
	/* RFC 6455 section 5.7: a single-frame masked text message "Hello" */
	static const uint8_t hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t out[70000], *payload = calloc(1, 65536);

	(void)state;
	assert_int_equal(ws_frame_encode(out, sizeof(out), WS_OP_TEXT, "Hello", 5, mask),
			 sizeof(hello));
	assert_memory_equal(out, hello, sizeof(hello));
	/* 125 bytes: 7-bit length; 126 and 65535: 16-bit; 65536: 64-bit */
	assert_int_equal(ws_frame_encode(out, sizeof(out), WS_OP_TEXT, payload, 125, mask),
			 2 + 4 + 125);
	assert_int_equal(out[1], 0x80 | 125);
	assert_int_equal(ws_frame_encode(out, sizeof(out), WS_OP_BINARY, payload, 126, mask),
			 4 + 4 + 126);
	assert_memory_equal(out, "\x82\xfe\x00\x7e", 4);
	assert_int_equal(ws_frame_encode(out, sizeof(out), WS_OP_BINARY, payload, 65535, mask),
			 4 + 4 + 65535);
	assert_memory_equal(out, "\x82\xfe\xff\xff", 4);
	assert_int_equal(ws_frame_encode(out, sizeof(out), WS_OP_BINARY, payload, 65536, mask),
			 10 + 4 + 65536);
	assert_memory_equal(out, "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	assert_memory_equal(out + 10, mask, 4);
	/* the payload is masked: zeros come out as the mask, repeated */
	assert_memory_equal(out + 14, mask, 4);
	assert_memory_equal(out + 18, mask, 4);
	/* it does not fit */
	assert_int_equal(ws_frame_encode(out, 5 + WS_MAX_HEADER - 1, WS_OP_TEXT, "Hello", 5, mask),
			 -ENOSPC);
	free(payload);
}

static void test_frame_decode(void **state)
{
	struct ws_frame f;

	(void)state;
	/* RFC 6455 5.7: unmasked "Hello" */
	assert_int_equal(ws_frame_decode((const uint8_t *)"\x81\x05Hello", 7, &f), 1);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_int_equal(f.header_len, 2);
	assert_int_equal(f.payload_len, 5);
	/* a first fragment "Hel" */
	assert_int_equal(ws_frame_decode((const uint8_t *)"\x01\x03Hel", 5, &f), 1);
	assert_false(f.fin);
	/* 256 bytes binary: 16-bit length; 64 KiB: 64-bit length */
	assert_int_equal(ws_frame_decode((const uint8_t *)"\x82\x7e\x01\x00", 4, &f), 1);
	assert_int_equal(f.header_len, 4);
	assert_int_equal(f.payload_len, 256);
	assert_int_equal(
		ws_frame_decode((const uint8_t *)"\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10,
				&f),
		1);
	assert_int_equal(f.header_len, 10);
	assert_int_equal(f.payload_len, 65536);
	/* too short to say */
	assert_int_equal(ws_frame_decode((const uint8_t *)"\x81", 1, &f), 0);
	assert_int_equal(ws_frame_decode((const uint8_t *)"\x82\x7e\x01", 3, &f), 0);
	assert_int_equal(ws_frame_decode((const uint8_t *)"\x82\x7f\x00\x00\x00", 5, &f), 0);
}

static void test_frame_decode_refuses(void **state)
{
	static const char *const bad[] = {
		"\x81\x85\x37\xfa\x21\x3d", /* masked: servers never mask */
		"\xc1\x05",		    /* RSV1 without an extension */
		"\xa1\x05",		    /* RSV2 */
		"\x91\x05",		    /* RSV3 */
		"\x83\x00",		    /* reserved data opcode */
		"\x8b\x00",		    /* reserved control opcode */
		"\x09\x00",		    /* a fragmented ping */
		"\x88\x7e",		    /* a control frame longer than 125 bytes */
		"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", /* 64-bit length, top bit set */
	};
	struct ws_frame f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ws_frame_decode((const uint8_t *)bad[i], 10, &f), -EPROTO);
}

struct reader_fixture {
	uint8_t in[256], msg[64];
	struct ws_reader r;
};

static void feed(struct ws_reader *r, const void *b, size_t n)
{
	assert_true(r->in_len + n <= r->in_cap);
	memcpy(r->in + r->in_len, b, n);
	r->in_len += n;
}

static void test_reader_fragments_and_control(void **state)
{
	/* "Hel", a ping between the fragments, "lo", then a close with a code */
	static const uint8_t stream[] = { 0x01, 0x03, 'H', 'e', 'l',  0x89, 0x02, 'p', 'g',
					  0x80, 0x02, 'l', 'o', 0x88, 0x02, 0x03, 0xe8 };
	struct reader_fixture fx;
	struct ws_message m;
	int got = 0;

	(void)state;
	ws_reader_init(&fx.r, fx.in, sizeof(fx.in), fx.msg, sizeof(fx.msg));
	/* one byte at a time: whole messages only come out when complete */
	for (size_t i = 0; i < sizeof(stream); i++) {
		int rc;

		feed(&fx.r, stream + i, 1);
		while ((rc = ws_reader_next(&fx.r, &m)) == 1) {
			switch (got++) {
			case 0:
				assert_int_equal(i, 8);
				assert_int_equal(m.op, WS_OP_PING);
				assert_int_equal(m.len, 2);
				assert_memory_equal(m.data, "pg", 2);
				break;
			case 1:
				assert_int_equal(i, 12);
				assert_int_equal(m.op, WS_OP_TEXT);
				assert_int_equal(m.len, 5);
				assert_memory_equal(m.data, "Hello", 5);
				break;
			case 2:
				assert_int_equal(i, 16);
				assert_int_equal(m.op, WS_OP_CLOSE);
				assert_memory_equal(m.data, "\x03\xe8", 2);
				break;
			}
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(got, 3);
	assert_int_equal(fx.r.in_len, 0);
}

static void test_reader_refuses(void **state)
{
	struct reader_fixture fx;
	struct ws_message m;
	uint8_t big[80];

	(void)state;
	/* a continuation with no message begun */
	ws_reader_init(&fx.r, fx.in, sizeof(fx.in), fx.msg, sizeof(fx.msg));
	feed(&fx.r, "\x80\x01x", 3);
	assert_int_equal(ws_reader_next(&fx.r, &m), -EPROTO);
	/* a new message while one is in fragments */
	ws_reader_init(&fx.r, fx.in, sizeof(fx.in), fx.msg, sizeof(fx.msg));
	feed(&fx.r, "\x01\x01x\x81\x01y", 6);
	assert_int_equal(ws_reader_next(&fx.r, &m), -EPROTO);
	/* a message larger than the message buffer (64), in two fragments */
	ws_reader_init(&fx.r, fx.in, sizeof(fx.in), fx.msg, sizeof(fx.msg));
	memset(big, 'a', sizeof(big));
	feed(&fx.r, "\x01\x28", 2);
	feed(&fx.r, big, 40);
	feed(&fx.r, "\x80\x28", 2);
	feed(&fx.r, big, 40);
	assert_int_equal(ws_reader_next(&fx.r, &m), -EMSGSIZE);
	/* a frame larger than the input buffer could ever hold */
	ws_reader_init(&fx.r, fx.in, sizeof(fx.in), fx.msg, sizeof(fx.msg));
	feed(&fx.r, "\x81\x7e\x10\x00", 4);
	assert_int_equal(ws_reader_next(&fx.r, &m), -EMSGSIZE);
	/* a bad frame */
	ws_reader_init(&fx.r, fx.in, sizeof(fx.in), fx.msg, sizeof(fx.msg));
	feed(&fx.r, "\x81\x81\x00\x00\x00\x00x", 7);
	assert_int_equal(ws_reader_next(&fx.r, &m), -EPROTO);
}

/* What the client encodes, a server-side decoder (unmasking) reads back. */
static void test_encode_roundtrip(void **state)
{
	static const uint8_t mask[4] = { 1, 2, 3, 4 };
	const char *text = "{\"id\":1,\"method\":\"Runtime.evaluate\"}";
	uint8_t out[128];
	struct ws_frame f;
	int n;

	(void)state;
	n = ws_frame_encode(out, sizeof(out), WS_OP_TEXT, text, strlen(text), mask);
	assert_int_equal(n, 2 + 4 + (int)strlen(text));
	/* as a server sees it: clear the mask bit, unmask */
	out[1] &= 0x7f;
	assert_int_equal(ws_frame_decode(out, (size_t)n, &f), 1);
	assert_int_equal(f.payload_len, strlen(text));
	for (size_t i = 0; i < f.payload_len; i++)
		out[6 + i] ^= mask[i & 3];
	assert_memory_equal(out + 6, text, strlen(text));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_vectors),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_key_and_accept),
		cmocka_unit_test(test_handshake_request),
		cmocka_unit_test(test_handshake_response),
		cmocka_unit_test(test_handshake_refused),
		cmocka_unit_test(test_frame_encode_rfc_examples),
		cmocka_unit_test(test_frame_decode),
		cmocka_unit_test(test_frame_decode_refuses),
		cmocka_unit_test(test_reader_fragments_and_control),
		cmocka_unit_test(test_reader_refuses),
		cmocka_unit_test(test_encode_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
