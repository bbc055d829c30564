# Qianlima build. The README's two commands are `make run` and `make test`.
#
#   make                 release build: build/release/qianlima
#   make SANITIZE=address,undefined   the same under sanitizers (build/sanitize-address-undefined/)
#   make DEBUG=1         unoptimised build with full debug info (build/debug/)
#   make run             install what is missing, build, migrate and serve on 127.0.0.1:8080
#   make test            install what is missing, build with ASan+UBSan, run every test suite
#   make lint            banned functions and cppcheck
#   make fuzz            libFuzzer targets with clang, each from its seeds in tests/fuzz/seeds/
#                        (FUZZ_SECONDS per target, default 30; FUZZ_SEED, default 1;
#                        FUZZ_TARGETS="fuzz_csv fuzz_import" for some only); .ci/run gives 20
#   make bench           benchmarks in bench/ (needs nginx and wrk; installed on demand);
#                        bench/registry loads PEOPLE talents (default 1,000,000; try PEOPLE=50000)
#                        bench/cycle makes SUBSIDIES active subsidies (default 1,000,000; try 20000)
#   make setup           only install missing Debian and npm packages
#   make format          clang-format every C file
SHELL := /bin/bash
.DEFAULT_GOAL := all
comma := ,

PKGS := libevent jansson sqlite3 libpq inih libsodium libcrypto xlsxwriter
TEST_PKGS := cmocka

ifdef SANITIZE
  VARIANT := sanitize-$(subst $(comma),-,$(SANITIZE))
  MODE_CFLAGS := -O1 -g -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
  MODE_LDFLAGS := -fsanitize=$(SANITIZE)
else ifeq ($(DEBUG),1)
  VARIANT := debug
  MODE_CFLAGS := -O0 -g3
else ifeq ($(FUZZ),1)
  VARIANT := fuzz
  CC := clang
  MODE_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -DQL_FUZZING
  MODE_LDFLAGS := -fsanitize=address,undefined
else
  VARIANT := release
  MODE_CFLAGS := -O2 -g
endif

B := build/$(VARIANT)

# Quiet by default; `make V=1` shows the commands.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @printf '  %-6s %s\n'
endif
GEN := $(B)/gen

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
        -Wpointer-arith -Wundef -Wcast-align -Wnull-dereference -Werror
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
TEST_CFLAGS = $(shell pkg-config --cflags $(TEST_PKGS))
TEST_LIBS = $(shell pkg-config --libs $(TEST_PKGS))

CFLAGS_ALL = -std=c17 -D_GNU_SOURCE -pthread -fno-common $(WARN) $(MODE_CFLAGS) \
             -Isrc -I$(GEN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_ALL = -pthread $(MODE_LDFLAGS) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -lm

# Everything under src/ except main.c goes into a static library that the
# binary, the tests, the fuzz targets and the benchmarks link against.
LIB_SRC := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/embedded.o
LIB := $(B)/libqianlima.a
BIN := $(B)/qianlima

# Files compiled into the binary: templates, migrations, the OpenAPI document.
EMBED := $(sort $(wildcard templates/*.mustache) $(wildcard i18n/*.json) $(wildcard sql/sqlite/*.sql) \
           $(wildcard policies/*.policy) $(wildcard data/calendar/*.txt) $(wildcard layouts/*.layout) \
           $(wildcard sql/postgres/*.sql)) docs/openapi.json

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
SUITE_SRC := $(sort $(wildcard tests/store/test_*.c) $(wildcard tests/api/test_*.c) \
                     $(wildcard tests/crash/test_*.c))
TEST_SUPPORT := $(sort $(wildcard tests/support/*.c))
TEST_BINS := $(patsubst tests/%.c,$(B)/tests/%,$(UNIT_SRC) $(SUITE_SRC))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

# Keep intermediate objects (fuzz and test objects are built through pattern chains).
.SECONDARY:

.PHONY: all run test lint fuzz bench setup format clean check-deps test-bins fuzz-bins bench-bins

all: check-deps $(BIN)

check-deps:
	@missing=""; \
	for p in $(PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "missing libraries (pkg-config):$$missing" >&2; \
	  echo "run 'make setup' (or: scripts/setup.sh build) to install their Debian -dev packages" >&2; \
	  exit 1; fi

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/obj/gen/embedded.o: $(GEN)/embedded.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

build/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	gcc -std=c17 -O1 -Wall -Wextra -Werror $< -o $@

$(GEN)/embedded.c: build/tools/embed $(EMBED) Makefile
	@mkdir -p $(@D)
	$(say) EMBED $@
	$(Q)build/tools/embed $@ $(EMBED)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(BIN): $(B)/obj/src/main.o $(LIB)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) $^ $(LIBS_ALL) -o $@

# Test binaries: one per file, linked with cmocka and the shared test support code.
$(B)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) $(CFLAGS_ALL) $(TEST_CFLAGS) -Itests/support -c $< -o $@

$(B)/tests/%: $(B)/obj/tests/%.o $(TEST_SUPPORT:%.c=$(B)/obj/%.o) $(LIB)
	@mkdir -p $(@D)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) $^ $(LIBS_ALL) $(TEST_LIBS) -o $@

test-bins: check-deps $(BIN) $(TEST_BINS)

$(B)/fuzz/%: $(B)/obj/tests/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -fsanitize=fuzzer $^ $(LIBS_ALL) -o $@

fuzz-bins: check-deps $(FUZZ_BINS)

# Benchmark helpers: programs that measure a reference (they use only system libraries).
$(B)/bench/raw_insert: bench/registry/raw_insert.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) $(MODE_CFLAGS) $< $(shell pkg-config --cflags --libs sqlite3) -o $@

$(B)/bench/cycle_bench: bench/cycle/cycle_bench.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE $(WARN) $(MODE_CFLAGS) $< $(shell pkg-config --cflags --libs sqlite3) -o $@

$(B)/bench/hostile: bench/hostile/hostile.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) -std=c17 -D_GNU_SOURCE -pthread $(WARN) $(MODE_CFLAGS) $< -o $@

# bench/policy measures the engine itself, so it links the library like the tests.
$(B)/bench/policy_bench: $(B)/obj/bench/policy/policy_bench.o $(LIB)
	@mkdir -p $(@D)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) $^ $(LIBS_ALL) -o $@

bench-bins: check-deps $(B)/bench/raw_insert $(B)/bench/policy_bench $(B)/bench/cycle_bench \
            $(B)/bench/hostile

setup:
	scripts/setup.sh build test web

run:
	scripts/setup.sh build web
	$(MAKE) all
	scripts/run.sh $(BIN)

test:
	scripts/setup.sh build test web
	$(MAKE) SANITIZE=address,undefined test-bins
	tests/run.sh build/sanitize-address-undefined

lint:
	scripts/setup.sh lint
	scripts/lint.sh

fuzz:
	scripts/setup.sh build fuzz
	$(MAKE) FUZZ=1 fuzz-bins
	FUZZ_SEED='$(FUZZ_SEED)' FUZZ_TARGETS='$(FUZZ_TARGETS)' scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

bench:
	scripts/setup.sh build bench
	$(MAKE) all bench-bins
	bench/http/run.sh $(BIN)
	bench/hostile/run.sh $(BIN) $(B)/bench/hostile
	bench/registry/run.sh $(BIN) $(B)/bench/raw_insert
	bench/policy/run.sh $(BIN) $(B)/bench/policy_bench
	bench/cycle/run.sh $(BIN) $(B)/bench/cycle_bench

format:
	clang-format -i $$(find src tests tools bench -name '*.[ch]')

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
