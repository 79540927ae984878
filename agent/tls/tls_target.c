/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/arm64_ret.h"
#include "tls/elf_file.h"
#include "tls/go_buildinfo.h"
#include "tls/go_pclntab.h"
#include "tls/tls_target.h"
#include "tls/x86_ret.h"

#define GO_READ	 "crypto/tls.(*Conn).Read"
#define GO_WRITE "crypto/tls.(*Conn).Write"
/* go.itab. until Go 1.19, go:itab. since 1.20 */
#define GO_ITAB_119 "go.itab.*net.TCPConn,net.Conn"
#define GO_ITAB_120 "go:itab.*net.TCPConn,net.Conn"

/* The machine the agent (and so its BPF programs) was built for. */
#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#error "TLS hooks are written for x86-64 and arm64 only"
#endif

/* OpenSSL functions, with the programs for their entry and return. */
static const struct {
	const char *func;
	enum tls_prog enter, ret;
	bool required;
} ssl_funcs[] = {
	{ "SSL_read", TLS_PROG_SSL_READ, TLS_PROG_SSL_READ_RET, true },
	{ "SSL_write", TLS_PROG_SSL_WRITE, TLS_PROG_SSL_WRITE_RET, true },
	/* OpenSSL 1.1.1+ */
	{ "SSL_read_ex", TLS_PROG_SSL_READ_EX, TLS_PROG_SSL_READ_EX_RET, false },
	{ "SSL_write_ex", TLS_PROG_SSL_WRITE_EX, TLS_PROG_SSL_WRITE_EX_RET, false },
	{ "SSL_set_fd", TLS_PROG_SSL_SET_FD, TLS_PROG__MAX, false },
};
#define NSSL (sizeof(ssl_funcs) / sizeof(ssl_funcs[0]))

const char *tls_kind_name(enum tls_kind k)
{
	switch (k) {
	case TLS_KIND_OPENSSL:
		return "openssl";
	case TLS_KIND_OPENSSL_STATIC:
		return "openssl-static";
	case TLS_KIND_GO:
		return "go";
	default:
		return "none";
	}
}

const char *tls_prog_func(enum tls_prog p)
{
	static const char *const names[TLS_PROG__MAX] = {
		[TLS_PROG_SSL_READ] = "SSL_read",
		[TLS_PROG_SSL_READ_RET] = "SSL_read",
		[TLS_PROG_SSL_READ_EX] = "SSL_read_ex",
		[TLS_PROG_SSL_READ_EX_RET] = "SSL_read_ex",
		[TLS_PROG_SSL_WRITE] = "SSL_write",
		[TLS_PROG_SSL_WRITE_RET] = "SSL_write",
		[TLS_PROG_SSL_WRITE_EX] = "SSL_write_ex",
		[TLS_PROG_SSL_WRITE_EX_RET] = "SSL_write_ex",
		[TLS_PROG_SSL_SET_FD] = "SSL_set_fd",
		[TLS_PROG_GO_ENTER] = "crypto/tls Read,Write",
		[TLS_PROG_GO_READ_RET] = "crypto/tls Read RETs",
		[TLS_PROG_GO_WRITE_RET] = "crypto/tls Write RETs",
	};

	return p < TLS_PROG__MAX ? names[p] : "";
}

static int add(struct tls_target *t, enum tls_prog prog, bool ret, uint64_t offset,
	       const char *func)
{
	struct tls_uprobe *u;

	if (t->n == TLS_MAX_UPROBES)
		return -E2BIG;
	u = &t->probes[t->n++];
	u->prog = prog;
	u->retprobe = ret;
	u->offset = offset;
	snprintf(u->func, sizeof(u->func), "%s", func);
	return 0;
}

static int inspect_openssl(struct elf_file *ef, bool libssl, struct tls_target *t)
{
	const char *names[NSSL];
	struct elf_sym syms[NSSL];
	uint64_t off;

	for (size_t i = 0; i < NSSL; i++)
		names[i] = ssl_funcs[i].func;
	elf_file_find_syms(ef, names, NSSL, syms);
	for (size_t i = 0; i < NSSL; i++)
		if (ssl_funcs[i].required && !syms[i].addr)
			return 0;
	for (size_t i = 0; i < NSSL; i++) {
		if (!syms[i].addr || elf_file_offset(ef, syms[i].addr, &off))
			continue;
		add(t, ssl_funcs[i].enter, false, off, names[i]);
		if (ssl_funcs[i].ret != TLS_PROG__MAX)
			add(t, ssl_funcs[i].ret, true, off, names[i]);
	}
	t->kind = libssl ? TLS_KIND_OPENSSL : TLS_KIND_OPENSSL_STATIC;
	return 0;
}

static int read_at(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return elf_file_read(ctx, addr, buf, len);
}

/* Entry and end of a Go function: from the symbol table, else .gopclntab. */
static int go_func(struct elf_file *ef, const char *name, struct go_func *f, bool *symtab)
{
	struct elf_sym sym;
	const uint8_t *tab;
	uint64_t text = 0;
	size_t size;

	if (elf_file_find_syms(ef, &name, 1, &sym) == 1 && sym.size) {
		f->entry = sym.addr;
		f->end = sym.addr + sym.size;
		*symtab = true;
		return 0;
	}
	*symtab = false;
	elf_file_section(ef, ".text", &size, &text);
	tab = elf_file_section(ef, ".gopclntab", &size, NULL);
	if (!tab)
		return -ENOENT;
	return go_pclntab_find(tab, size, text, name, f);
}

