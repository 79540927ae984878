/* SPDX-License-Identifier: MIT */
/*
 * Go's internal register ABI (Go 1.17+ on x86-64, 1.18+ on arm64), as uprobes
 * see it: where the first integer arguments and results are, and the register
 * that holds the current goroutine (g) in Go code.
 *   x86-64: arguments and results in RAX, RBX, RCX, RDI, …; g in R14.
 *   arm64:  arguments and results in R0, R1, R2, …;        g in R28.
 * A slice argument takes three registers (pointer, length, capacity), a
 * method's receiver the first one.
 */
#ifndef SONDE_GO_ABI_BPF_H
#define SONDE_GO_ABI_BPF_H

#if defined(__TARGET_ARCH_x86)
#define GO_PARM1(x) ((x)->ax)
#define GO_PARM2(x) ((x)->bx)
#define GO_PARM3(x) ((x)->cx)
#define GO_RET1(x)  ((x)->ax)
#define GO_G(x)	    ((x)->r14)
#elif defined(__TARGET_ARCH_arm64)
#define GO_PARM1(x) ((x)->regs[0])
#define GO_PARM2(x) ((x)->regs[1])
#define GO_PARM3(x) ((x)->regs[2])
#define GO_RET1(x)  ((x)->regs[0])
#define GO_G(x)	    ((x)->regs[28])
#else
#error "Go's register ABI is not described for this architecture (__TARGET_ARCH_x86, _arm64)"
#endif

#endif /* SONDE_GO_ABI_BPF_H */
