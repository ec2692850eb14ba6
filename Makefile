# slsalint developer tasks. The README's two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Test-only: real OPA (its Go library in a wheel) as the oracle the Rego conformance tests compare
# slsalint's engine with. Its metadata asks for Python >= 3.14 but the wheel is py3-none and works
# on 3.11, hence --ignore-requires-python. It lives in its own venv and never ships to users.
OPA_VENV  := .venv-opa
OPA_STAMP := $(OPA_VENV)/.installed
OPA_WHEEL := opa-golib-python-bindings==0.4.4

NODE_TOOLS := node_modules/.installed
MULTITOOL  := node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool

.PHONY: demo test test-lowest pytest lint bench docs site fuzz system-deps node-tools clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing slsalint and its dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	@$(BIN)/python -m pip install --quiet -e '.[test,docs]' >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log; exit 1; }
	touch $(STAMP)

$(OPA_STAMP): Makefile
	test -x $(OPA_VENV)/bin/python || $(PYTHON) -m venv $(OPA_VENV)
	@$(OPA_VENV)/bin/python -m pip install --quiet --ignore-requires-python $(OPA_WHEEL) > $(OPA_VENV)/install.log 2>&1 || { cat $(OPA_VENV)/install.log; exit 1; }
	$(OPA_VENV)/bin/python -c "import opa_bindings"
	touch $(OPA_STAMP)

## demo: create .venv, install, and check the example image shipped in examples/demo-image
demo: $(STAMP)
	$(BIN)/slsalint check oci:examples/demo-image

## system-deps: Debian packages the integration tests use (the CNCF registry, skopeo)
system-deps:
	@if ! command -v docker-registry >/dev/null 2>&1 || ! command -v skopeo >/dev/null 2>&1; then \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends docker-registry skopeo >/dev/null; \
	fi
	@command -v docker-registry >/dev/null && command -v skopeo >/dev/null

## node-tools: the SARIF Multitool (npm, version pinned in package.json) the report tests run
node-tools: $(NODE_TOOLS)

$(NODE_TOOLS): package.json
	@command -v npm >/dev/null || { echo "npm is needed for the SARIF Multitool (apt-get install npm)"; exit 1; }
	npm install --no-audit --no-fund --no-package-lock --loglevel=error
	chmod u+x $(MULTITOOL)
	$(MULTITOOL) --version >/dev/null
	touch $(NODE_TOOLS)

## test: install what the tests need, lint, build the docs (strict), and run the whole suite
test: $(STAMP) $(OPA_STAMP) system-deps node-tools lint site pytest

pytest: $(STAMP) $(OPA_STAMP) $(NODE_TOOLS)
	$(BIN)/pytest -q

## test-lowest: the suite against the lowest dependency versions pyproject.toml allows
## (uv --resolution lowest-direct, in .venv-lowest): proves the declared lower bounds
test-lowest: $(STAMP) $(OPA_STAMP) $(NODE_TOOLS) system-deps
	rm -rf .venv-lowest
	$(BIN)/uv venv --quiet --seed --python $(BIN)/python .venv-lowest
	VIRTUAL_ENV=$(CURDIR)/.venv-lowest $(BIN)/uv pip install --quiet --resolution lowest-direct -e '.[test]'
	VIRTUAL_ENV=$(CURDIR)/.venv-lowest $(BIN)/uv pip list --quiet 2>/dev/null | grep -iE '^(typer|rich|httpx|jsonschema|jsonschema-rs|cryptography|sigstore|in-toto-attestation|gordon-to-regorus|ruamel.yaml|pynacl) '
	.venv-lowest/bin/pytest -q -p no:cacheprovider

## fuzz: the fuzz targets in tests/fuzz, long and random (make test runs them bounded, fixed seeds)
fuzz: $(STAMP)
	SLSALINT_FUZZ=fuzz $(BIN)/pytest -q tests/fuzz -p no:cacheprovider

## lint: ruff (lint + format check) and mypy --strict
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict

## bench: speed targets (each prints a final JSON line with its ratios)
bench: $(STAMP) system-deps
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/lint_throughput.py
	$(BIN)/python benchmarks/latency_proxy.py
	$(BIN)/python benchmarks/registry_roundtrips.py
	$(BIN)/python benchmarks/fleet.py
	$(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/rego.py
	$(BIN)/python benchmarks/report_render.py
	$(BIN)/python benchmarks/config_bombs.py

## docs: regenerate the per-rule pages in docs/rules/ from the rule metadata, then build the site
docs: $(STAMP)
	$(BIN)/python -m slsalint.docsgen docs/rules
	$(MAKE) site

## site: build the documentation site (mkdocs, strict: a broken link or reference fails) into build/site
site: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) $(OPA_VENV) .venv-lowest .mypy_cache .ruff_cache .pytest_cache build *.egg-info node_modules
