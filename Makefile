# semgan: two commands do all the set-up on a fresh machine with Python 3.11 and npm.
#   make book   build the book (HTML in _build/html) on the embedded synthetic data
#   make test   unit tests + every notebook on the smoke profile + a build of those copies
#               + a headless-browser check of every page of that build, offline
# Both create .venv from requirements.txt when it is missing or older than it, and fetch
# the JavaScript the book serves itself (MathJax, require.js, the widget manager; npm
# pack of the versions in book/web_assets.json) into .venv/web. After that, nothing is
# downloaded: both build and read with the network cut.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
WEB    := $(VENV)/web/installed.json
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
export MPLBACKEND ?= Agg

.PHONY: book test venv clean

venv: $(STAMP) $(WEB)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(WEB): book/web_assets.json $(STAMP)
	$(PY) book/build.py --fetch-web-assets

book: $(STAMP) $(WEB)
	$(PY) book/build.py --profile book --stage _build/book-src
	$(VENV)/bin/jupyter-book build _build/book-src --path-output . --keep-going
	@echo "The book is in _build/html/index.html"

test: $(STAMP) $(WEB)
	rm -rf _build/smoke-src _build/smoke _build/browser
	$(PY) book/build.py --profile smoke --stage _build/smoke-src --stage-only
	SEMGAN_BOOK_STAGE=_build/smoke-src $(PY) -m pytest -q --ignore=tests/test_browser.py
	$(VENV)/bin/jupyter-book build _build/smoke-src --path-output _build/smoke --warningiserror --keep-going
	SEMGAN_BOOK_HTML=_build/smoke/_build/html $(PY) -m pytest -q tests/test_browser.py

clean:
	rm -rf _build
