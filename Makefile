# walletnet: `make run` brings up the local network, `make test` runs every test.
# Both start from nothing but the repo: they create .venv, install the Python package with its
# dev extra, `npm ci` the pinned compiler/chain, and compile the contracts first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: all install compile check test test-ganache run lint gas bench clean

all: compile

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "walletnet needs Python 3.11+")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' || { echo "walletnet needs Node.js 18+"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

install: $(BIN)/.installed node_modules/.installed

# Recompile only when a source, the compiler pin or the build script changed.
SOLIDITY := $(shell find contracts -name '*.sol' 2>/dev/null)
wallet_sdk/artifacts/.compiled: $(SOLIDITY) package-lock.json scripts/solc_compile.js tools/toolchain.py | install
	$(BIN)/walletnet compile
	@touch $@

compile: install wallet_sdk/artifacts/.compiled

# Fails, naming the contract, if a committed artifact differs from a fresh compile.
check: install
	$(BIN)/walletnet compile --check

# Every test, as independent pytest legs side by side (scripts/test_legs.py): the API and flow tests, the rest, and
# the contract and SDK tests on ganache.
# A leg fails on any pytest failure and on pytest's exit 5 (no tests collected: a run with no tests is no pass).
# PYTEST_ARGS="..." runs one plain pytest with those arguments instead.
test: compile
	@if [ -n "$(strip $(PYTEST_ARGS))" ]; then \
		$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc; \
	else $(BIN)/python scripts/test_legs.py; fi

# Only the leg of `make test` that runs the contract and SDK tests again on ganache, a second node implementation
# (WALLETNET_TEST_CHAIN=ganache), so that nothing relies on anvil-only behaviour.
test-ganache: compile
	$(BIN)/python scripts/test_legs.py ganache

run: compile
	$(BIN)/walletnet up

# Gas of every main operation beside a plain OpenZeppelin ERC20; prints a table, writes docs/gas.md.
gas: compile
	$(BIN)/python -m bench.gas

# Gas table, then throughput/latency through the API of a local two-bank network, the naive web3.py baseline and
# the indexer's catch-up; prints tables, writes docs/performance.md. Sizes: BENCH_ARGS="--quick" or e.g. "--p2p 500".
BENCH_ARGS ?=
bench: gas
	$(BIN)/python -m bench $(BENCH_ARGS)

# The import layers and cycles (import-linter, [tool.importlinter] in pyproject.toml); slither on the contracts
# (offline, from the solcjs build), which fails on a high/medium finding not in docs/security.md.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/slither_gate.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
