/* SPDX-License-Identifier: MIT */
/*
 * HTTP/2 frame headers (RFC 9113 §4.1) for the tests and fuzzers that build
 * their own traffic (tests/unit/test_http2*.c, tests/fuzz/fuzz_grpc.c).
 */
#ifndef SONDE_TESTS_H2_WIRE_H
#define SONDE_TESTS_H2_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define H2_WIRE_HEADER_LEN 9

/* The 9-byte header of a frame with len bytes of payload, into h. */
static inline void h2_wire_header(uint8_t h[H2_WIRE_HEADER_LEN], size_t len, uint8_t type,
				  uint8_t flags, uint32_t stream)
{
	h[0] = (uint8_t)(len >> 16);
	h[1] = (uint8_t)(len >> 8);
	h[2] = (uint8_t)len;
	h[3] = type;
	h[4] = flags;
	h[5] = (uint8_t)(stream >> 24);
	h[6] = (uint8_t)(stream >> 16);
	h[7] = (uint8_t)(stream >> 8);
	h[8] = (uint8_t)stream;
}

#endif /* SONDE_TESTS_H2_WIRE_H */
