# phaseout: the two commands in the README are `make demo` and `make test`.
# Both do all set-up on a fresh Debian 12 machine and are quick no-ops when
# everything is already there.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOSTS ?= 9
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
PODMAN_ENV := source lab/podman-env.sh
# Every scenario, the longest first (two run at a time: the short ones fill the
# gaps at the end); a scenario not named here runs first.
MOLECULE_ORDER := replace_clamav replace_mdatp remove replace_failure contain preflight_verify discover
ALL_SCENARIOS := $(patsubst molecule/%/molecule.yml,%,$(wildcard molecule/*/molecule.yml))
SCENARIOS ?= $(filter-out $(MOLECULE_ORDER),$(ALL_SCENARIOS)) $(filter $(ALL_SCENARIOS),$(MOLECULE_ORDER))
# Molecule scenarios at a time (2 cores: 2) and the time limit of each (seconds).
MOLECULE_JOBS ?= 2
MOLECULE_TIMEOUT ?= 900

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help demo test setup system-deps venv lab-image lab-up lab-down unit lint doc-check install-test molecule bench clean browser ee sanity sanity-deps faults faults-fast

help:
	@echo "make demo   - build the lab fleet and run discover -> contain -> replace -> verify on it, with the fleet reports"
	@echo "make test   - unit tests, lint, module docs, the dashboard in a browser, the installed collection, every Molecule scenario, the fast fault-injection cells and ansible-test sanity; the time of each step"
	@echo "make lab-up HOSTS=N / make lab-down / make bench"

## --- the two README commands ----------------------------------------------
demo: setup lab-up
	$(BIN)/ansible-playbook playbooks/site.yml -e phaseout_targets=all
	@echo; $(BIN)/python bin/phaseout report
	@echo; echo "Fleet dashboard: $(CURDIR)/artifacts/dashboard.html (one self-contained page: open it in a browser; docs/dashboard.md)"

# The steps of `make test`, in order: each runs as its own make target, timed,
# and the times are printed at the end (and after a failure, up to it).
TEST_STEPS := setup unit lint doc-check browser install-test molecule faults-fast sanity
test:
	@t0=$$(date +%s); times=""; \
	report() { printf '\nmake test: %s\n%b  %-14s %5d s\n' "$$1" "$$times" total $$(( $$(date +%s) - t0 )); }; \
	for step in $(TEST_STEPS); do \
	  s=$$(date +%s); echo "=== make $$step ($$(date +%T), load $$(cut -d' ' -f1-3 /proc/loadavg))"; \
	  if ! $(MAKE) --no-print-directory $$step; then \
	    times="$$times$$(printf '  %-14s %5d s FAILED' $$step $$(( $$(date +%s) - s )))\n"; report "FAILED in $$step"; exit 1; \
	  fi; \
	  times="$$times$$(printf '  %-14s %5d s' $$step $$(( $$(date +%s) - s )))\n"; \
	done; \
	report "passed"

## --- set-up ----------------------------------------------------------------
setup: system-deps venv sanity-deps

system-deps:
	@scripts/setup-system.sh

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

## --- the lab ---------------------------------------------------------------
lab-image: setup
	lab/lab.sh image

lab-up: setup
	lab/lab.sh up --hosts $(HOSTS)

lab-down:
	lab/lab.sh down

## --- tests -----------------------------------------------------------------
unit: venv
	$(BIN)/python -m pytest tests/unit -q -p no:cacheprovider

lint: venv
	$(BIN)/ansible-lint -q
	$(BIN)/ansible-galaxy collection build --force --output-path /tmp/phaseout-build >/dev/null

doc-check: venv
	scripts/check-docs.sh

# The collection as users install it: built, installed with ansible-galaxy,
# used from outside the checkout against lab hosts (tests/install/run.sh)
install-test: setup lab-image
	$(PODMAN_ENV); tests/install/run.sh

# ansible-test sanity on the built collection, offline, and no deprecation
# warnings from phaseout's code (scripts/sanity.sh, tests/sanity)
sanity: setup
	scripts/sanity.sh

sanity-deps: venv
	@scripts/sanity.sh setup

molecule: setup lab-image
	$(PODMAN_ENV); $(BIN)/python molecule/run.py --jobs $(MOLECULE_JOBS) --timeout $(MOLECULE_TIMEOUT) $(SCENARIOS)

## --- the fleet dashboard in headless Chromium; the execution environment (docs/dashboard.md) ---
browser: setup
	$(BIN)/python -m pytest tests/browser -q -p no:cacheprovider

ee: setup lab-image
	scripts/ee.sh

## --- fault injection (docs/reliability.md) ----------------------------------
# The fast cells in `make test`; the whole matrix, written into docs/reliability.md, on demand.
faults-fast: setup lab-image
	$(PODMAN_ENV); $(BIN)/python tests/faults/harness.py --cells fast

faults: setup lab-image
	$(PODMAN_ENV); $(BIN)/python tests/faults/harness.py --cells all --parallel 4 --write-docs

bench: setup
	scripts/bench-discover.sh

clean: lab-down
	rm -rf artifacts .pytest_cache
