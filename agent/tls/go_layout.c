/* SPDX-License-Identifier: MIT */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tls/go_layout.h"

/*
 * Offsets per Go release, checked against the DWARF of binaries built with
 * each: tls.Conn starts with conn; TCPConn is struct{conn} and conn is
 * struct{fd *netFD}; netFD starts with pfd; poll.FD is {fdmu fdMutex (a
 * uint64 and two uint32), Sysfd int, …}. Unchanged from Go 1.17 to 1.23;
 * a release that moves one gets a row.
 */
static const struct {
	unsigned major, minor; /* first release the row applies to */
	struct go_tls_layout layout;
} layouts[] = {
	{ 1, 17, { .tls_conn_conn = 0, .net_conn_fd = 0, .netfd_pfd = 0, .pfd_sysfd = 16 } },
};

int go_layout_for_version(unsigned major, unsigned minor, struct go_tls_layout *out)
{
	int found = -ENOTSUP;

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (major > layouts[i].major ||
		    (major == layouts[i].major && minor >= layouts[i].minor)) {
			*out = layouts[i].layout;
			found = 0;
		}
	}
	return found;
}

struct wanted {
	const char *type;
	const char *member;
	uint32_t *dst;
	bool found;
};

static void read_members(Dwarf_Die *type, struct wanted *w)
{
	Dwarf_Die child;

	if (dwarf_child(type, &child))
		return;
	do {
		Dwarf_Attribute attr;
		Dwarf_Word off;
		const char *name;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		name = dwarf_diename(&child);
		if (!name || strcmp(name, w->member))
			continue;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &attr) ||
		    dwarf_formudata(&attr, &off))
			return;
		*w->dst = (uint32_t)off;
		w->found = true;
		return;
	} while (dwarf_siblingof(&child, &child) == 0);
}

int go_layout_from_dwarf(const char *path, struct go_tls_layout *out)
{
	struct go_tls_layout l = { 0 };
	struct wanted w[] = {
		{ "crypto/tls.Conn", "conn", &l.tls_conn_conn },
		{ "net.conn", "fd", &l.net_conn_fd },
		{ "net.netFD", "pfd", &l.netfd_pfd },
		{ "internal/poll.FD", "Sysfd", &l.pfd_sysfd },
	};
	const size_t nw = sizeof(w) / sizeof(w[0]);
	Dwarf_Off off = 0, next;
	size_t hsize, nfound = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Dwarf *dw;

	if (fd < 0)
		return -errno;
	dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return -ENOENT;
	}
	/* Go puts its types at the top level of its compilation units. */
	while (nfound < nw && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;

		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *name;

				if (dwarf_tag(&die) != DW_TAG_structure_type)
					continue;
				name = dwarf_diename(&die);
				for (size_t i = 0; name && i < nw; i++) {
					if (w[i].found || strcmp(name, w[i].type))
						continue;
					read_members(&die, &w[i]);
					nfound += w[i].found;
				}
			} while (nfound < nw && dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	close(fd);
	if (nfound < nw)
		return -ENOENT;
	*out = l;
	return 0;
}
