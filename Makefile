# drover — build, test, lab and benchmark entry points. See README.md.

CC       ?= cc
BUILD    ?= build
PKGS     := libvirt libxml-2.0 yaml-0.1 jansson libcurl libmicrohttpd
# Deferred (=) so that `make deps` works before pkg-config knows the packages.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
# OPT is the knob to turn (make asan sets it); CFLAGS from the command line are added last.
OPT      ?= -O2 -g
ALL_CFLAGS = $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) -I. $(PKG_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
LDLIBS   += $(PKG_LIBS) -lpthread $(SAN_FLAGS)

# Every .c under the three rooms is part of libdrover, except the program's main.
LIB_SRC  := $(wildcard crd/*.c reconcile/*.c controller/*.c)
LIB_SRC  := $(filter-out controller/main.c,$(LIB_SRC))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libdrover.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
# The teardown test takes the lab down, so it runs last.
LAB_SRC  := $(filter-out tests/lab/test_lab_teardown.c,$(wildcard tests/lab/test_*.c)) \
	    tests/lab/test_lab_teardown.c
LAB_BIN  := $(LAB_SRC:%.c=$(BUILD)/%)
LABLIB_SRC := $(filter-out tests/lab/test_%,$(wildcard tests/lab/*.c))
LABLIB_OBJ := $(LABLIB_SRC:%.c=$(BUILD)/%.o)

# Test tools under hack/, each a folder of .c files built into one program.
KUBEAPI_SRC := $(wildcard hack/kubeapi/*.c)
TOOLS    := $(if $(KUBEAPI_SRC),$(BUILD)/kubeapi-server)

.PHONY: all deps check unit lab asan fuzz fuzz-smoke bench demo guest clean lab-up lab-down

all: $(BUILD)/drover guest $(TOOLS)

deps:
	@bash hack/deps

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/drover: $(BUILD)/controller/main.o $(LIB)
	$(CC) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB)
	$(CC) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/lab/%: $(BUILD)/tests/lab/%.o $(LABLIB_OBJ) $(LIB)
	$(CC) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/kubeapi-server: $(KUBEAPI_SRC:%.c=$(BUILD)/%.o)
	$(CC) $^ -o $@ $(LDLIBS) -lgnutls

guest:
	@$(MAKE) --no-print-directory -C hack/guest BUILD=$(abspath $(BUILD))/guest

unit: $(UNIT_BIN)
	@bash tests/run-suite unit $(UNIT_BIN)

lab: $(BUILD)/drover guest $(LAB_BIN)
	@bash tests/run-suite lab $(LAB_BIN); rc=$$?; bash hack/lab down >/dev/null 2>&1; exit $$rc

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, in a build tree of their own.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=clang \
		SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		OPT="-O1 -g" unit

# ---- fuzzing (tests/fuzz): `fuzz` runs long, `fuzz-smoke` is the short run make check does ----
# The decoder (crd/*.c) built with clang's libFuzzer, ASan and UBSan into build-fuzz/. New
# inputs go to build-fuzz/corpus; the seeds are the test corpus and the examples.
FUZZ_BUILD := build-fuzz
FUZZ_BIN   := $(FUZZ_BUILD)/fuzz_decode
FUZZ_SRC   := $(wildcard crd/*.c) tests/fuzz/fuzz_decode.c
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SEEDS := tests/fuzz/corpus tests/data/good tests/data/bad manifests/examples
FUZZ_RUN    = $(FUZZ_BIN) -artifact_prefix=$(FUZZ_BUILD)/ -max_len=65536 -rss_limit_mb=2048 -timeout=10 $(FUZZ_BUILD)/corpus $(FUZZ_SEEDS)

$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard crd/*.h)
	@mkdir -p $(FUZZ_BUILD)/corpus
	clang -std=c11 -D_GNU_SOURCE $(WARN) -I. $(shell pkg-config --cflags yaml-0.1 jansson libxml-2.0) \
		$(FUZZ_FLAGS) $(FUZZ_SRC) -o $@ $(shell pkg-config --libs yaml-0.1 jansson libxml-2.0)

fuzz: $(FUZZ_BIN)
	$(FUZZ_RUN) -max_total_time=600

fuzz-smoke: $(FUZZ_BIN)
	@if $(FUZZ_RUN) -max_total_time=60 > $(FUZZ_BUILD)/smoke.log 2>&1; then \
		tail -n 1 $(FUZZ_BUILD)/smoke.log; echo "fuzz: 1 passed, 0 failed"; \
	else tail -n 60 $(FUZZ_BUILD)/smoke.log; echo "fuzz: 0 passed, 1 failed"; exit 1; fi
# ---- end of fuzzing ----

# Every test in one summary line: unit, lab (the lab comes down after, pass or fail)
# and the fuzz smoke run. A test program that does not build counts as failed.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory -k $(UNIT_BIN) $(LAB_BIN) || true
	@bash tests/run-suite check $(UNIT_BIN) $(LAB_BIN) tests/fuzz/smoke; \
		rc=$$?; bash hack/lab down >/dev/null 2>&1; exit $$rc

lab-up: guest
	@bash hack/lab up

lab-down:
	@bash hack/lab down

demo: deps
	@$(MAKE) --no-print-directory all
	@bash hack/demo

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
