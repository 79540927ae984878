/* SPDX-License-Identifier: MIT */
/*
 * Finding what to hook for TLS, on binaries built here: OpenSSL's functions
 * in a shared library and in a program that exports them, the file offsets a
 * uprobe is placed at, the RET instructions of machine code (and none where
 * a 0xc3 byte is only part of an instruction), and Go's crypto/tls functions
 * with and without a symbol table, with its version and struct offsets, for
 * x86-64 and for arm64.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/elf_file.h"
#include "tls/go_buildinfo.h"
#include "tls/go_pclntab.h"
#include "tls/tls_target.h"
#include "tls/x86_ret.h"

#define GO "/usr/lib/go-1.19/bin/go"

static char dir[64];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Functions whose first bytes are a marker (5-byte nops with a distinct
 * displacement) so a test can check the byte found at a file offset. */
static const char ssl_asm[] = ".text\n"
			      ".macro fn name, mark\n"
			      ".globl \\name\n"
			      ".type \\name, @function\n"
			      "\\name:\n"
			      ".byte 0x0f, 0x1f, 0x44, 0x00, \\mark\n"
			      "xor %eax, %eax\n"
			      "ret\n"
			      ".size \\name, .-\\name\n"
			      ".endm\n"
			      "fn SSL_read, 0x01\n"
			      "fn SSL_write, 0x02\n"
			      "fn SSL_read_ex, 0x03\n"
			      "fn SSL_write_ex, 0x04\n"
			      "fn SSL_set_fd, 0x05\n"
			      ".section .note.GNU-stack,\"\",@progbits\n";

/*
 * RETs in a function where 0xc3 also appears inside instructions: an
 * immediate, a displacement, a ModRM byte (add %eax,%ebx is 01 c3). RETs at
 * offsets 5 (ret), 22 (ret $8) and 33 (ret after a 0xc3 displacement); the
 * byte 0xc3 is at ten other places.
 */
static const char rets_asm[] = ".text\n"
			       ".globl tricky\n"
			       ".type tricky, @function\n"
			       "tricky:\n"
			       "mov $0xc3c3c3c3, %eax\n"  /* 0: b8 c3 c3 c3 c3 */
			       "ret\n"			  /* 5: c3 */
			       "add %eax, %ebx\n"	  /* 6: 01 c3 */
			       "cmpb $0xc3, 0xc3(%rax)\n" /* 8: 80 b8 c3 00 00 00 c3 */
			       "lea 0xc3(%rip), %rax\n"	  /* 15: 48 8d 05 c3 00 00 00 */
			       "ret $8\n"		  /* 22: c2 08 00 */
			       "movb $0xc3, %al\n"	  /* 25: b0 c3 */
			       "mov 0xc3(%rbx), %ecx\n"	  /* 27: 8b 8b c3 00 00 00 */
			       "ret\n"			  /* 33: c3 */
			       "int3\n"
			       ".size tricky, .-tricky\n"
			       ".section .note.GNU-stack,\"\",@progbits\n";

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sonde-unit-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_file("ssl.s", ssl_asm);
	write_file("rets.s", rets_asm);
	write_file("main.c", "int main(void) { return 0; }\n");
	run("cd %s && cc -shared -o libssl.so.3 ssl.s && cc -rdynamic -o static_ssl main.c ssl.s "
	    "&& cc -o plain main.c && cc -c -o rets.o rets.s && cc -shared -o librets.so rets.s",
	    dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	run("rm -rf %s", dir);
	return 0;
}

static char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

/* The byte a uprobe at this file offset would replace: the marker's. */
static uint8_t byte_at(const char *name, uint64_t off, size_t extra)
{
	FILE *f = fopen(path_of(name), "rb");
	uint8_t b[8];

	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fread(b, 1, sizeof(b), f), sizeof(b));
	fclose(f);
	return b[extra];
}

