# Every target bootstraps .venv by itself: a fresh clone needs only Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,postgres,redis,telethon

.PHONY: install run test bench catalogs clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]" --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/ppb up

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/actors.py --redis redis://127.0.0.1:6379/15
	$(BIN)/python bench/ranking.py
	$(BIN)/python bench/ranking_eval.py
	$(BIN)/python bench/ranking_steering.py
	$(BIN)/python bench/cold_replica.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/bot.py
	$(BIN)/python bench/analytics.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/delivery.py

catalogs: $(STAMP)  # after editing a bot .po file: the .mo files are committed
	$(BIN)/python -c "from ppb.bot.i18n import compile_catalogs; print(*compile_catalogs(), sep='\n')"

clean:
	rm -rf $(VENV) data .pytest_cache
