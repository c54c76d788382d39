"""The same job on a real Spark standalone cluster (master + worker on 127.0.0.1) as in local mode."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pyarrow.parquet as pq
import pytest

from conftest import ROOT
from jobs import build_corpus, build_kg
from spark_cluster import java_available, spark_env, standalone_cluster

pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.spark]

SAMPLE_DUMPS = [a for lang in ("en", "de", "ja")
                for a in ("--wikipedia", f"{lang}={ROOT / 'samples' / 'wikipedia' / f'{lang}wiki-sample.xml.bz2'}")]


def _spark_daemons() -> list[psutil.Process]:
    """Live children of this process that run a Spark Master or Worker."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and any(
                    a in ("org.apache.spark.deploy.master.Master", "org.apache.spark.deploy.worker.Worker")
                    for a in child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def test_standalone_cluster_matches_local_mode(spark, wikidata_dump, tmp_path):
    if not java_available():
        pytest.skip("Spark needs Java")
    local = tmp_path / "local"
    assert build_kg.main(["--input", str(wikidata_dump), "--out", str(local), "--split-mb", "0.3"]) == 0
    remote = tmp_path / "cluster"
    with standalone_cluster(cores=2, memory="2g", timeout=180) as url:
        assert len(_spark_daemons()) >= 2  # master and worker (plus launcher JVMs)
        proc = subprocess.run(
            [sys.executable, str(ROOT / "jobs" / "build_kg.py"), "--master", url, "--input", str(wikidata_dump),
             "--out", str(remote), "--split-mb", "0.3"],
            env=spark_env(), capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"[{url}]" in proc.stderr  # it really ran against the cluster
        # the corpus job too: its pass 2 runs Python on the executors (pyarrow writers, per-split tasks)
        proc = subprocess.run(
            [sys.executable, str(ROOT / "jobs" / "build_corpus.py"), "--master", url, *SAMPLE_DUMPS,
             "--kg", str(local), "--out", str(tmp_path / "corpus-cluster")],
            env=spark_env(), capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"[{url}]" in proc.stderr
    assert not _spark_daemons()
    for name in ("entities", "sitelinks", "triples", "properties", "rejects"):
        assert pq.read_table(remote / name).equals(pq.read_table(local / name)), name
    assert build_corpus.main([*SAMPLE_DUMPS, "--kg", str(local), "--out", str(tmp_path / "corpus-local")]) == 0
    for name in ("pages", "redirects", "sentences", "mentions", "entity_docs", "candidates", "mep_examples",
                 "oe_examples", "rejects"):
        a, b = (pq.read_table(tmp_path / d / name) for d in ("corpus-cluster", "corpus-local"))
        assert a.num_rows == b.num_rows and a.equals(b), name
