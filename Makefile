# Set-up and everyday commands. Each target creates .venv when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE ?= specs/classic/two_phase.ms

.PHONY: demo test setup system-deps clean

$(BIN)/mscheck: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(BIN)/mscheck

setup: system-deps $(BIN)/mscheck

# The `dot` program (Graphviz) draws pictures; install it with apt when missing and root.
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "note: could not install graphviz; pictures need the 'dot' program"; \
	  else echo "note: install graphviz for pictures (the 'dot' program)"; fi; }

demo: setup
	$(BIN)/mscheck lint specs/*/*.ms
	$(BIN)/mscheck metrics specs/architectures/online_boutique.ms
	mkdir -p out
	if command -v dot >/dev/null; then \
	  $(BIN)/mscheck graph specs/architectures/online_boutique.ms -o out/online_boutique.svg; \
	else $(BIN)/mscheck graph specs/architectures/online_boutique.ms -o out/online_boutique.dot; fi
	$(BIN)/mscheck model $(EXAMPLE)
	$(BIN)/mscheck check $(EXAMPLE)
	-$(BIN)/mscheck check specs/classic/philosophers.ms

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
