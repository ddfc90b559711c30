# crmlab: two commands.
#   make lab   set up .venv (if missing or pyproject.toml changed) and start JupyterLab on the course
#              (the student bundle in lab/: course notebooks and exercise sets, no solutions)
#   make test  the same set-up, then every test: unit tests, course notebooks, solution
#              notebooks (nbval) and the student-version sync check
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# what `make setup` and the tests install: every extra (pyproject.toml: dev)
EXTRAS ?= dev
# what `make lab` installs for students: JupyterLab and the comparison packages (course),
# the real datasets of notebooks 05, 09, 10 (realdata) and the Spark SQL compiler of 16 (spark)
LAB_EXTRAS ?= course,realdata,spark
STAMP     := $(VENV)/.crmlab-installed-$(EXTRAS)
LAB_STAMP := $(VENV)/.crmlab-installed-$(LAB_EXTRAS)
# the folder `make lab` opens: the student bundle (`crmlab release --out`), with the course and
# the student exercise sets but no solutions; created when missing, refreshed on every `make lab`
# without overwriting a file the student changed
LAB_DIR ?= lab
# `make test-oldest`: the lowest versions pyproject.toml allows, in their own environment
OLDEST := .venv-oldest
NBVAL  := --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
JOBS   ?= 2
# plots must render inline in the kernels, as they do for students
unexport MPLBACKEND

.PHONY: setup setup-lab lab test test-release test-unit test-notebooks test-exercises test-oldest lint release clean

# one stamp per set of extras, so `make lab` then `make test` installs only what is missing
$(VENV)/.crmlab-installed-%: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

setup: $(STAMP)

setup-lab: $(LAB_STAMP)

lab: setup-lab
	$(BIN)/crmlab release --out "$(LAB_DIR)"
	$(BIN)/jupyter lab --ServerApp.root_dir="$(abspath $(LAB_DIR))" --LabApp.default_url=/lab/tree/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

test: setup test-release test-notebooks test-exercises test-unit

test-release: setup
	$(BIN)/crmlab release --check

test-unit: setup
	$(BIN)/python -m pytest tests crmlab --doctest-modules -n $(JOBS) -p no:cacheprovider

test-notebooks: setup
	$(BIN)/python -m pytest --nbval $(NBVAL) -n $(JOBS) --dist loadscope notebooks

test-exercises: setup
	$(BIN)/python -m pytest --nbval-lax $(NBVAL) -n $(JOBS) --dist loadscope exercises/solutions

# the unit tests against the lowest version of every dependency that pyproject.toml allows
$(OLDEST)/.installed: pyproject.toml tools/oldest_constraints.py
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) tools/oldest_constraints.py > $(OLDEST)/constraints.txt
	$(OLDEST)/bin/python -m pip install --quiet -c $(OLDEST)/constraints.txt -e ".[dev]"
	$(OLDEST)/bin/python -m pip check
	@touch $@

test-oldest: $(OLDEST)/.installed
	$(OLDEST)/bin/python -m pytest tests crmlab --doctest-modules -n $(JOBS) -p no:cacheprovider

lint: setup
	$(BIN)/ruff check crmlab tests benchmarks tools
	$(BIN)/mypy

release: setup
	$(BIN)/crmlab release

clean:
	rm -rf $(VENV) $(OLDEST) .pytest_cache

# The course website (docs/README.md): the executed notebooks, exercise sets, glossary, data card
# and API reference as a static site in docs/_build/html, built offline; test-site checks it
# in headless Chromium (Debian's chromium and chromium-driver packages; .ci/run installs them).
SITE_STAMP := $(VENV)/.crmlab-site-installed
.PHONY: site test-site
$(SITE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[site]"
	@touch $(SITE_STAMP)

site: setup $(SITE_STAMP)
	$(BIN)/python docs/build_site.py

test-site: site
	$(BIN)/python -m pytest docs/tests -p no:cacheprovider
