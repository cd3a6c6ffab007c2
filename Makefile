# plantao — build, run and test. Libraries come from pkg-config; the build tree is $(B).
#   make run     install what is missing, build, migrate ./plantao.db, seed a demo, serve :8080
#   make test    install what is missing, build, run every suite (one summary line at the end)
#   make test-pg the integration suite again, every server on PostgreSQL (a throw-away cluster)
#   make check   the whole suite under ASan + UBSan (build tree build/san)
#   make bench   benchmarks (wrk against plantao and a bare libmicrohttpd ceiling)
#   make bench-pg webhook and alert figures on PostgreSQL next to SQLite, one instance and two
#   make fuzz    libFuzzer targets, FUZZ_SECONDS each
#   make lint    clang-format check and banned functions

B ?= build
SANITIZE ?=
CC := gcc
PKGS := libmicrohttpd libcurl libxml-2.0 sqlite3 libpq jansson libcrypto libzip gnutls

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -I. -Iserver -I$(B)/gen $(shell pkg-config --cflags $(PKGS)) $(CFLAGS)
LIBS_ALL = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
ifneq ($(SANITIZE),)
CFLAGS_ALL += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LIBS_ALL += -fsanitize=$(SANITIZE)
endif

# sources are found by folder: every .c under server/ (one folder per subsystem), twiml/ and db/
SRC_DIRS := server twiml db
LIB_SRC := $(filter-out server/main.c,$(sort $(shell find $(SRC_DIRS) -name '*.c')))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/embedded.o
# unit tests mirror the source folders (tests/unit/<folder>/test_*.c); binaries are flat in $(B)/tests
TEST_SRC := $(sort $(shell find tests/unit -name 'test_*.c'))
TEST_BIN := $(addprefix $(B)/tests/,$(basename $(notdir $(TEST_SRC))))
vpath test_%.c $(sort $(dir $(TEST_SRC)))
# migrations/NNNN_*.sql for SQLite, migrations/pg/NNNN_*.sql their PostgreSQL twins, the console;
# and, generated from the first, migrations/snapshot.sql ($(B)/gen/snapshot.sql)
MIGRATIONS := $(sort $(wildcard migrations/[0-9][0-9][0-9][0-9]_*.sql))
EMBED_IN := $(MIGRATIONS) $(sort $(wildcard migrations/pg/*.sql)) $(sort $(shell find static -type f 2>/dev/null))

.PHONY: all run test test-pg check bench bench-pg fuzz soak lint clean deps deps-test tests install FORCE
all: $(B)/plantao $(B)/plantao.8

deps:
	@bash scripts/deps run
deps-test:
	@bash scripts/deps test

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(B)/embed: tools/embed.c
	@mkdir -p $(B)
	$(CC) -std=c11 -O2 $(WARN) $< -o $@

# the list of embedded files, rewritten only when it changes: a file removed (a migration deleted)
# rebuilds embedded.c and the snapshot too, which no remaining file's time would
$(B)/gen/embed.list: FORCE
	@mkdir -p $(B)/gen
	@echo $(EMBED_IN) > $@.tmp && if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

# the database the migrations give, as one script: db_migrate runs it on a new SQLite file
$(B)/gen/snapshot.sql: tools/schema_snapshot.py $(MIGRATIONS) $(B)/gen/embed.list
	@mkdir -p $(B)/gen
	@command -v python3 >/dev/null || { echo "make: python3 is missing (it makes the schema snapshot): run scripts/deps" >&2; exit 1; }
	python3 tools/schema_snapshot.py $@

$(B)/gen/embedded.c: $(B)/embed $(EMBED_IN) $(B)/gen/snapshot.sql $(B)/gen/embed.list
	@mkdir -p $(B)/gen
	$(B)/embed $(EMBED_IN) migrations/snapshot.sql=$(B)/gen/snapshot.sql > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/embedded.o: $(B)/gen/embedded.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(B)/libplantao.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/plantao: $(B)/obj/server/main.o $(B)/libplantao.a
	$(CC) $^ $(LIBS_ALL) -o $@

$(B)/tests/%: %.c $(B)/libplantao.a
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d $< $(B)/libplantao.a $(LIBS_ALL) $(shell pkg-config --libs cmocka) -o $@

tests: $(B)/plantao $(TEST_BIN)

# install: the binary, plantao(8), the systemd units and user, /etc/plantao/plantao.env (never
# over an existing one). PREFIX=/usr/local, DESTDIR for a staged tree (docs/DEPLOY.md).
PREFIX ?= /usr/local
DESTDIR ?=
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
SYSUSERS_DIR ?= $(PREFIX)/lib/sysusers.d
SYSCONF_DIR ?= /etc/plantao
$(B)/plantao.8: $(B)/plantao scripts/manpage
	scripts/manpage $(B)/plantao > $@.tmp && mv $@.tmp $@

install: $(B)/plantao $(B)/plantao.8
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(SYSTEMD_UNIT_DIR) \
		$(DESTDIR)$(SYSUSERS_DIR) $(DESTDIR)$(SYSCONF_DIR)
	install -m 0755 $(B)/plantao $(DESTDIR)$(PREFIX)/sbin/plantao
	install -m 0644 $(B)/plantao.8 $(DESTDIR)$(PREFIX)/share/man/man8/plantao.8
	for u in plantao.service plantao-backup.service plantao-backup.timer; do \
		[ -f dist/$$u ] || continue; \
		sed 's|@SBINDIR@|$(PREFIX)/sbin|g' dist/$$u > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.tmp && \
		mv $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u.tmp $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u || exit 1; \
	done
	install -m 0644 dist/plantao.sysusers $(DESTDIR)$(SYSUSERS_DIR)/plantao.conf
	[ -e $(DESTDIR)$(SYSCONF_DIR)/plantao.env ] || install -m 0640 .env.example $(DESTDIR)$(SYSCONF_DIR)/plantao.env
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null; then \
		systemd-sysusers $(SYSUSERS_DIR)/plantao.conf && chgrp plantao $(SYSCONF_DIR)/plantao.env; \
	fi

run: deps
	@$(MAKE) --no-print-directory $(B)/plantao
	./$(B)/plantao migrate
	./$(B)/plantao serve --demo

test: deps-test
	@$(MAKE) --no-print-directory tests
	@bash tests/run $(B)

# the integration suite with every server on its own database of a PostgreSQL 15 cluster that
# tests/pg/run starts in $(B)/pg and stops (summary line "N passed, N failed")
test-pg: deps-test
	@$(MAKE) --no-print-directory tests
	@bash tests/pg/run $(B)

check: deps-test
	@$(MAKE) --no-print-directory B=build/san SANITIZE=address,undefined tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		bash tests/run build/san

bench: deps-test
	@$(MAKE) --no-print-directory $(B)/plantao
	@bash tests/bench/run $(B)

# webhook and alert figures on PostgreSQL next to SQLite, one instance and two (issue 17)
bench-pg: deps-test
	@$(MAKE) --no-print-directory $(B)/plantao
	@python3 tests/bench/bench_pg.py $(B)

FUZZ_SECONDS ?= 60
fuzz: deps-test
	@bash tests/fuzz/run $(FUZZ_SECONDS)

soak: deps-test
	@$(MAKE) --no-print-directory B=build/san SANITIZE=address,undefined build/san/plantao
	@bash tests/soak/run build/san

LINT_SRC = $(sort $(shell find $(SRC_DIRS) -name '*.[ch]') $(shell find tests/unit -name '*.c'))
lint:
	@clang-format --dry-run --Werror $(LINT_SRC)
	@! grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|gets)[[:space:]]*\(' $(filter-out tests/%,$(LINT_SRC)) || \
		(echo "lint: banned function" && false)

clean:
	rm -rf build

-include $(shell find $(B)/obj $(B)/tests -name '*.d' 2>/dev/null)
