"""Tests that pin the method of the objectives (tiny config, CPU).

- InfoNCE equals a hand computation on a 3x3 example, with and without a queue, and with false
  negatives (the positive's own entity) masked out.
- The key queue is a FIFO ring buffer of detached keys, filled from all ranks (2 gloo processes).
- Each objective alone overfits one fixed batch of real rows (the demo shards): the loss falls
  by at least 90% (MEP: the total and its InfoNCE part; OE: its InfoNCE).
- BTMLM: the pseudo tokens are never special ids or <mask>; the loss covers source positions only.
"""

from __future__ import annotations

import math
import socket
from datetime import timedelta

import pytest
import torch
import torch.nn.functional as F

from trainer import dist as tdist
from trainer.config import load_config
from trainer.objectives import Example
from trainer.objectives.contrastive import KeyQueue, info_nce
from trainer.token_noise import IGNORE

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- InfoNCE by hand ------------------------------------------------------------------------------

# Unit vectors, then scaled per row: info_nce must L2-normalise them back.
Q = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]) * torch.tensor([[2.0], [3.0], [0.5]])
K = torch.tensor([[0.6, 0.8, 0], [0, 1, 0], [0.8, 0, 0.6]]) * torch.tensor([[7.0], [5.0], [1.0]])
# cos(q_i, k_j) = k_j[i]:  [[0.6, 0, 0.8], [0.8, 1, 0], [0, 0, 0.6]]; tau = 0.5 doubles them
TAU = 0.5
Z = torch.tensor([[0.0, 0, 1], [1, 0, 0]])   # queued keys (stored normalised)
NEG = -math.inf


def ce(logits: list[float], target: int) -> float:
    return -logits[target] + math.log(sum(math.exp(x) for x in logits))


def mean_ce(rows: list[list[float]]) -> float:
    return sum(ce(r, i) for i, r in enumerate(rows)) / len(rows)


ZQ = torch.tensor([[0.0, 1, 0]])             # queued queries (stored normalised)
# same side: q_i . q_j = 0 (i != j); k_0.k_1 = 0.8, k_0.k_2 = 0.48, k_1.k_2 = 0, so 1.6, 0.96, 0 after tau


def test_info_nce_equals_hand_computation():
    """Negatives as in XLM-K's released code: the other side in the batch, then the same side
    (itself masked out)."""
    l_qk, l_kq = info_nce(Q, K, TAU)
    want_qk = mean_ce([[1.2, 0.0, 1.6, NEG, 0.0, 0.0], [1.6, 2.0, 0.0, 0.0, NEG, 0.0],
                       [0.0, 0.0, 1.2, 0.0, 0.0, NEG]])
    want_kq = mean_ce([[1.2, 1.6, 0.0, NEG, 1.6, 0.96], [0.0, 2.0, 0.0, 1.6, NEG, 0.0],
                       [1.6, 0.0, 1.2, 0.96, 0.0, NEG]])
    assert float(l_qk) == pytest.approx(want_qk, abs=1e-5)
    assert float(l_kq) == pytest.approx(want_kq, abs=1e-5)
    assert abs(want_qk - want_kq) > 0.05   # the two directions differ on this example


def test_info_nce_with_one_queue_per_direction():
    l_qk, l_kq = info_nce(Q, K, TAU, key_queue=Z, query_queue=ZQ)
    # q_i . z_m = z_m[i];  k_i . zq = k_i[1] = 0.8, 1, 0
    want_qk = mean_ce([[1.2, 0.0, 1.6, NEG, 0.0, 0.0, 0.0, 2.0], [1.6, 2.0, 0.0, 0.0, NEG, 0.0, 0.0, 0.0],
                       [0.0, 0.0, 1.2, 0.0, 0.0, NEG, 2.0, 0.0]])
    want_kq = mean_ce([[1.2, 1.6, 0.0, NEG, 1.6, 0.96, 1.6], [0.0, 2.0, 0.0, 1.6, NEG, 0.0, 2.0],
                       [1.6, 0.0, 1.2, 0.96, 0.0, NEG, 0.0]])
    assert float(l_qk) == pytest.approx(want_qk, abs=1e-5)
    assert float(l_kq) == pytest.approx(want_kq, abs=1e-5)
    # the key queue serves q -> k only, the query queue k -> q only
    only_keys = info_nce(Q, K, TAU, key_queue=Z)
    assert float(only_keys[1]) == pytest.approx(float(info_nce(Q, K, TAU)[1]), abs=1e-6)


