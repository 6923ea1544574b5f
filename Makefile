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
LIB_SRC  := $(wildcard crd/*.c reconcile/*.c controller/*/*.c)
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
SOAK_SRC := $(wildcard tests/soak/*.c)
SOAK_BIN := $(BUILD)/tests/soak/soak

# Test tools under hack/, each a folder of .c files built into one program.
KUBEAPI_SRC := $(wildcard hack/kubeapi/*.c)
TOOLS    := $(if $(KUBEAPI_SRC),$(BUILD)/kubeapi-server)

.PHONY: all deps check unit lab soak asan asan-unit fuzz fuzz-smoke bench demo demo-down guest clean lab-up lab-down \
	install uninstall deb

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

$(SOAK_BIN): $(SOAK_SRC:%.c=$(BUILD)/%.o) $(LABLIB_OBJ) $(LIB)
	$(CC) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/kubeapi-server: $(KUBEAPI_SRC:%.c=$(BUILD)/%.o)
	$(CC) $^ -o $@ $(LDLIBS) -lgnutls

guest:
	@$(MAKE) --no-print-directory -C hack/guest BUILD=$(abspath $(BUILD))/guest

unit: $(UNIT_BIN)
	@bash tests/run-suite unit $(UNIT_BIN)

# Every suite that uses the lab starts from a lab of its own: one left running (make demo
# leaves its lab up, with its guests) is taken down first.
LAB_FRESH = bash hack/lab down >/dev/null 2>&1

lab: $(BUILD)/drover guest $(TOOLS) $(LAB_BIN)
	@$(LAB_FRESH); bash tests/run-suite lab $(LAB_BIN); rc=$$?; bash hack/lab down >/dev/null 2>&1; exit $$rc

# The soak (tests/soak): random operations and faults on a lab of its own, invariants checked
# all the time; SOAK_SEED, SOAK_SECONDS (default 1200), SOAK_SETTLE_SECONDS, SOAK_MODE (dir,
# or kube: two drovers against the kubeapi server). Its report is $(BUILD)/soak/report.md.
# Takes the lab: hold the lab lock.
soak: $(BUILD)/drover guest $(TOOLS) $(SOAK_BIN)
	@$(LAB_FRESH); $(SOAK_BIN); rc=$$?; bash hack/lab down >/dev/null 2>&1; exit $$rc

# The unit and lab suites under AddressSanitizer and UndefinedBehaviorSanitizer, in a build tree
# of their own: the lab tests run build-asan/drover (see lab_drover in tests/lab/lab.c). Every
# sanitizer report goes to a file under build-asan/sanitizer, so one in a drover that was meant
# to fail (exit 1) fails the run too. asan-unit is the quick run without the lab.
ASAN_MAKE = $(MAKE) --no-print-directory BUILD=build-asan CC=clang OPT="-O1 -g" \
	SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
SAN_LOGS := $(abspath build-asan)/sanitizer
SAN_ENV = ASAN_OPTIONS=log_path=$(SAN_LOGS)/asan UBSAN_OPTIONS=log_path=$(SAN_LOGS)/ubsan:print_stacktrace=1

asan-unit:
	@$(ASAN_MAKE) unit

asan:
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	@$(LAB_FRESH); $(SAN_ENV) $(ASAN_MAKE) unit lab; rc=$$?; \
	if [ -n "$$(ls -A $(SAN_LOGS))" ]; then \
		echo "asan: sanitizer reports:"; tail -n 40 $(SAN_LOGS)/*; rc=1; \
	else echo "asan: no sanitizer reports"; fi; exit $$rc

# ---- benchmarks (tests/bench): ratios against baselines of the same run, tables into BENCH.md ----
bench: $(BUILD)/drover
	@bash tests/bench/run

# ---- fuzzing (tests/fuzz): `fuzz` runs long, `fuzz-smoke` is the short run make check does ----
# Two targets built with clang's libFuzzer, ASan and UBSan into build-fuzz/, each linking only
# what it covers: fuzz_decode the decoder (crd/*.c), fuzz_watch the watch-stream parser
# (controller/kube/kube_stream.c). New inputs go to build-fuzz/corpus and build-fuzz/corpus-watch;
# the seeds are the test corpora and the examples.
FUZZ_BUILD := build-fuzz
FUZZ_BIN   := $(FUZZ_BUILD)/fuzz_decode
FUZZ_SRC   := $(wildcard crd/*.c) tests/fuzz/fuzz_decode.c
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SEEDS := tests/fuzz/corpus tests/data/good tests/data/bad manifests/examples
FUZZ_OPTS  := -max_len=65536 -rss_limit_mb=2048 -timeout=10
FUZZ_RUN    = $(FUZZ_BIN) -artifact_prefix=$(FUZZ_BUILD)/ $(FUZZ_OPTS) $(FUZZ_BUILD)/corpus $(FUZZ_SEEDS)
WATCH_BIN  := $(FUZZ_BUILD)/fuzz_watch
WATCH_SRC  := controller/kube/kube_stream.c tests/fuzz/fuzz_watch.c
WATCH_RUN   = $(WATCH_BIN) -artifact_prefix=$(FUZZ_BUILD)/watch- $(FUZZ_OPTS) $(FUZZ_BUILD)/corpus-watch \
	      tests/fuzz/corpus-watch

$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard crd/*.h)
	@mkdir -p $(FUZZ_BUILD)/corpus
	clang -std=c11 -D_GNU_SOURCE $(WARN) -I. $(shell pkg-config --cflags yaml-0.1 jansson libxml-2.0) \
		$(FUZZ_FLAGS) $(FUZZ_SRC) -o $@ $(shell pkg-config --libs yaml-0.1 jansson libxml-2.0)

$(WATCH_BIN): $(WATCH_SRC) controller/kube/kube_stream.h
	@mkdir -p $(FUZZ_BUILD)/corpus-watch
	clang -std=c11 -D_GNU_SOURCE $(WARN) -I. $(shell pkg-config --cflags jansson) \
		$(FUZZ_FLAGS) $(WATCH_SRC) -o $@ $(shell pkg-config --libs jansson)

fuzz: $(FUZZ_BIN) $(WATCH_BIN)
	$(FUZZ_RUN) -max_total_time=600
	$(WATCH_RUN) -max_total_time=300

# $(call fuzz_once,NAME,RUN,SECONDS): one short run; prints its last line, or on failure its
# tail, and fails. tests/fuzz/smoke runs the fuzz-smoke-NAME targets one by one.
fuzz_once = if $(2) -max_total_time=$(3) > $(FUZZ_BUILD)/smoke-$(1).log 2>&1; then \
		tail -n 1 $(FUZZ_BUILD)/smoke-$(1).log; \
	else tail -n 60 $(FUZZ_BUILD)/smoke-$(1).log; false; fi

.PHONY: fuzz-smoke-decode fuzz-smoke-watch
fuzz-smoke-decode: $(FUZZ_BIN)
	@$(call fuzz_once,decode,$(FUZZ_RUN),10)

fuzz-smoke-watch: $(WATCH_BIN)
	@$(call fuzz_once,watch,$(WATCH_RUN),5)

fuzz-smoke: $(FUZZ_BIN) $(WATCH_BIN)
	@ok=0 bad=0; for t in decode watch; do \
		if $(MAKE) -s --no-print-directory fuzz-smoke-$$t; then ok=$$((ok + 1)); else bad=$$((bad + 1)); fi; \
	done; echo "fuzz: $$ok passed, $$bad failed"; [ $$bad -eq 0 ]
# ---- end of fuzzing ----

# ---- valgrind (tests/valgrind): drover's command-line paths that need no lab, under memcheck ----
.PHONY: valgrind
valgrind: $(BUILD)/drover
	@bash tests/valgrind/cli $(BUILD)/drover

# Every test in one summary line: unit, lab (the lab comes down after, pass or fail), a short
# soak (a seed of its own each run), valgrind and the fuzz smoke run. A test program that does
# not build counts as failed.
check: deps
	@$(MAKE) --no-print-directory -j2 all
	@$(MAKE) --no-print-directory -j2 -k $(UNIT_BIN) $(LAB_BIN) $(SOAK_BIN) || true
	@$(LAB_FRESH); bash tests/run-suite check $(UNIT_BIN) $(LAB_BIN) tests/soak/short \
		tests/lint/no-shell tests/valgrind/cli tests/cli/help tests/cli/fence \
		tests/monitoring/check tests/deploy/check tests/packaging/deb tests/fuzz/smoke; \
		rc=$$?; bash hack/lab down >/dev/null 2>&1; exit $$rc

lab-up: guest
	@bash hack/lab up

lab-down:
	@bash hack/lab down

demo: deps
	@$(MAKE) --no-print-directory all
	@bash hack/demo

# Stops what make demo left running: drover, Prometheus and the lab.
demo-down:
	@bash hack/lab down

# ---- installing (packaging/): the program, its man page, bash completion, the systemd unit
# and /etc/drover. `make deb` builds the Debian package from a copy of the tree with
# dpkg-buildpackage (its debian/ is packaging/debian) and leaves it in $(BUILD)/. ----
PREFIX         ?= /usr/local
DESTDIR        ?=
BINDIR         ?= $(PREFIX)/bin
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/drover
SYSCONFDIR     ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR    ?= $(PREFIX)/share/bash-completion/completions
INSTALL        ?= install

install: $(BUILD)/drover
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/drover/manifests \
		$(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0755 $(BUILD)/drover $(DESTDIR)$(BINDIR)/drover
	$(INSTALL) -m 0644 packaging/drover.1 $(DESTDIR)$(MANDIR)/man1/drover.1
	sed 's|/usr/bin/drover|$(BINDIR)/drover|; s|/etc/drover|$(SYSCONFDIR)/drover|g' \
		packaging/drover.service > $(DESTDIR)$(SYSTEMDUNITDIR)/drover.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/drover.service
	$(INSTALL) -m 0644 packaging/drover.bash-completion $(DESTDIR)$(BASHCOMPDIR)/drover
	sed 's|/etc/drover|$(SYSCONFDIR)/drover|g' packaging/etc/drover.env \
		> $(DESTDIR)$(SYSCONFDIR)/drover/drover.env
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/drover/drover.env
	$(INSTALL) -m 0644 packaging/etc/manifests/README $(DESTDIR)$(SYSCONFDIR)/drover/manifests/README
	$(INSTALL) -m 0644 manifests/examples/*.yaml $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/drover $(DESTDIR)$(MANDIR)/man1/drover.1 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/drover.service $(DESTDIR)$(BASHCOMPDIR)/drover \
		$(DESTDIR)$(SYSCONFDIR)/drover/manifests/README $(DESTDIR)$(SYSCONFDIR)/drover/drover.env
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(SYSCONFDIR)/drover/manifests $(DESTDIR)$(SYSCONFDIR)/drover 2>/dev/null

deb:
	@bash packaging/build-deb $(BUILD)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
