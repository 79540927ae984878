# SPDX-License-Identifier: MIT
# sonde build. `make` builds build/sonde; `make test` runs unit and integration
# tests; `make STATIC=1` links statically (for VM tests); `make SANITIZE=1`
# adds ASan/UBSan to the agent and unit tests; `V=1` shows commands.

OUTPUT ?= build
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
CLANG ?= clang
CC ?= cc
BPFTOOL ?= bpftool
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

VMLINUX := vmlinux/$(ARCH)
INCLUDES := -Iinclude -I$(OUTPUT) -Iagent

CFLAGS ?= -g -O2
CFLAGS += -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	  -DSONDE_VERSION='"$(VERSION)"'
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(VMLINUX) -Iinclude -Ibpf
LIBS := -lbpf -lelf -lz -lpthread -lm

ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(STATIC),1)
LDFLAGS += -static
LIBS += -lzstd
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Pure code: no BPF, no I/O. Linked into the agent, the unit tests and fuzzers.
PURE_SRCS := agent/proto/http1.c agent/span.c agent/http1_spans.c agent/summary.c \
	     agent/json.c agent/format.c agent/conn_table.c agent/ingest.c agent/clock.c
AGENT_SRCS := $(PURE_SRCS) agent/main.c agent/log.c agent/cmd_trace.c agent/cmd_probe.c \
	      agent/tracer.c agent/mounts.c agent/kernel_features.c agent/output.c agent/proc.c \
	      agent/prog_stats.c
PURE_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(PURE_SRCS))
AGENT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(AGENT_SRCS))
BPF_OBJ := $(OUTPUT)/sonde.bpf.o
SKEL := $(OUTPUT)/sonde.skel.h

UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))
UNIT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Wshadow \
	       -Wno-missing-field-initializers -fsanitize=address,undefined -fno-omit-frame-pointer \
	       $(INCLUDES) -Iagent/proto

.DELETE_ON_ERROR:
.PHONY: all clean test test-unit test-integration demo format format-check vmtest

all: $(OUTPUT)/sonde

$(OUTPUT)/sonde: $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/%.o: %.c $(SKEL) $(wildcard include/*.h agent/*.h agent/proto/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

$(BPF_OBJ): bpf/sonde.bpf.c $(wildcard bpf/*.bpf.h) include/sonde_event.h $(VMLINUX)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(OUTPUT)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name sonde_bpf > $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(PURE_SRCS) $(wildcard agent/*.h agent/proto/*.h)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(UNIT_CFLAGS) $< $(PURE_SRCS) -lcmocka -lm -o $@

test-unit: $(UNIT_TESTS)
	$(Q)set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

test-integration: $(OUTPUT)/sonde
	$(Q)tests/integration/run.sh

test: format-check test-unit fuzz-smoke test-integration vmtest

# The kernel matrix (vmtest.toml): tools/vmtest boots each kernel under qemu
# with the static agent and the test server; the host kernel runs the same
# checks directly. VMTEST_ARGS='-f 6.12' picks targets.
STATIC_OUTPUT := build-static
VM_SERVER := $(OUTPUT)/vm/http_server

$(VM_SERVER): tests/vm/http_server.c
	$(call msg,CC-VM,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wshadow -static $< -o $@

vmtest: $(VM_SERVER)
	$(Q)$(MAKE) --no-print-directory STATIC=1 SANITIZE= OUTPUT=$(STATIC_OUTPUT) \
		$(STATIC_OUTPUT)/sonde
	$(Q)tools/vmtest --sonde $(STATIC_OUTPUT)/sonde --server $(VM_SERVER) \
		--logs $(OUTPUT)/vmtest $(VMTEST_ARGS)

demo: $(OUTPUT)/sonde
	$(Q)tools/demo.sh

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

format-check:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

# Coverage-guided fuzzing of the pure parsers (clang's libFuzzer).
FUZZERS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(PURE_SRCS) $(wildcard agent/*.h agent/proto/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		$(INCLUDES) -Iagent/proto $< $(PURE_SRCS) -lm -o $@

.PHONY: fuzz fuzz-smoke
fuzz: $(FUZZERS)

# A short run of each fuzzer, part of `make test`.
fuzz-smoke: $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do echo "== $$f"; $$f -max_total_time=15 -seed=1 2>&1 | tail -1; done