def test_info_nce_masks_negatives_of_the_same_entity():
    # rows 0 and 2 are the same entity; key-queue entry 0 is row 1's entity, the queued query rows 0/2's
    l_qk, l_kq = info_nce(Q, K, TAU, key_queue=Z, ids=torch.tensor([5, 6, 5]), key_queue_ids=torch.tensor([6, 9]),
                          query_queue=ZQ, query_queue_ids=torch.tensor([5]))
    want_qk = mean_ce([[1.2, 0.0, NEG, NEG, 0.0, NEG, 0.0, 2.0], [1.6, 2.0, 0.0, 0.0, NEG, 0.0, NEG, 0.0],
                       [NEG, 0.0, 1.2, NEG, 0.0, NEG, 2.0, 0.0]])
    want_kq = mean_ce([[1.2, 1.6, NEG, NEG, 1.6, NEG, NEG], [0.0, 2.0, 0.0, 1.6, NEG, 0.0, 2.0],
                       [NEG, 0.0, 1.2, NEG, 0.0, NEG, NEG]])
    assert float(l_qk) == pytest.approx(want_qk, abs=1e-5)
    assert float(l_kq) == pytest.approx(want_kq, abs=1e-5)


# ---- the key queue --------------------------------------------------------------------------------


def keys(*values: float) -> torch.Tensor:
    return torch.tensor([[v, -v] for v in values], dtype=torch.float32)


def test_queue_is_a_fifo_ring():
    q = KeyQueue(4, 2)
    q.push(keys(0, 1, 2), torch.tensor([10, 11, 12]))
    k, ids = q.contents()
    assert torch.equal(k, keys(0, 1, 2)) and ids.tolist() == [10, 11, 12]
    q.push(keys(3, 4, 5), torch.tensor([13, 14, 15]))   # 3 fills slot 3; 4 and 5 overwrite 0 and 1
    k, ids = q.contents()
    assert torch.equal(k, keys(4, 5, 2, 3)) and ids.tolist() == [14, 15, 12, 13]
    q.push(keys(6, 7, 8, 9, 10, 11), torch.arange(16, 22))   # more than fits at once: the last 4
    k, ids = q.contents()
    assert sorted(ids.tolist()) == [18, 19, 20, 21] and torch.equal(k, keys(10, 11, 8, 9))
    empty = KeyQueue(0, 2)
    empty.push(keys(1), torch.tensor([1]))
    assert empty.contents()[0].shape == (0, 2)


def test_queue_holds_detached_copies():
    q = KeyQueue(3, 2)
    w = torch.nn.Parameter(torch.ones(2, 2))
    k = keys(1, 2) @ w
    assert k.requires_grad
    q.push(k, torch.tensor([1, 2]))
    stored, _ = q.contents()
    assert not stored.requires_grad and stored.grad_fn is None and not q.keys.requires_grad
    with torch.no_grad():
        w.mul_(3)   # changing the source after the push leaves the queue alone
    assert torch.equal(q.contents()[0], keys(1, 2) @ torch.ones(2, 2))


