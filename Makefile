# Two commands on a fresh machine with Python 3:
#   make run    set up, fetch MNIST once, train the default model, print the test accuracy
#   make test   set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FASHION_DIR := /usr/share/datasets/fashion-mnist
RUN_ARGS ?=
# on a busy machine another apt-get may hold the dpkg lock: wait for it (up to 10 minutes)
APT_WAIT := -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3

.PHONY: run test lint bench docs fashion-mnist clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# the library and what the command line needs (progress bars, plots, make_blobs)
$(VENV)/.train-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[train]'
	touch $@

# plus the test tools, PyTorch (the reference the tests compare against) and MPI (the
# multi-process tests run 2 ranks under mpiexec)
$(VENV)/.test-installed: $(VENV)/.train-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[train,test,bench,mpi]'
	touch $@

run: $(VENV)/.train-installed
	$(PY) -m abdou_torch train mnist --out runs/mnist $(RUN_ARGS)

# Fashion-MNIST comes from Debian's dataset-fashion-mnist package (root and apt-get needed)
fashion-mnist:
	@if [ ! -d $(FASHION_DIR) ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get $(APT_WAIT) install -y -q dataset-fashion-mnist || \
	     (apt-get $(APT_WAIT) update -q && \
	      apt-get $(APT_WAIT) install -y -q dataset-fashion-mnist)) >/dev/null; \
	  else echo "Fashion-MNIST missing: run 'sudo apt-get install dataset-fashion-mnist'"; fi; \
	fi

test: $(VENV)/.test-installed fashion-mnist
	$(PY) -m pytest -n 2 -p no:cacheprovider

# ruff (pyflakes, pycodestyle, bugbear) over everything, mypy over the package
lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check abdou_torch tests benchmarks examples
	$(VENV)/bin/mypy

bench: $(VENV)/.test-installed
	$(PY) -m benchmarks

# the documentation site, into docs/_build/html: API pages from the docstrings, tutorials
# executed as they build (a failing cell fails the build), warnings as errors
$(VENV)/.docs-installed: $(VENV)/.test-installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[train,test,bench,mpi,docs]'
	touch $@

docs: $(VENV)/.docs-installed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m sphinx -W --keep-going -n -b html -j 1 \
	  docs docs/_build/html

clean:
	rm -rf $(VENV) runs .pytest_cache docs/_build docs/api/generated
