# Logbook: `make demo` runs the demo on an embedded journal, `make test` runs every test.
# Both install LMDB's headers first when they are missing (Debian: liblmdb-dev).
SWIFT ?= swift
JOURNAL ?= demo.journal

.PHONY: deps build demo test bench release clean

deps:
	@pkg-config --exists lmdb 2>/dev/null || (apt-get update && apt-get install -y liblmdb-dev)

build: deps
	$(SWIFT) build --product logbook

demo: build
	rm -f $(JOURNAL) $(JOURNAL)-lock $(JOURNAL)-owners
	$$($(SWIFT) build --show-bin-path)/logbook --journal $(JOURNAL) demo

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

release: deps
	$(SWIFT) build -c release --product logbook

# Release-mode benchmark with peers side by side (not part of CI): see docs/performance.md.
bench: release
	Tools/bench/run.sh

clean:
	rm -rf .build
