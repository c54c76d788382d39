"""The standalone-cluster helper: a real master and worker run SQL and Python tasks, then vanish."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest
from spark_cluster import java_available, spark_env, standalone_cluster

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.slow,
    pytest.mark.skipif(not java_available(), reason="Spark needs Java"),
]

# Runs in its own interpreter: this process may already hold a SparkContext (one per JVM).
DRIVER = """
import sys
from pyspark.sql import SparkSession

spark = (
    SparkSession.builder.master(sys.argv[1])
    .appName("xlkit-cluster-fixture")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.executor.memory", "1g")
    .config("spark.cores.max", "2")
    .getOrCreate()
)
try:
    total = spark.range(1000).selectExpr("sum(id)").collect()[0][0]
    doubled = spark.sparkContext.parallelize(range(10), 2).map(lambda x: x * 2).sum()
    print(f"RESULT {total} {doubled}")
finally:
    spark.stop()
"""


def _cluster_daemons() -> list[psutil.Process]:
    """This process's children that run a Spark deploy daemon (Master or Worker)."""
    return [
        child
        for child in psutil.Process().children()
        if any(arg.startswith("org.apache.spark.deploy.") for arg in child.cmdline())
    ]


def test_standalone_cluster_runs_sql_and_python_tasks() -> None:
    with standalone_cluster(cores=2, memory="2g") as url:
        assert url.startswith("spark://127.0.0.1:")
        daemons = _cluster_daemons()
        assert len(daemons) == 2
        run = subprocess.run(
            [sys.executable, "-c", DRIVER, url],
            env=spark_env(),
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert run.returncode == 0, run.stderr[-4000:]
        assert "RESULT 499500 90" in run.stdout.splitlines(), run.stdout + run.stderr[-4000:]
    assert not any(proc.is_running() for proc in daemons)
    assert _cluster_daemons() == []
