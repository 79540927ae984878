/* SPDX-License-Identifier: MIT */
/*
 * HPACK's Huffman code (RFC 7541 Appendix B), decoded canonically.
 *
 * The code of Appendix B is canonical: ordered by length, then by symbol, the
 * codes are consecutive integers, each length's first code being the previous
 * length's last code plus one, shifted left. So the whole table is two facts:
 * how many codes each length has, and the symbols in code order. Decoding a
 * symbol reads bits until the code read so far falls inside its length's range.
 */
#include <errno.h>

#include "protocols/http2/hpack.h"

#define HUFFMAN_MAX_LEN 30
#define HUFFMAN_EOS	256

/* Codes per length, 0..30 bits. */
static const uint8_t codes_per_len[HUFFMAN_MAX_LEN + 1] = {
	0, 0, 0, 0, 0, 10, 26, 32, 6,  0, 5,  3,  2,  6, 2, 3,
	0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4,
};

/* Symbols in code order; 256 is EOS. */
static const uint16_t sym_by_code[257] = {
	48,  49,  50,  97,  99,	 101, 105, 111, 115, 116, 32,  37,  45,	 46,  47,  51,	52,  53,
	54,  55,  56,  57,  61,	 65,  95,  98,	100, 102, 103, 104, 108, 109, 110, 112, 114, 117,
	58,  66,  67,  68,  69,	 70,  71,  72,	73,  74,  75,  76,  77,	 78,  79,  80,	81,  82,
	83,  84,  85,  86,  87,	 89,  106, 107, 113, 118, 119, 120, 121, 122, 38,  42,	44,  59,
	88,  90,  33,  34,  40,	 41,  63,  39,	43,  124, 35,  62,  0,	 36,  64,  91,	93,  126,
	94,  125, 60,  96,  123, 92,  195, 208, 128, 130, 131, 162, 184, 194, 224, 226, 153, 161,
	167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, 129, 132, 133, 134, 136, 146, 154,
	156, 160, 163, 164, 169, 170, 173, 178, 181, 185, 186, 187, 189, 190, 196, 198, 228, 232,
	233, 1,	  135, 137, 138, 139, 140, 141, 143, 147, 149, 150, 151, 152, 155, 157, 158, 165,
	166, 168, 174, 175, 180, 182, 183, 188, 191, 197, 231, 239, 9,	 142, 144, 145, 148, 159,
	171, 206, 215, 225, 236, 237, 199, 207, 234, 235, 192, 193, 200, 201, 202, 205, 210, 213,
	218, 219, 238, 240, 242, 243, 255, 203, 204, 211, 212, 214, 221, 222, 223, 241, 244, 245,
	246, 247, 248, 250, 251, 252, 253, 254, 2,   3,	  4,   5,   6,	 7,   8,   11,	12,  14,
	15,  16,  17,  18,  19,	 20,  21,  23,	24,  25,  26,  27,  28,	 29,  30,  31,	127, 220,
	249, 10,  13,  22,  256,
};

long hpack_huffman_decode(const uint8_t *in, size_t len, char *out)
{
	uint32_t code = 0;  /* bits of the symbol being read */
	uint32_t first = 0; /* first code of the current length */
	uint32_t rank = 0;  /* position of that code in sym_by_code */
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		for (int shift = 7; shift >= 0; shift--) {
			uint32_t n = codes_per_len[bits];

			/* One bit longer: the next length's codes start after this one's. */
			first = (first + n) << 1;
			rank += n;
			bits++;
			code = (code << 1) | ((in[i] >> shift) & 1);
			if (code - first < codes_per_len[bits]) {
				uint16_t sym = sym_by_code[rank + code - first];

				/* §5.2: an EOS symbol in a string is a decoding error. */
				if (sym == HUFFMAN_EOS)
					return -EBADMSG;
				out[o++] = (char)sym;
				code = first = rank = 0;
				bits = 0;
			} else if (bits >= HUFFMAN_MAX_LEN) {
				return -EBADMSG;
			}
		}
	}
	/* §5.2: padding is at most 7 bits, all ones (the start of EOS). */
	if (bits > 7 || code != (1u << bits) - 1)
		return -EBADMSG;
	return (long)o;
}