/* The RETs of a function's code, decoded as its architecture's. */
static int find_rets(uint16_t machine, const uint8_t *code, size_t len, uint64_t addr,
		     uint64_t *out, size_t max)
{
	switch (machine) {
	case EM_X86_64:
		return x86_find_rets(code, len, addr, out, max);
	case EM_AARCH64:
		return arm64_find_rets(code, len, addr, out, max);
	default:
		return -ENOTSUP;
	}
}

/* The first Go release whose functions take their arguments in registers
 * there (before it: on the stack, which go_abi.bpf.h does not read). */
static unsigned go_regabi_minor(uint16_t machine)
{
	return machine == EM_AARCH64 ? 18 : 17;
}

/* The entry uprobe and one uprobe per RET of one function. */
static int hook_go_func(struct elf_file *ef, const char *name, enum tls_prog ret_prog,
			struct tls_target *t, char *why, size_t why_len)
{
	uint64_t rets[TLS_GO_MAX_RETS], off;
	struct go_func f;
	uint8_t *code;
	size_t len;
	int n, err;

	err = go_func(ef, name, &f, &t->symtab);
	if (err)
		return err;
	len = f.end - f.entry;
	if (len > 1 << 20)
		return -EINVAL;
	code = malloc(len);
	if (!code)
		return -ENOMEM;
	err = elf_file_read(ef, f.entry, code, len);
	n = err ? err : find_rets(elf_file_machine(ef), code, len, f.entry, rets, TLS_GO_MAX_RETS);
	free(code);
	if (n <= 0 || n > TLS_GO_MAX_RETS) {
		snprintf(why, why_len, "%s: %s", name,
			 n == 0	 ? "no RET instruction"
			 : n > 0 ? "too many RET instructions"
				 : "machine code does not decode");
		return -EINVAL;
	}
	if (elf_file_offset(ef, f.entry, &off) || add(t, TLS_PROG_GO_ENTER, false, off, name))
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (elf_file_offset(ef, rets[i], &off))
			return -EINVAL;
		err = add(t, ret_prog, false, off, name);
		if (err)
			return err;
	}
	return 0;
}

static int inspect_go(struct elf_file *ef, const char *path, struct tls_target *t, char *why,
		      size_t why_len)
{
	const char *itab[] = { GO_ITAB_119, GO_ITAB_120 };
	struct elf_sym sym[2];
	const uint8_t *info;
	unsigned major, minor;
	size_t size;
	int err;

	info = elf_file_section(ef, ".go.buildinfo", &size, NULL);
	if (!info)
		return 0; /* not Go, or too old to say */
	if (go_buildinfo_version(info, size, read_at, ef, t->go_version, sizeof(t->go_version)) ||
	    go_version_parse(t->go_version, &major, &minor)) {
		snprintf(why, why_len, "Go build info does not say which version");
		return 0;
	}
	if (major == 1 && minor < go_regabi_minor(elf_file_machine(ef))) {
		snprintf(why, why_len, "%s: before Go 1.%u (stack ABI), not supported",
			 t->go_version, go_regabi_minor(elf_file_machine(ef)));
		return 0;
	}
	err = hook_go_func(ef, GO_READ, TLS_PROG_GO_READ_RET, t, why, why_len);
	if (err == -ENOENT)
		return 0; /* a Go program without crypto/tls */
	if (!err)
		err = hook_go_func(ef, GO_WRITE, TLS_PROG_GO_WRITE_RET, t, why, why_len);
	/* DWARF last: reading it is the slow part, only worth it for a target. */
	if (!err && go_layout_from_dwarf(path, &t->layout) == 0) {
		t->layout_source = "dwarf";
	} else if (!err && go_layout_for_version(major, minor, &t->layout) == 0) {
		t->layout_source = "go version table";
	} else if (!err) {
		snprintf(why, why_len, "%s: no struct offsets known", t->go_version);
		err = -ENOTSUP;
	}
	if (err) {
		t->n = 0;
		return 0;
	}
	/* The itab's address is only known before relocation in non-PIE binaries. */
	if (!elf_file_is_dyn(ef) && elf_file_find_syms(ef, itab, 2, sym) > 0)
		t->tcp_itab = sym[0].addr ? sym[0].addr : sym[1].addr;
	t->kind = TLS_KIND_GO;
	return 0;
}

static const char *machine_name(uint16_t machine)
{
	return machine == EM_X86_64    ? "x86-64"
	       : machine == EM_AARCH64 ? "arm64"
				       : "another machine";
}

int tls_target_inspect_machine(const char *path, bool libssl, uint16_t machine,
			       struct tls_target *t, char *why, size_t why_len)
{
	struct elf_file *ef = elf_file_open(path);
	int err;

	memset(t, 0, sizeof(*t));
	if (why_len)
		why[0] = '\0';
	if (!ef)
		return -errno;
	if (elf_file_machine(ef) != machine) {
		snprintf(why, why_len, "code for %s, not %s", machine_name(elf_file_machine(ef)),
			 machine_name(machine));
		elf_file_close(ef);
		return 0;
	}
	err = inspect_openssl(ef, libssl, t);
	if (!err && t->kind == TLS_KIND_NONE)
		err = inspect_go(ef, path, t, why, why_len);
	elf_file_close(ef);
	return err;
}

int tls_target_inspect(const char *path, bool libssl, struct tls_target *t, char *why,
		       size_t why_len)
{
	return tls_target_inspect_machine(path, libssl, HOST_MACHINE, t, why, why_len);
}
