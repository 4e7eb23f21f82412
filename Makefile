# Logbook: `make demo` runs the demo on an embedded journal, `make test` runs every test.
# Both install LMDB's headers first when they are missing (Debian: liblmdb-dev).
SWIFT ?= swift
JOURNAL ?= demo.journal

# Where `make install` puts the binary, its man page and shell completions (DESTDIR for packaging).
PREFIX ?= /usr/local
DESTDIR ?=
# The build `make install` installs: release (default) or debug.
CONFIG ?= release

.PHONY: deps test-deps build demo test bench release install uninstall clean

deps:
	@pkg-config --exists lmdb 2>/dev/null || (apt-get update && apt-get install -y liblmdb-dev)

build: deps
	$(SWIFT) build --product logbook

demo: build
	rm -f $(JOURNAL) $(JOURNAL)-lock $(JOURNAL)-owners
	$$($(SWIFT) build --show-bin-path)/logbook --journal $(JOURNAL) demo

# The terminal tests drive the CLI in tmux, the PostgreSQL tests a throwaway PostgreSQL 15 (Debian's
# binaries, started in a temporary directory); without them those tests are skipped (and say so).
test-deps: deps
	@command -v tmux >/dev/null 2>&1 || apt-get install -y tmux >/dev/null 2>&1 || \
		echo "tmux could not be installed: the terminal tests will be skipped"
	@test -x /usr/lib/postgresql/15/bin/pg_ctl || apt-get install -y postgresql-15 >/dev/null 2>&1 || \
		(apt-get update >/dev/null 2>&1 && apt-get install -y postgresql-15 >/dev/null 2>&1) || \
		echo "postgresql-15 could not be installed: the PostgreSQL tests will be skipped"

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

release: deps
	$(SWIFT) build -c release --product logbook

# The binary, a man page generated from the command definitions (argument-parser's generate-manual
# plugin) and bash, zsh and fish completions (the binary's --generate-completion-script).
install: deps
	$(SWIFT) build -c $(CONFIG) --product logbook
	$(SWIFT) package generate-manual --configuration $(CONFIG)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 "$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/logbook" $(DESTDIR)$(PREFIX)/bin/logbook
	install -m 0644 .build/plugins/GenerateManual/outputs/LogbookCLI/logbook.1 $(DESTDIR)$(PREFIX)/share/man/man1/logbook.1
	$(DESTDIR)$(PREFIX)/bin/logbook --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/logbook
	$(DESTDIR)$(PREFIX)/bin/logbook --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_logbook
	$(DESTDIR)$(PREFIX)/bin/logbook --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/logbook.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/logbook $(DESTDIR)$(PREFIX)/share/man/man1/logbook.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/logbook $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_logbook \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/logbook.fish

# Release-mode benchmark with peers side by side (not part of CI): see docs/performance.md.
bench: release
	Tools/bench/run.sh

clean:
	rm -rf .build