static void check_openssl(const char *name, bool libssl, enum tls_kind kind)
{
	struct tls_target *t = calloc(1, sizeof(*t));
	char why[128];
	int entries = 0, rets = 0;

	assert_int_equal(tls_target_inspect(path_of(name), libssl, t, why, sizeof(why)), 0);
	assert_int_equal(t->kind, kind);
	/* four functions with entry and return, SSL_set_fd with entry only */
	assert_int_equal(t->n, 9);
	for (size_t i = 0; i < t->n; i++) {
		const struct tls_uprobe *u = &t->probes[i];
		uint8_t mark = !strcmp(u->func, "SSL_read")	  ? 1
			       : !strcmp(u->func, "SSL_write")	  ? 2
			       : !strcmp(u->func, "SSL_read_ex")  ? 3
			       : !strcmp(u->func, "SSL_write_ex") ? 4
								  : 5;

		assert_int_equal(byte_at(name, u->offset, 0), 0x0f);
		assert_int_equal(byte_at(name, u->offset, 4), mark);
		assert_string_equal(tls_prog_func(u->prog), u->func);
		if (u->retprobe)
			rets++;
		else
			entries++;
	}
	assert_int_equal(entries, 5);
	assert_int_equal(rets, 4);
	free(t);
}

static void test_openssl_shared_library(void **state)
{
	(void)state;
	check_openssl("libssl.so.3", true, TLS_KIND_OPENSSL);
}

static void test_openssl_exported_by_a_program(void **state)
{
	(void)state;
	check_openssl("static_ssl", false, TLS_KIND_OPENSSL_STATIC);
}

static void test_plain_program_has_nothing(void **state)
{
	struct tls_target *t = calloc(1, sizeof(*t));
	char why[128];

	(void)state;
	assert_int_equal(tls_target_inspect(path_of("plain"), false, t, why, sizeof(why)), 0);
	assert_int_equal(t->kind, TLS_KIND_NONE);
	assert_int_equal(t->n, 0);
	assert_int_equal(tls_target_inspect(path_of("main.c"), false, t, why, sizeof(why)),
			 -ENOEXEC);
	free(t);
}

static void test_ret_finder_on_built_code(void **state)
{
	const char *name = "tricky";
	struct elf_file *ef = elf_file_open(path_of("librets.so"));
	struct elf_sym sym;
	uint64_t rets[8];
	uint8_t code[64];
	int n;

	(void)state;
	assert_non_null(ef);
	assert_int_equal(elf_file_find_syms(ef, &name, 1, &sym), 1);
	assert_true(sym.size > 30 && sym.size < sizeof(code));
	assert_int_equal(elf_file_read(ef, sym.addr, code, sym.size), 0);
	n = x86_find_rets(code, sym.size, sym.addr, rets, 8);
	assert_int_equal(n, 3);
	assert_int_equal(rets[0] - sym.addr, 5);
	assert_int_equal(rets[1] - sym.addr, 22);
	assert_int_equal(rets[2] - sym.addr, 33);
	/* a scan for the byte would have found twelve */
	n = 0;
	for (size_t i = 0; i < sym.size; i++)
		n += code[i] == 0xc3;
	assert_int_equal(n, 12);
	elf_file_close(ef);
}

static void test_ret_finder_rejects_undecodable_code(void **state)
{
	/* ret, then a mov with its immediate cut short */
	const uint8_t cut[] = { 0xc3, 0xb8, 0xc3, 0xc3 };
	uint64_t rets[4];

	(void)state;
	assert_int_equal(x86_find_rets(cut, sizeof(cut), 0x1000, rets, 4), -EILSEQ);
	assert_int_equal(x86_find_rets(cut, 1, 0x1000, rets, 4), 1);
	assert_int_equal(rets[0], 0x1000);
}

static int read_fake(void *ctx, uint64_t addr, void *buf, size_t len)
{
	/* pre-1.18 build info: a string header at 0x2000 for "go1.17.13" at 0x3000 */
	static const uint8_t hdr[16] = { 0x00, 0x30, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0 };

	(void)ctx;
	if (addr == 0x2000 && len == 16)
		memcpy(buf, hdr, 16);
	else if (addr == 0x3000 && len == 9)
		memcpy(buf, "go1.17.13", 9);
	else
		return -EFAULT;
	return 0;
}

static void test_go_buildinfo_formats(void **state)
{
	uint8_t sec[64] = "\xff Go buildinf:";
	unsigned major, minor;
	char v[32];

	(void)state;
	/* 1.18+: flags bit 1, then uvarint length and the string */
	sec[14] = 8;
	sec[15] = 2;
	sec[32] = 8;
	memcpy(sec + 33, "go1.21.5", 8);
	assert_int_equal(go_buildinfo_version(sec, sizeof(sec), NULL, NULL, v, sizeof(v)), 0);
	assert_string_equal(v, "go1.21.5");
	/* before 1.18: a pointer to a string header */
	sec[15] = 0;
	memset(sec + 16, 0, 16);
	sec[17] = 0x20; /* 0x2000 */
	assert_int_equal(go_buildinfo_version(sec, sizeof(sec), read_fake, NULL, v, sizeof(v)), 0);
	assert_string_equal(v, "go1.17.13");
	sec[0] = 0;
	assert_int_equal(go_buildinfo_version(sec, sizeof(sec), read_fake, NULL, v, sizeof(v)),
			 -EINVAL);
	assert_int_equal(go_version_parse("go1.21rc2", &major, &minor), 0);
	assert_int_equal(major * 100 + minor, 121);
	assert_int_equal(go_version_parse("devel +abc", &major, &minor), -EINVAL);
}