def _queue_worker(rank: int, port: int, out: str) -> None:
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2,
                                         timeout=timedelta(seconds=60))
    try:
        assert tdist.active()
        q = KeyQueue(6, 2)
        w = torch.nn.Parameter(torch.ones(1))
        first = [keys(1, 2), keys(11, 12, 13)][rank] * w          # different counts per rank, with a graph
        q.push(first, torch.tensor([[1, 2], [11, 12, 13]][rank]))
        q.push([keys(3), keys(14)][rank], torch.tensor([[3], [14]][rank]))
        k, ids = q.contents()
        torch.save({"keys": k, "ids": ids, "grad": k.requires_grad}, f"{out}/rank{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_queue_is_filled_from_all_ranks(tmp_path):
    torch.multiprocessing.spawn(_queue_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    # push 1 gathers [1, 2 | 11, 12, 13] into slots 0..4; push 2 gathers [3 | 14]: 3 fills slot 5,
    # 14 overwrites the oldest (slot 0)
    assert r0["ids"].tolist() == [14, 2, 11, 12, 13, 3]
    assert torch.equal(r0["keys"], keys(14, 2, 11, 12, 13, 3))
    assert torch.equal(r0["keys"], r1["keys"]) and torch.equal(r0["ids"], r1["ids"])
    assert not r0["grad"] and not r1["grad"]


# ---- each objective overfits a fixed batch of real rows --------------------------------------------

BATCH, STEPS, LR = 8, 50, 3e-3
OBJECTIVES = ("mmlm", "tlm", "camlm", "btmlm", "mep", "oe")


@pytest.fixture(scope="module")
def trainer(demo_shards, tmp_path_factory):
    from trainer.train import build

    cfg = load_config("tiny", [f"shards={demo_shards['shards']}", f"out={tmp_path_factory.mktemp('run')}",
                               f"tokenizer={demo_shards['tokenizer']}", "model.dropout=0",
                               "objectives.mep.queue_size=8", "objectives.oe.queue_size=8"]
                      + [f"objectives.{name}.weight=1" for name in OBJECTIVES])
    tr = build(cfg, tdist.Env())
    assert set(tr.objectives) == set(OBJECTIVES)
    return tr, {k: v.clone() for k, v in tr.model.state_dict().items()}


def fixed_batch(tr, name: str, n: int = BATCH):
    examples = [Example(k, r) for k, r in tr.streams[name].take_keyed(n)]
    return tr.objectives[name].make_batch(examples), examples


@pytest.mark.parametrize("name", OBJECTIVES)
def test_objective_overfits_a_fixed_batch(trainer, name):
    tr, initial = trainer
    torch.manual_seed(0)
    tr.model.load_state_dict(initial)
    tr.model.train()
    obj = tr.objectives[name]
    if hasattr(obj, "queue"):
        obj.queue = obj.query_queue = None   # fresh queues for this run
    batch, _ = fixed_batch(tr, name)
    assert batch.n_targets >= (BATCH if name in ("mep", "oe") else 10)
    opt = torch.optim.AdamW(tr.model.parameters(), lr=LR)
    first = last = None
    for _ in range(STEPS):
        loss, metrics = obj(tr.model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        now = {"loss": float(loss.detach())} | {k: float(v) for k, v in metrics.items()}
        first = first or now
        last = now
    assert last["loss"] <= 0.1 * first["loss"], (first, last)
    if name in ("mep", "oe"):
        assert last["nce"] <= 0.1 * first["nce"], (first, last)
        assert first["nce"] > 1.0   # it started from chance, not from a solved batch
        stored, ids = obj.queue.contents()
        assert stored.shape == (8, tr.cfg.model.head_dim) and not stored.requires_grad
        assert torch.allclose(stored.norm(dim=1), torch.ones(8), atol=1e-5)   # normalised keys
        queries, query_ids = obj.query_queue.contents()
        assert queries.shape == stored.shape and torch.equal(query_ids, ids) and not torch.equal(queries, stored)
    if name == "mep":
        assert first["mlm"] > 1.0 and last["mlm"] < first["mlm"]


def test_btmlm_pseudo_tokens_are_ordinary_and_the_loss_covers_the_source_only(trainer):
    tr, initial = trainer
    tr.model.load_state_dict(initial)
    obj, ctx = tr.objectives["btmlm"], tr.objectives["btmlm"].ctx
    batch, examples = fixed_batch(tr, "btmlm")
    specials = [ctx.bos, ctx.eos, ctx.pad, 3, ctx.mask]   # 3 = <unk>
    try:
        with torch.no_grad():   # make every special token, <mask> above all, the model's favourite
            tr.model.mlm.lm_head.bias[specials] += 100.0
            tr.model.mlm.lm_head.bias[ctx.mask] += 100.0
        tr.model.eval()
        hidden, _ = tr.model.encode(batch["stage1_ids"], batch["stage1_mask"], batch["stage1_positions"],
                                    batch["stage1_langs"])
        assert (tr.model.logits(hidden[batch["stage1_slots"]]).argmax(-1) == ctx.mask).all()  # the trap is set
        pseudo = obj.pseudo_tokens(tr.model, batch)
    finally:
        tr.model.load_state_dict(initial)
    assert pseudo.numel() == int(batch["stage1_slots"].sum()) == int(batch["stage2_slots"].sum()) > 0
    assert int(pseudo.min()) >= ctx.first_piece and int(pseudo.max()) < ctx.mask
    assert not torch.isin(pseudo, torch.tensor(specials)).any()

    labels = batch["labels"]
    selected = labels != IGNORE
    assert selected.any()
    for b, e in enumerate(examples):
        n = len(e.row["ids"])
        assert not selected[b, n + 2:].any()                  # nothing after <s> x </s> is a target
        assert not selected[b, [0, n + 1]].any()              # nor <s> and </s>
        source = torch.tensor(e.row["ids"])
        assert torch.equal(labels[b, 1:n + 1][selected[b, 1:n + 1]], source[selected[b, 1:n + 1]])
        # stage 2 keeps the placeholders (filled in by __call__), never noises them
        k = int(batch["stage2_slots"][b].sum())
        assert batch["input_ids"][b, n + 3:n + 3 + k].tolist() == [ctx.mask] * k
    # the loss is the cross-entropy over exactly those source positions
    tr.model.eval()
    with torch.no_grad():
        loss, _ = obj(tr.model, batch)
        ids = batch["input_ids"].clone()
        ids[batch["stage2_slots"]] = obj.pseudo_tokens(tr.model, batch)
        hidden, _ = tr.model.encode(ids, batch["attention_mask"], batch["position_ids"], batch["lang_ids"])
        source = torch.zeros_like(selected)
        for b, e in enumerate(examples):
            source[b, 1:len(e.row["ids"]) + 1] = True
        want = F.cross_entropy(tr.model.logits(hidden[source & selected]), labels[source & selected])
    assert float(loss) == pytest.approx(float(want), rel=1e-5)


# ---- BTMLM's warm-up -------------------------------------------------------------------------------


def test_btmlm_joins_the_task_mix_only_after_its_start():
    from types import SimpleNamespace

    from trainer.config import check_values
    from trainer.objectives import REGISTRY, Context
    from trainer.train import Trainer
    from xlkit_core.errors import ConfigError

    cfg = load_config("tiny", ["shards=x", "out=y", "recipe=ernie-m", "steps=400"])
    assert cfg.objectives.btmlm.start == 0.5
    ctx = Context(bos=0, eos=2, pad=1, mask=99, vocab_size=100)
    objs = {n: REGISTRY[n](getattr(cfg.objectives, n), ctx) for n in cfg.objectives.enabled()}
    fake = SimpleNamespace(objectives=objs, cfg=cfg)
    draws = [Trainer.draw_task(fake, step) for step in range(400)]
    assert "btmlm" not in draws[:200] and draws[200:].count("btmlm") > 30
    assert {"mmlm", "tlm", "camlm"} <= set(draws[:200])
    absolute = load_config("tiny", ["shards=x", "out=y", "recipe=btmlm", "objectives.btmlm.start=50"])
    assert REGISTRY["btmlm"](absolute.objectives.btmlm, ctx).start_step(1000) == 50
    alone = load_config("tiny", ["shards=x", "out=y", "objectives.mmlm.weight=0", "objectives.btmlm.weight=1",
                                 "objectives.btmlm.start=0.3"])
    with pytest.raises(ConfigError, match="BTMLM waits for other objectives"):
        check_values(alone)
    with pytest.raises(ConfigError, match="only directed exists"):
        check_values(load_config("tiny", ["shards=x", "out=y", "objectives.camlm.mode=symmetric"]))


# ---- what the objectives declare to the trainer (Objective's class-level methods) ---------------------


def test_each_objective_checks_its_own_config_section():
    from trainer.config import check_values
    from xlkit_core.errors import ConfigError

    def problems(*overrides: str) -> str:
        with pytest.raises(ConfigError) as exc:
            check_values(load_config("tiny", ["shards=x", "out=y", *overrides]))
        return str(exc.value)

    err = problems("recipe=xlm-k", "batch_size=1", "objectives.oe.temperature=0")
    assert err == ("objectives.mep needs batch_size >= 2 (its heads use BatchNorm and in-batch negatives); "
                   "objectives.oe needs batch_size >= 2 (its heads use BatchNorm and in-batch negatives); "
                   "objectives.oe.temperature must be above 0")
    # switched-off objectives: CAMLM's mode and BTMLM's start and placeholders are checked anyway,
    # the contrastive and MMKD settings only when the objective is on
    err = problems("objectives.camlm.mode=symmetric", "objectives.btmlm.placeholders=2",
                   "objectives.mep.temperature=0", "objectives.mmkd.alignment=fast")
    assert "only directed exists" in err and "objectives.btmlm.placeholders=2" in err
    assert "mep" not in err and "mmkd" not in err
    err = problems("recipe=mmkd", "objectives.mmkd.alignment=fast", "objectives.mmkd.teacher=/nonexistent",
                   *[f"objectives.mmkd.{x}.weight=0" for x in ("token", "word", "sentence", "structure")])
    assert err == ("objectives.mmkd.alignment=fast: use shard or embedding; objectives.mmkd.teacher: MMKD teacher "
                   "/nonexistent is not a model directory (no config.json); set objectives.mmkd.teacher=<a local "
                   "BERT-family dir>; objectives.mmkd has no level with a weight above 0: set e.g. "
                   "objectives.mmkd.token.weight=1, or objectives.mmkd.weight=0")


def test_recipes_apply_the_settings_their_objectives_ask_for():
    from trainer.objectives import REGISTRY

    assert REGISTRY["btmlm"].recipe_settings == {"start": "0.5"}
    assert all(not cls.recipe_settings for name, cls in REGISTRY.items() if name != "btmlm")
    for recipe, start in (("btmlm", 0.5), ("ernie-m", 0.5), ("all", 0.5), ("tlm", 0.0), ("xlm-k", 0.0)):
        assert load_config("tiny", [f"recipe={recipe}"]).objectives.btmlm.start == start, recipe
    # an explicit value after the recipe wins
    assert load_config("tiny", ["recipe=btmlm", "objectives.btmlm.start=0"]).objectives.btmlm.start == 0.0


def test_shard_tasks_directories_and_languages(tmp_path):
    from types import SimpleNamespace

    import pyarrow as pa

    from trainer.config import BTMLMConfig, MMKDConfig, TLMConfig
    from trainer.objectives import REGISTRY

    def shards(langs, tgt=None):
        batches = [pa.record_batch({"tgt_lang": tgt})] if tgt else []
        return SimpleNamespace(manifest={"languages": langs}, batches=batches)

    btmlm, root = REGISTRY["btmlm"], str(tmp_path)
    online, offline = BTMLMConfig(), BTMLMConfig(pseudo_pairs="/bt")
    assert btmlm.shard_tasks(online) == ("mono",) and btmlm.shard_tasks(offline) == ("pseudo_pairs",)
    assert btmlm.shard_dir(online, "mono", root) == f"{root}/mono"
    assert btmlm.shard_dir(offline, "pseudo_pairs", root) == "/bt/pairs"
    assert btmlm.missing_hint(offline, "pseudo_pairs") == "run make backtranslate"
    assert REGISTRY["mep"].shard_tasks(None) == ("mep", "docs")
    assert REGISTRY["oe"].missing_hint(None, "oe") == "build them with make shards TASKS=oe"
    # pairs manifests list the source side only: the pair objectives add the targets
    pairs = {"pairs": shards(["de"], ["en", "fr", "en"]), "pseudo_pairs": shards(["de"], ["ja"]),
             "mono": shards(["de", "zh"]), "distill": shards(["cs"])}
    assert REGISTRY["tlm"].languages(TLMConfig(), pairs) == {"de", "en", "fr"}
    assert REGISTRY["camlm"].languages(TLMConfig(), pairs) == {"de", "en", "fr"}
    assert btmlm.languages(online, pairs) == {"de", "zh"} and btmlm.languages(offline, pairs) == {"de", "ja"}
    assert REGISTRY["mmkd"].languages(MMKDConfig(), pairs) == {"cs", "en"}   # the distill manifest lists only x
