"""Reading the Arrow training shards: verified, memory-mapped, deterministic, resumable, rank-sharded.

    shards = ShardSet.open("runs/shards/pairs")            # checks schema_version and every sha256
    stream = TaskStream(shards, seed=0, rank=0, world_size=2)
    for example in stream: ...                              # dicts of Python values
    state = stream.state_dict(); ...; stream.load_state_dict(state)   # resume exactly there

Order: epoch e visits the rows in the permutation ``numpy.random.default_rng([seed, e])`` of
all row indices; rank r of w takes positions r, r + w, r + 2w, ... of that permutation, so ranks
never overlap and together see every row once per epoch. Needs no Spark.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from xlkit_core.shards import ShardFormatError, ShardSet  # noqa: F401 (the reader the trainer uses)


class TaskStream:
    """An endless, deterministic stream of one task's rows for one data-parallel rank."""

    def __init__(self, shards: ShardSet, seed: int = 0, rank: int = 0, world_size: int = 1):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside world_size {world_size}")
        if len(shards) < world_size:
            raise ValueError(f"{shards.directory} has {len(shards)} rows, fewer than the {world_size} ranks")
        self.shards, self.seed, self.rank, self.world_size = shards, seed, rank, world_size
        self.epoch = 0
        self.position = 0          # index into this rank's slice of the epoch's permutation
        self._perm: np.ndarray | None = None

    def _slice(self) -> np.ndarray:
        if self._perm is None:
            perm = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.shards))
            self._perm = perm[self.rank::self.world_size]
        return self._perm

    def __iter__(self) -> Iterator[dict]:
        return self

    def __next__(self) -> dict:
        rows = self._slice()
        if self.position >= len(rows):
            self.epoch += 1
            self.position = 0
            self._perm = None
            rows = self._slice()
        index = int(rows[self.position])
        self.position += 1
        return self.shards.row(index)

    def take(self, n: int) -> list[dict]:
        return [next(self) for _ in range(n)]

    def take_keyed(self, n: int) -> list[tuple[int, dict]]:
        """``n`` rows, each with a key unique per (epoch, row): ``epoch * len(shards) + row index``.
        Objectives seed an example's random draws with it, so they do not depend on the rank."""
        out = []
        for _ in range(n):
            row = next(self)
            out.append((self.epoch * len(self.shards) + int(self._slice()[self.position - 1]), row))
        return out

    def state_dict(self) -> dict:
        return {"task": self.shards.task, "seed": self.seed, "rank": self.rank, "world_size": self.world_size,
                "epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        if (state["seed"], state["rank"], state["world_size"]) != (self.seed, self.rank, self.world_size):
            raise ValueError(f"stream state is for seed/rank/world {state['seed']}/{state['rank']}/"
                             f"{state['world_size']}, not {self.seed}/{self.rank}/{self.world_size}")
        self.epoch, self.position, self._perm = int(state["epoch"]), int(state["position"]), None


class DocStore:
    """Entity documents (the ``docs`` task) by QID, for the keys of MEP and OE."""

    def __init__(self, shards: ShardSet):
        self.shards = shards
        self.by_qid: dict[str, list[int]] = {}
        for b, base in zip(shards.batches, shards.offsets[:-1], strict=True):
            for i, q in enumerate(b.column("qid").to_pylist()):
                self.by_qid.setdefault(q, []).append(int(base) + i)

    def sample(self, qid: str, rng: np.random.Generator) -> dict | None:
        """The document of ``qid`` in a language drawn uniformly from those available."""
        rows = self.by_qid.get(qid)
        if not rows:
            return None
        return self.shards.row(rows[int(rng.integers(len(rows)))])
