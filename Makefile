# semgan: two commands do all the set-up on a fresh machine with Python 3.11.
#   make book   build the book (HTML in _build/html) on the embedded synthetic data
#   make test   unit tests + every notebook on the smoke profile + a build of those copies
# Both create .venv from requirements.txt when it is missing or older than it.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
export MPLBACKEND ?= Agg

.PHONY: book test venv clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: $(STAMP)
	$(PY) book/build.py --profile book --stage _build/book-src
	$(VENV)/bin/jupyter-book build _build/book-src --path-output . --keep-going
	@echo "The book is in _build/html/index.html"

test: $(STAMP)
	rm -rf _build/smoke-src
	$(PY) book/build.py --profile smoke --stage _build/smoke-src --stage-only
	SEMGAN_BOOK_STAGE=_build/smoke-src $(PY) -m pytest -q
	$(VENV)/bin/jupyter-book build _build/smoke-src --path-output _build/smoke --warningiserror --keep-going

clean:
	rm -rf _build
