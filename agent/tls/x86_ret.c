/* SPDX-License-Identifier: MIT */
#include <capstone/capstone.h>
#include <errno.h>

#include "tls/x86_ret.h"

int x86_find_rets(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, size_t max)
{
	const uint8_t *p = code;
	uint64_t pc = addr;
	size_t left = len;
	cs_insn *insn;
	csh cs;
	int n = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return -ENOMEM;
	}
	while (left > 0) {
		if (!cs_disasm_iter(cs, &p, &left, &pc, insn)) {
			n = -EILSEQ;
			break;
		}
		/* ret and ret imm16 (C3, C2); not far returns, which Go never emits */
		if (insn->id == X86_INS_RET) {
			if ((size_t)n < max)
				out[n] = insn->address;
			n++;
		}
	}
	cs_free(insn, 1);
	cs_close(&cs);
	return n;
}
