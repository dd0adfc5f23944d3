# The course's two commands: `make book` and `make test`. Both create .venv on first use.
# Every tool runs from .venv/bin, and .venv/bin is first on PATH for everything started from
# here, so nothing depends on the caller having activated the virtual environment (nbgrader,
# for one, runs the `alembic` executable it finds on PATH).

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)

.PHONY: book test test-fast system-packages lint grade check bench clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	touch $(STAMP)

# The execution cache keys a page on its code cells alone: when what they import or read changes
# (the package, the chapters' modules, the instructor's solutions, the data, the benchmark
# figures, the pinned libraries), the cache is emptied and every page runs again, so neither
# the book nor the chapter tests, which read the build's executions, show a stale result.
BOOK_INPUTS := $(shell find rnnbook chapters solutions data -type f \( -name '*.py' -o -name '*.ipynb' \
	-o -name '*.txt' \) -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*') \
	bench/figures.json requirements.txt
BOOK_INPUTS_SEEN := _build/.book-inputs
$(BOOK_INPUTS_SEEN): $(BOOK_INPUTS)
	rm -rf _build/.jupyter_cache
	mkdir -p _build && touch $@

## book: build the HTML book into _build/html (notebooks executed, results cached). The
## Exercises part is the student version of each assignment, released from solutions/.
## MPLBACKEND is unset: a headless shell's `MPLBACKEND=Agg` would leave every figure out of the
## pages (the kernel's inline backend is what shows a figure the cell does not display itself).
book: $(STAMP) $(BOOK_INPUTS_SEEN)
	$(BIN)/python -m autograder release --no-validate --out _build/release --pages exercises
	env -u MPLBACKEND $(BIN)/jupyter-book build --warningiserror --nitpick --keep-going .

# Tests run on one pytest-xdist worker per core, each test file whole on one worker (a fixture
# shared by a file's tests, such as the book's build or a graded class, is computed once).
PARALLEL := -n auto --dist loadfile

## test: lint, then the whole test suite (helpers, chapters, book build, browser check).
test: system-packages $(STAMP) lint
	$(BIN)/python -m pytest $(PARALLEL)

## test-fast: lint, then the quick tests only (minutes: helpers, checks, sandbox, isolation, units).
test-fast: system-packages $(STAMP) lint
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow"

## grade: build the example submissions and grade them (a demonstration of the pipeline).
grade: $(STAMP)
	rm -rf _build/examples _build/graded
	$(BIN)/python -m autograder examples --out _build/examples
	$(BIN)/python -m autograder grade _build/examples --out _build/graded \
		--config autograder/course.example.toml

## check: grade one notebook as grading would, before handing it in (NB=path/to/bptt.ipynb,
## ARGS= for more options of `python -m autograder check`): the score, each failed test and
## its cause, the feedback page in NAME-check/ beside it.
check: $(STAMP)
	$(if $(NB),,$(error NB is missing: make check NB=path/to/notebook.ipynb))
	$(BIN)/python -m autograder check "$(NB)" $(ARGS)

## bench: run every benchmark (BPTT speed, concatenation, SymPy, book build; minutes), print
## one table and write bench/figures.json, which the book's Performance page renders.
bench: $(STAMP)
	$(BIN)/python -m bench

## system-packages: the Debian packages the tests need (bubblewrap, the PostgreSQL server,
## Chromium): silent if present, else installed as root or with password-less sudo, else one
## line naming them and the command that installs them, and make stops before any test.
system-packages:
	@tools/system-packages

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf _build exercises
