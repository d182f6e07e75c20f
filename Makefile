# `make demo` and `make test` do all the set-up themselves on a fresh Debian machine.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DEBIAN_FRONTEND := noninteractive
# bash with pipefail: progress output is filtered through grep without hiding a failure
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

.PHONY: demo test lint typecheck bench bench-peers clean system-packages

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	@echo "creating $(VENV) and installing the package with its dev extras (a minute or two)"
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install -e '.[dev]' | { grep -E '^(Collecting|Successfully)' || true; }
	touch $(STAMP)

# Debian packages the project needs: graphviz for `dot` (and a font for its labels),
# chromium for the HTML report's browser test. Installed only when missing.
system-packages:
	@missing=""; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing (a minute or two; apt's progress follows)"; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends $$missing \
	    | { grep -E '^(Get:|Setting up)' || true; }; \
	fi

demo: system-packages $(STAMP)
	$(PY) -m runtime.cli.demo

test: system-packages $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/validate_bench.py

# The shared workloads on this engine and on aws-local-stepfunctions, side by side. Needs
# Node.js and npm; installs the peer into bench/peer/node_modules from the npm registry.
bench-peers: $(STAMP)
	$(PY) bench/compare.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