static const char go_program[] = "package main\n"
				 "import (\"crypto/tls\"; \"os\")\n"
				 "func main() {\n"
				 "\tc, err := tls.Dial(\"tcp\", os.Args[1], &tls.Config{})\n"
				 "\tif err == nil {\n"
				 "\t\tc.Write([]byte(\"x\"))\n"
				 "\t\tc.Read(make([]byte, 1))\n"
				 "\t}\n"
				 "}\n";

/* RET addresses of fn in the disassembly of path by objdump (x86-64) or
 * llvm-objdump (any architecture): the oracle. */
static int objdump_rets(const char *objdump, const char *path, const char *fn, uint64_t *out,
			size_t max)
{
	char cmd[512], line[512];
	bool in = false;
	int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -d --no-show-raw-insn %s", objdump, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *end;
		unsigned long long a;

		if (strchr(line, '<') && strstr(line, ">:")) {
			char want[128];

			snprintf(want, sizeof(want), "<%s>:", fn);
			in = strstr(line, want) != NULL;
			continue;
		}
		if (!in)
			continue;
		a = strtoull(line, &end, 16);
		if (*end == ':' && strstr(end, "\tret") && (size_t)n < max)
			out[n++] = a;
	}
	pclose(p);
	return n;
}

static void test_go_crypto_tls(void **state)
{
	struct tls_target *t = calloc(1, sizeof(*t)), *s = calloc(1, sizeof(*s));
	struct go_tls_layout table;
	uint64_t want[TLS_GO_MAX_RETS];
	struct elf_file *ef;
	struct go_func f;
	const char *name = "crypto/tls.(*Conn).Read";
	struct elf_sym sym;
	const uint8_t *tab;
	uint64_t text = 0, off;
	size_t size, nret = 0;
	char why[128];
	int n;

	(void)state;
	if (access(GO, X_OK)) {
		fail_msg("%s is missing (tools/install-deps.sh installs golang-1.19-go)", GO);
		return;
	}
	write_file("main.go", go_program);
	run("cd %s && export GO111MODULE=off GOCACHE=%s/cache GOPATH=%s/gopath HOME=%s "
	    "CGO_ENABLED=0 && %s build -o gosym main.go && %s build -ldflags='-s -w' -o gostrip "
	    "main.go",
	    dir, dir, dir, dir, GO, GO);

	/* With a symbol table and DWARF */
	assert_int_equal(tls_target_inspect(path_of("gosym"), false, t, why, sizeof(why)), 0);
	assert_int_equal(t->kind, TLS_KIND_GO);
	assert_true(!strncmp(t->go_version, "go1.19", 6));
	assert_true(t->symtab);
	assert_string_equal(t->layout_source, "dwarf");
	assert_int_equal(go_layout_for_version(1, 19, &table), 0);
	assert_memory_equal(&t->layout, &table, sizeof(table));
	assert_true(t->tcp_itab != 0);
	/* Every RET objdump sees in Read, and nothing else, has a uprobe. */
	n = objdump_rets("objdump", path_of("gosym"), name, want, TLS_GO_MAX_RETS);
	assert_true(n > 0);
	ef = elf_file_open(path_of("gosym"));
	assert_non_null(ef);
	for (size_t i = 0; i < t->n; i++) {
		if (t->probes[i].prog != TLS_PROG_GO_READ_RET)
			continue;
		assert_int_equal(elf_file_offset(ef, want[nret], &off), 0);
		assert_int_equal(t->probes[i].offset, off);
		nret++;
	}
	assert_int_equal(nret, n);

	/* .gopclntab agrees with the symbol table on where Read starts and ends */
	assert_int_equal(elf_file_find_syms(ef, &name, 1, &sym), 1);
	elf_file_section(ef, ".text", &size, &text);
	tab = elf_file_section(ef, ".gopclntab", &size, NULL);
	assert_non_null(tab);
	assert_int_equal(go_pclntab_find(tab, size, text, name, &f), 0);
	assert_int_equal(f.entry, sym.addr);
	assert_true(f.end >= sym.addr + sym.size && f.end < sym.addr + sym.size + 64);
	assert_int_equal(go_pclntab_find(tab, size, text, "no.such", &f), -ENOENT);
	assert_int_equal(go_pclntab_find(tab, 16, text, name, &f), -EINVAL);
	elf_file_close(ef);

	/* Stripped: the same hooks, found through .gopclntab and the table */
	assert_int_equal(tls_target_inspect(path_of("gostrip"), false, s, why, sizeof(why)), 0);
	assert_int_equal(s->kind, TLS_KIND_GO);
	assert_false(s->symtab);
	assert_string_equal(s->layout_source, "go version table");
	assert_int_equal(s->n, t->n);
	for (size_t i = 0; i < s->n; i++)
		assert_int_equal(s->probes[i].prog, t->probes[i].prog);
	free(t);
	free(s);
}

