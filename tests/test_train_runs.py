"""Run-level trainer tests on the real demo shards: config validation, every objective, kill -9 and
resume, DDP against one process, pickle-free checkpoints, and a golden loss curve.

The golden curve, ``tests/golden/tiny_curve.json``, holds the per-step (task, loss) of
``tiny recipe=all steps=40 seed=0 model.dropout=0`` on the ``demo_shards`` fixture. After an
intended change to the model, the objectives, the masking or the data order, rewrite it with

    XLKIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_train_runs.py -k golden

and commit the new file with the change that explains it.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from trainer import checkpoint, dist
from trainer.config import load_config
from trainer.train import build, loop, main

pytestmark = [pytest.mark.usefixtures("one_torch_thread"), pytest.mark.spark, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "tiny_curve.json"
GOLDEN_ARGS = ["tiny", "recipe=all", "steps=40", "seed=0", "model.dropout=0"]
OBJECTIVES = ("mmlm", "tlm", "camlm", "btmlm", "mep", "oe")
MLM_METRICS = {"mlm_acc"}
TASK_METRICS = {"mmlm": MLM_METRICS, "tlm": MLM_METRICS, "camlm": MLM_METRICS, "btmlm": MLM_METRICS,
                "mep": {"mlm_acc", "mlm", "nce", "nce_acc", "queue"}, "oe": {"nce", "nce_acc", "queue"}}
CPU = ["progress=false", "device=cpu"]
CHECKPOINT_FILES = {"model.safetensors", "optimizer.safetensors", "extra.safetensors", "state.json"}


def read_metrics(out: Path) -> list[dict]:
    with open(out / "metrics.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def train_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "trainer.train", *args]


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / "checkpoints" / f"step-{step:08d}"


def latest_step(out: Path) -> int | None:
    try:
        name = (out / "checkpoints" / "latest").read_text().strip()
    except FileNotFoundError:
        return None
    return int(name.removeprefix("step-"))


def last_logged_step(out: Path) -> int:
    """The last complete line of a metrics file that another process is still writing."""
    try:
        lines = (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            return json.loads(line)["step"]
        except (json.JSONDecodeError, KeyError):
            continue
    return 0


def assert_finite_rows(rows: list[dict]) -> None:
    for r in rows:
        for k, v in r.items():
            if isinstance(v, float):
                assert math.isfinite(v), f"step {r['step']}: {k} = {v}"
        assert r["loss"] > 0, r
        assert r["targets"] > 0 and r["tokens"] > 0, r
        assert {k.split(".", 1)[1] for k in r if "." in k} == TASK_METRICS[r["task"]], r


# ---- 1. config validation, before the first step ------------------------------------------------------


def distinct_doc_entities(docs_dir: Path) -> int:
    """The entities that have a document, read straight from the Arrow files of the docs shards."""
    manifest = json.loads((docs_dir / "manifest.json").read_text())
    qids = set()
    for entry in manifest["files"]:
        with pa.memory_map(str(docs_dir / entry["name"]), "r") as source:
            table = pa.ipc.open_file(source).read_all()
        qids |= set(table.column("qid").to_pylist())
    return len(qids)


@pytest.fixture(scope="module")
def shards_without_pairs(demo_shards, tmp_path_factory) -> Path:
    """The demo shards less the pairs task (links to the other task directories, the same manifest)."""
    src = demo_shards["shards"]
    dst = tmp_path_factory.mktemp("nopairs") / "shards"
    dst.mkdir()
    for entry in src.iterdir():
        if entry.name == "pairs":
            continue
        if entry.is_dir():
            (dst / entry.name).symlink_to(entry, target_is_directory=True)
        else:
            (dst / entry.name).write_bytes(entry.read_bytes())
    assert (src / "pairs" / "manifest.json").exists() and not (dst / "pairs").exists()
    return dst


def run_refused(args: list[str], out: Path, capsys) -> str:
    capsys.readouterr()
    assert main(args + [f"out={out}", *CPU]) == 2
    err = capsys.readouterr().err
    assert not (out / "metrics.jsonl").exists() and not (out / "checkpoints").exists(), "a step ran"
    return err


def test_missing_shards_name_the_directory_and_the_fix(shards_without_pairs, tmp_path, capsys):
    err = run_refused(["tiny", f"shards={shards_without_pairs}", "recipe=tlm", "steps=2"], tmp_path / "run", capsys)
    assert err == (f"error: objectives.tlm needs the pairs shards, but {shards_without_pairs}/pairs has none: "
                   "build them with make shards TASKS=pairs, or set objectives.tlm.weight=0\n")


def test_unknown_key_suggests_the_close_one(demo_shards, tmp_path, capsys):
    err = run_refused(["tiny", f"shards={demo_shards['shards']}", "recipe=xlm-k", "objectives.mep.queu_size=3"],
                      tmp_path / "run", capsys)
    assert err == "error: unknown config key 'objectives.mep.queu_size'; did you mean objectives.mep.queue_size?\n"


def test_queue_larger_than_the_candidates_names_the_limit(demo_shards, tmp_path, capsys):
    shards = demo_shards["shards"]
    n = distinct_doc_entities(shards / "docs")
    assert 16 <= n < 100000   # the tiny preset's OE queue (16) fits, MEP's 100000 does not
    err = run_refused(["tiny", f"shards={shards}", "recipe=xlm-k", "objectives.mep.queue_size=100000", "steps=2"],
                      tmp_path / "run", capsys)
    assert err == (f"error: objectives.mep.queue_size=100000 is larger than the {n} candidate entities with "
                   f"documents in {shards}/docs: set objectives.mep.queue_size to at most {n} (a larger queue "
                   "would hold positives as negatives)\n")


def test_no_objective_enabled(demo_shards, tmp_path, capsys):
    err = run_refused(["tiny", f"shards={demo_shards['shards']}", "objectives.mmlm.weight=0"], tmp_path / "run",
                      capsys)
    assert err == "error: no objective has a weight above 0: set e.g. recipe=ernie-m or objectives.mmlm.weight=1\n"


def test_flash_attention_refused(demo_shards, tmp_path, capsys):
    err = run_refused(["tiny", f"shards={demo_shards['shards']}", "recipe=ernie-m", "model.attention=flash"],
                      tmp_path / "run", capsys)
    assert err == ("error: model.attention=flash: use sdpa or eager (flash attention cannot take the 4-D masks "
                   "of TLM, CAMLM and BTMLM)\n")


# ---- 2. every objective alone, and all mixed -----------------------------------------------------------


@pytest.mark.parametrize("name", OBJECTIVES)
def test_each_objective_alone(demo_shards, tmp_path, name):
    out = tmp_path / "run"
    weights = [f"objectives.{n}.weight={1 if n == name else 0}" for n in OBJECTIVES]
    assert main(["tiny", f"shards={demo_shards['shards']}", f"out={out}", "steps=3", "batch_size=8",
                 "grad_accum=2", *weights, *CPU]) == 0
    rows = read_metrics(out)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert [r["task"] for r in rows] == [name] * 3
    assert_finite_rows(rows)
    if name in ("mep", "oe"):   # one target per query whose entity has a document: at most 2 x 8
        assert all(r["targets"] <= 16 for r in rows)
    assert latest_step(out) == 3


@pytest.fixture(scope="module")
def golden_run(demo_shards, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("golden") / "run"
    assert main(GOLDEN_ARGS + [f"shards={demo_shards['shards']}", f"out={out}", "save_every=1000", *CPU]) == 0
    return read_metrics(out)


def test_all_objectives_mixed(golden_run):
    assert [r["step"] for r in golden_run] == list(range(1, 41))
    assert {r["task"] for r in golden_run} == set(OBJECTIVES)
    assert_finite_rows(golden_run)


# ---- 6. the golden loss curve ----------------------------------------------------------------------------


def test_golden_loss_curve(golden_run):
    """Compare with tests/golden/tiny_curve.json; XLKIT_UPDATE_GOLDEN=1 rewrites it (module docstring)."""
    curve = [{"step": r["step"], "task": r["task"], "loss": r["loss"]} for r in golden_run]
    if os.environ.get("XLKIT_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        lines = ",\n".join("  " + json.dumps(c) for c in curve)
        GOLDEN.write_text(f'{{\n "args": {json.dumps(GOLDEN_ARGS)},\n "shards": "the demo_shards fixture '
                          f'(tests/conftest.py)",\n "curve": [\n{lines}\n ]\n}}\n', encoding="utf-8")
        pytest.skip(f"XLKIT_UPDATE_GOLDEN=1: rewrote {GOLDEN.relative_to(ROOT)}; rerun without it to compare")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["args"] == GOLDEN_ARGS
    assert [g["step"] for g in golden["curve"]] == list(range(1, 41))
    assert [r["task"] for r in curve] == [g["task"] for g in golden["curve"]]
    for r, g in zip(curve, golden["curve"], strict=True):
        assert r["loss"] == pytest.approx(g["loss"], rel=1e-4), f"step {r['step']} ({r['task']})"


# ---- 3. kill -9 and resume -------------------------------------------------------------------------------


def test_kill_and_resume_repeat_the_uninterrupted_run(demo_shards, tmp_path):
    steps, every = 40, 10
    args = ["tiny", f"shards={demo_shards['shards']}", "recipe=all", f"steps={steps}", f"save_every={every}",
            "batch_size=8", *CPU]
    ref_out, out = tmp_path / "ref", tmp_path / "killed"
    env = child_env()
    with open(tmp_path / "ref.err", "w") as ref_err, open(tmp_path / "killed.err", "w") as killed_err:
        ref = subprocess.Popen(train_cmd(*args, f"out={ref_out}"), cwd=ROOT, env=env, stderr=ref_err)
        victim = subprocess.Popen(train_cmd(*args, f"out={out}"), cwd=ROOT, env=env, stderr=killed_err)
        try:
            deadline = time.monotonic() + 300
            while not (latest_step(out) is not None and last_logged_step(out) > every):
                assert victim.poll() is None, f"the run ended before it was killed: {(tmp_path / 'killed.err').read_text()}"
                assert time.monotonic() < deadline, "no checkpoint within 300 s"
                time.sleep(0.01)
            victim.send_signal(signal.SIGKILL)
            assert victim.wait(60) == -signal.SIGKILL
        finally:
            if victim.poll() is None:
                victim.kill()
        resumed_from = latest_step(out)
        assert resumed_from is not None and every <= resumed_from < steps and resumed_from % every == 0
        logged = [r["step"] for r in read_metrics(out)]
        assert logged == list(range(1, len(logged) + 1)) and len(logged) > every

        resumed = subprocess.run(train_cmd(*args, f"out={out}", f"resume={out}"), cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert f"steps planned ({resumed_from}->{steps})" in resumed.stderr
        assert ref.wait(300) == 0, (tmp_path / "ref.err").read_text()

    want, got = read_metrics(ref_out), read_metrics(out)
    assert [r["step"] for r in want] == list(range(1, steps + 1))
    assert [r["step"] for r in got] == list(range(1, steps + 1))     # the killed run's extra lines are gone
    after = slice(resumed_from, steps)
    assert [(r["task"], r["loss"], r["targets"], r["tokens"]) for r in got[after]] == \
        [(r["task"], r["loss"], r["targets"], r["tokens"]) for r in want[after]]
    assert len({r["task"] for r in want[after]}) >= 4, "too few tasks after the checkpoint to mean much"
    a, b = load_file(checkpoint_dir(ref_out, steps) / "model.safetensors"), \
        load_file(checkpoint_dir(out, steps) / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    a, b = load_file(checkpoint_dir(ref_out, steps) / "extra.safetensors"), \
        load_file(checkpoint_dir(out, steps) / "extra.safetensors")
    assert {"mep.keys", "oe.keys", "mep.query.keys", "oe.query.keys"} <= a.keys() and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---- 4. DDP against one process -----------------------------------------------------------------------


def test_two_ranks_equal_one_rank_with_the_double_batch(demo_shards, tmp_path):
    """Two gloo ranks of batch B end where one process of batch 2B does, up to float error.

    The global batch is the same rows (rank r takes positions r, r+2, ... of the epoch's permutation,
    one process the positions 0, 1, ...), each example's masking is keyed by its stream position, each
    rank scales its loss by its share of the global targets and the gradients are summed. Dropout is
    off (its mask is drawn per rank). MMLM, TLM and CAMLM are per-token losses, so they split exactly.
    MEP and OE are left out: their InfoNCE uses in-batch negatives (a rank contrasts its B queries
    with its own B keys, one process with all 2B) and their heads' BatchNorm normalises with per-rank
    batch statistics, so the two set-ups compute different losses by design. BTMLM is left out too:
    its stage-1 pseudo tokens are argmaxes, which a float-level difference can flip.
    """
    steps = 8
    args = ["tiny", f"shards={demo_shards['shards']}", "recipe=tlm", "objectives.camlm.weight=1", "model.dropout=0",
            f"steps={steps}", "save_every=4", *CPU]
    ddp_out, one_out = tmp_path / "ddp", tmp_path / "one"
    torchrun = Path(sys.executable).parent / "torchrun"
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "trainer.train", *args,
                           "batch_size=4", f"out={ddp_out}"], cwd=ROOT, env=child_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 rank(s) on cpu" in proc.stderr
    assert main(args + ["batch_size=8", f"out={one_out}"]) == 0

    two, one = read_metrics(ddp_out), read_metrics(one_out)
    assert [r["step"] for r in two] == [r["step"] for r in one] == list(range(1, steps + 1))
    assert {r["task"] for r in one} == {"mmlm", "tlm", "camlm"}
    assert [(r["task"], r["targets"], r["tokens"]) for r in two] == [(r["task"], r["targets"], r["tokens"])
                                                                      for r in one]
    for a, b in zip(two, one, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5), a["step"]

    p2 = load_file(checkpoint.resolve(str(ddp_out)) + "/model.safetensors")
    p1 = load_file(checkpoint.resolve(str(one_out)) + "/model.safetensors")
    assert checkpoint.resolve(str(ddp_out)).endswith(f"step-{steps:08d}")
    assert p2.keys() == p1.keys()
    for k in p1:
        assert torch.allclose(p2[k], p1[k], rtol=0, atol=1e-5), (k, (p2[k] - p1[k]).abs().max())
    # the comparison has teeth: training moved the weights far more than the tolerance
    mid = load_file(checkpoint_dir(one_out, 4) / "model.safetensors")
    assert max(float((p1[k] - mid[k]).abs().max()) for k in p1 if p1[k].is_floating_point()) > 1e-3


# ---- 5. checkpoints without pickle --------------------------------------------------------------------


def test_checkpoints_load_without_pickle(demo_shards, tmp_path, monkeypatch):
    args = ["tiny", f"shards={demo_shards['shards']}", f"out={tmp_path / 'run'}", "recipe=all", "steps=6",
            "save_every=3", "batch_size=8", "objectives.btmlm.start=0", *CPU]   # 6 steps draw mep and oe
    env = dist.setup("cpu")
    tr = build(load_config(args[0], args[1:]), env)
    loop(tr)
    assert tr.step == 6
    path = checkpoint.resolve(str(tmp_path / "run"))
    assert path == str(checkpoint_dir(tmp_path / "run", 6))

    for ckpt in sorted((tmp_path / "run" / "checkpoints").glob("step-*")):
        assert {p.name for p in ckpt.iterdir()} == CHECKPOINT_FILES, ckpt
        for f in ckpt.iterdir():
            head = f.read_bytes()[:9]
            if f.suffix == ".json":
                json.loads(f.read_text(encoding="utf-8"))
            else:   # 8-byte header length, then the JSON header; torch.save would start with PK or \x80
                assert head[8:9] == b"{", f
                with safe_open(str(f), framework="pt") as st:
                    assert list(st.keys())

    def refuse(*a, **k):
        raise AssertionError("a checkpoint must load without unpickling")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)

    weights = load_file(os.path.join(path, "model.safetensors"))
    trained = tr.model.state_dict()
    tied = {"mlm.lm_head.decoder.weight", "mlm.lm_head.decoder.bias"}
    assert set(weights) == set(trained) - tied
    assert all(torch.equal(weights[k], trained[k]) for k in weights)

    fresh = build(load_config(args[0], args[1:]), env)     # a new model at its initialisation
    assert not torch.equal(fresh.model.state_dict()["mlm.roberta.embeddings.word_embeddings.weight"],
                           trained["mlm.roberta.embeddings.word_embeddings.weight"])
    state, extra = checkpoint.load(path, fresh.model, fresh.opt, fresh.sched)
    assert state["step"] == 6
    loaded = fresh.model.state_dict()
    assert loaded.keys() == trained.keys() and all(torch.equal(loaded[k], trained[k]) for k in trained)
    mlm = fresh.model.mlm
    assert mlm.lm_head.decoder.weight.data_ptr() == mlm.roberta.embeddings.word_embeddings.weight.data_ptr()

    want, got = tr.opt.state_dict(), fresh.opt.state_dict()
    assert got["state"].keys() == want["state"].keys() and len(want["state"]) > 0
    for pid, st in want["state"].items():
        assert got["state"][pid].keys() == st.keys() == {"step", "exp_avg", "exp_avg_sq"}
        for k, v in st.items():
            assert torch.equal(got["state"][pid][k], v), (pid, k)
    assert [g["lr"] for g in got["param_groups"]] == [g["lr"] for g in want["param_groups"]]
    assert fresh.sched.state_dict() == tr.sched.state_dict()
    for name in ("mep", "oe"):
        assert torch.equal(extra[f"{name}.keys"], tr.objectives[name].queue.keys)
        assert torch.equal(extra[f"{name}.ids"], tr.objectives[name].queue.ids)
        assert torch.equal(extra[f"{name}.query.keys"], tr.objectives[name].query_queue.keys)

    # a full resume, still without pickle, takes the next step exactly as the original trainer does
    resumed = build(load_config(args[0], args[1:] + [f"resume={tmp_path / 'run'}"]), env)
    assert resumed.step == 6
    a, b = tr.train_step(), resumed.train_step()
    assert (a.task, a.loss, a.n_targets) == (b.task, b.loss, b.n_targets)


def test_eta_lines_give_the_plan_once_timed_then_every_tenth_when_not_a_terminal():
    from trainer.train import EtaLines

    class Bar:
        def __init__(self):
            self.lines = []

        def write(self, line, file=None):
            self.lines.append(line)

    # 10 s of start-up in step 1, then 0.5 s a step: the estimate leaves the start-up out
    bar, eta = Bar(), EtaLines(start=0, steps=1000, main=True, plain=True)
    for step in range(1, 1001):
        eta.update(step, elapsed=10 + 0.5 * step, bar=bar)
    assert bar.lines[0].startswith("step 25/1,000: 0.500 s/step, about 8m08s left (done near ")
    assert [x.split("/")[0] for x in bar.lines] == ["step 25"] + [f"step {s}" for s in range(100, 1000, 100)]
    quiet, tty = Bar(), EtaLines(start=500, steps=1000, main=True, plain=False)
    for step in range(501, 1001):
        tty.update(step, elapsed=0.1 * (step - 500), bar=quiet)
    assert len(quiet.lines) == 1 and quiet.lines[0].startswith("step 525/1,000: 0.100 s/step, about 0m48s left")


def test_freeze_encoder_trains_the_mlm_head_alone(demo_shards, tmp_path, capsys):
    """model.freeze_encoder: only the head's dense, LayerNorm and bias move; the tied decoder (the word
    embedding) and the encoder stay; any objective beyond MMLM is refused."""
    from safetensors.numpy import load_file

    out = tmp_path / "run"
    assert main(["tiny", f"shards={demo_shards['shards']}", f"out={out}", "recipe=mmlm", "model.freeze_encoder=true",
                 "steps=2", "save_every=1", "keep_checkpoints=2", "optim.lr=1e-2", "optim.warmup_steps=1",
                 *CPU]) == 0
    a, b = (load_file(checkpoint_dir(out, s) / "model.safetensors") for s in (1, 2))
    moved = sorted(k for k in a if not (a[k] == b[k]).all())
    assert moved == ["mlm.lm_head.bias", "mlm.lm_head.dense.bias", "mlm.lm_head.dense.weight",
                     "mlm.lm_head.layer_norm.bias", "mlm.lm_head.layer_norm.weight"]
    err = run_refused(["tiny", f"shards={demo_shards['shards']}", "recipe=xlm-k", "model.freeze_encoder=true"],
                      tmp_path / "refused", capsys)
    assert err == ("error: model.freeze_encoder=true trains the MLM head alone: use recipe=mmlm (enabled now: "
                   "mmlm, mep, oe)\n")
