# cairn — build, test, install. See README.md.

PREFIX ?= /usr/local
# e2e modules run in this many worker processes (each module has its own moto).
E2E_JOBS ?= 3
CC ?= cc
PKGS := libcurl libcrypto jansson sqlite3 yaml-0.1 expat
TEST_PKGS := cmocka
DEBIAN_PKGS := build-essential pkg-config libcurl4-openssl-dev libssl-dev libjansson-dev \
	libsqlite3-dev libyaml-dev libexpat1-dev libcmocka-dev python3 valgrind \
	cmark-gfm \
	clang libclang-rt-dev

B := build
ifeq ($(SANITIZE),1)
B := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# FUZZ=1 (used by `make fuzz`): the library built by clang with coverage for
# libFuzzer plus ASan+UBSan, objects in build-fuzz/.
ifeq ($(FUZZ),1)
B := build-fuzz
CC := clang
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
# clang's -Wformat=2 also flags vprintf-style wrappers, which gcc accepts.
FUZZ_WARN := -Wno-format-nonliteral
endif

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wformat=2 $(FUZZ_WARN) -pthread -I. $(SANFLAGS)
LDFLAGS_BASE := -pthread $(SANFLAGS)

LIB_SRCS := $(sort $(wildcard lib/*.c engine/*.c state/*.c providers/*.c providers/aws/*.c))
CMD_SRCS := $(sort $(wildcard cmd/*.c))
SCHEMAS := $(sort $(wildcard schemas/*.json))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o) $(B)/schemas_gen.o
CMD_OBJS := $(CMD_SRCS:%.c=$(B)/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)

PKG_CFLAGS = $$(cat $(B)/pkg.cflags)
PKG_LIBS = $$(cat $(B)/pkg.libs)

.PHONY: all test unit e2e deps clean install bench soak demo check-deps layers fuzz fuzz-regress fuzz-run
all: cairn

ifeq ($(SANITIZE),1)
cairn: $(B)/cairn
	@echo "sanitized binary: $(B)/cairn"
else
cairn: $(B)/cairn
	cp $(B)/cairn cairn
endif

# Installs what the build and the tests need (Debian; run as root).
deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PKGS)

# Runs `make deps` on its own when a library is missing, then records the flags.
$(B)/pkg.cflags: Makefile
	@mkdir -p $(B)
	@if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists $(PKGS) $(TEST_PKGS); then \
		echo "cairn: missing build libraries; running 'make deps'"; \
		$(MAKE) --no-print-directory deps; \
	fi
	@pkg-config --cflags $(PKGS) > $(B)/pkg.cflags
	@pkg-config --libs $(PKGS) > $(B)/pkg.libs
	@pkg-config --cflags $(TEST_PKGS) > $(B)/pkg.test.cflags
	@pkg-config --libs $(TEST_PKGS) > $(B)/pkg.test.libs

$(B)/%.o: %.c $(B)/pkg.cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Schemas are embedded in the binary: one C string per file.
$(B)/schemas_gen.c: $(SCHEMAS) schemas/embed.sh
	@mkdir -p $(B)
	sh schemas/embed.sh $(SCHEMAS) > $@

$(B)/schemas_gen.o: $(B)/schemas_gen.c $(B)/pkg.cflags
	$(CC) $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(B)/libcairn.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/cairn: $(CMD_OBJS) $(B)/libcairn.a
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(CMD_OBJS) $(B)/libcairn.a $(PKG_LIBS) -lm

$(B)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(B)/libcairn.a $(B)/pkg.cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(PKG_CFLAGS) $$(cat $(B)/pkg.test.cflags) $(CFLAGS) -o $@ $< \
		$(B)/libcairn.a $(LDFLAGS_BASE) $(PKG_LIBS) $$(cat $(B)/pkg.test.libs) -lm

unit: $(UNIT_BINS)
	@sh tests/run_unit.sh $(UNIT_BINS)

e2e: $(B)/cairn
	CAIRN_BIN=$(CURDIR)/$(B)/cairn python3 tests/e2e/run.py -j $(E2E_JOBS)

# The layer rule of SPEC section 1: includes point down, no circle of files.
layers: $(B)/cairn
	python3 tests/layers/check.py $(B)

# Fuzzing (tests/fuzz/README.md): `make fuzz` builds one libFuzzer binary
# per tests/fuzz/fuzz_TARGET.c into build-fuzz/fuzz/; `make fuzz-regress`
# replays every corpus file and fuzzes each target FUZZ_SECONDS;
# `make fuzz-run TARGET=x FUZZ_SECONDS=600` fuzzes one target longer.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_BINS := $(FUZZ_NAMES:%=build-fuzz/fuzz/fuzz_%)
FUZZ_SECONDS ?= 15

fuzz:
	@if ! command -v clang >/dev/null 2>&1 || \
	    ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
	      clang -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1; then \
		echo "cairn: clang with libFuzzer missing; running 'make deps'"; \
		$(MAKE) --no-print-directory deps; \
	fi
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-bins

ifeq ($(FUZZ),1)
fuzz-bins: $(FUZZ_BINS)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(B)/tests/fuzz/scratch.o $(B)/libcairn.a $(B)/pkg.cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(B)/tests/fuzz/scratch.o $(B)/libcairn.a $(LDFLAGS_BASE) -fsanitize=fuzzer $(PKG_LIBS)
endif

fuzz-regress: fuzz
	@sh tests/fuzz/regress.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-run: fuzz
	@sh tests/fuzz/run.sh $(TARGET) $(FUZZ_SECONDS)

test: cairn layers unit fuzz-regress e2e

bench: cairn
	CAIRN_BIN=$(CURDIR)/$(B)/cairn python3 tests/bench/bench.py
	CAIRN_BIN=$(CURDIR)/$(B)/cairn python3 tests/bench/s3state.py

# Endurance (tests/soak/soak.py; not part of `make test`): 20 seeded SIGKILL
# trials and a 30% fault run on a 200-resource stack, each checked for exact
# convergence; CAIRN_SOAK_SEED, CAIRN_SOAK_TRIALS, CAIRN_SOAK_FAULT_RATE
# change the run. The summary goes to build/soak-report.txt.
soak: cairn
	CAIRN_BIN=$(CURDIR)/$(B)/cairn python3 tests/soak/soak.py

demo: cairn
	CAIRN_BIN=$(CURDIR)/$(B)/cairn sh stacks/demo.sh

install: cairn
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/cairn $(DESTDIR)$(PREFIX)/bin/cairn

clean:
	rm -rf build build-san build-fuzz cairn

-include $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(wildcard build-fuzz/fuzz/*.d)