/* The same program built for arm64 (Go cross-compiles by itself): its RETs
 * found as arm64 code, the rest as on x86-64; and an x86-64 agent leaves it
 * alone, since its BPF programs read x86-64 registers. */
static void test_go_crypto_tls_arm64(void **state)
{
	struct tls_target *t = calloc(1, sizeof(*t));
	uint64_t want[TLS_GO_MAX_RETS];
	struct elf_file *ef;
	size_t nret = 0, nenter = 0;
	uint64_t off;
	char why[128];
	int n;

	(void)state;
	write_file("main.go", go_program);
	run("cd %s && export GO111MODULE=off GOCACHE=%s/cache GOPATH=%s/gopath HOME=%s "
	    "CGO_ENABLED=0 GOARCH=arm64 && %s build -o goarm64 main.go",
	    dir, dir, dir, dir, GO);
	assert_int_equal(tls_target_inspect_machine(path_of("goarm64"), false, EM_AARCH64, t, why,
						    sizeof(why)),
			 0);
	assert_int_equal(t->kind, TLS_KIND_GO);
	assert_true(t->symtab);
	assert_string_equal(t->layout_source, "dwarf");
	n = objdump_rets("llvm-objdump", path_of("goarm64"), "crypto/tls.(*Conn).Write", want,
			 TLS_GO_MAX_RETS);
	assert_true(n > 0);
	ef = elf_file_open(path_of("goarm64"));
	assert_non_null(ef);
	assert_int_equal(elf_file_machine(ef), EM_AARCH64);
	for (size_t i = 0; i < t->n; i++) {
		nenter += t->probes[i].prog == TLS_PROG_GO_ENTER;
		if (t->probes[i].prog != TLS_PROG_GO_WRITE_RET)
			continue;
		assert_int_equal(elf_file_offset(ef, want[nret], &off), 0);
		assert_int_equal(t->probes[i].offset, off);
		nret++;
	}
	assert_int_equal(nret, n);
	assert_int_equal(nenter, 2);
	elf_file_close(ef);

	assert_int_equal(tls_target_inspect_machine(path_of("goarm64"), false, EM_X86_64, t, why,
						    sizeof(why)),
			 0);
	assert_int_equal(t->kind, TLS_KIND_NONE);
	assert_int_equal(t->n, 0);
	assert_string_equal(why, "code for arm64, not x86-64");
	free(t);
}

static void test_go_buildinfo_of_built_binary(void **state)
{
	struct elf_file *ef;
	const uint8_t *sec;
	char v[32];
	size_t size;

	(void)state;
	ef = elf_file_open(path_of("gostrip"));
	assert_non_null(ef);
	sec = elf_file_section(ef, ".go.buildinfo", &size, NULL);
	assert_non_null(sec);
	assert_int_equal(go_buildinfo_version(sec, size, NULL, NULL, v, sizeof(v)), 0);
	assert_true(!strncmp(v, "go1.19.", 7));
	elf_file_close(ef);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openssl_shared_library),
		cmocka_unit_test(test_openssl_exported_by_a_program),
		cmocka_unit_test(test_plain_program_has_nothing),
		cmocka_unit_test(test_ret_finder_on_built_code),
		cmocka_unit_test(test_ret_finder_rejects_undecodable_code),
		cmocka_unit_test(test_go_buildinfo_formats),
		cmocka_unit_test(test_go_crypto_tls),
		cmocka_unit_test(test_go_crypto_tls_arm64),
		cmocka_unit_test(test_go_buildinfo_of_built_binary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
