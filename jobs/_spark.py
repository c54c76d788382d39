"""Shared Spark plumbing for the jobs: Java check, session, progress bars, shipping our code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from xlkit_core.errors import MARK, ConfigError, XlkitError, find_tagged

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kg_pipeline", "corpus_builder", "trainer", "jobs")


def check_java() -> str:
    """Return the java executable Spark will use, or raise ConfigError saying how to get one."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no 'java' on PATH"
        raise ConfigError(
            f"Java not found ({where}): Spark needs Java 17. Install it (Debian/Ubuntu: "
            "apt-get install openjdk-17-jre-headless) or set JAVA_HOME to a Java 17 installation"
        )
    return java


def java_version(java: str) -> str:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.splitlines()[0] if out else "unknown"


def make_session(app: str, master: str | None, shuffle_partitions: int | None = None, ui: bool = False):
    """A SparkSession: local[*] unless a master is given here or by spark-submit."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if master:
        builder = builder.master(master)
    # Launched by spark-submit, the JVM is already up and chose the master; otherwise local[*].
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    local = master.startswith("local") if master else not under_submit
    log4j = f"-Dlog4j.configurationFile={Path(__file__).with_name('log4j2.properties').as_uri()}"
    builder = (builder.config("spark.ui.enabled", "true" if ui else "false")
               .config("spark.driver.extraJavaOptions", log4j)
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.python.worker.reuse", "true"))
    if shuffle_partitions:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if not spark.sparkContext.master.startswith("local"):
        ship_packages(spark)
    return spark


def ship_packages(spark) -> None:
    """Zip our packages and add them to the executors' sys.path (a real cluster has no checkout)."""
    tmp = Path(tempfile.mkdtemp(prefix="xlkit-pyfiles-"))
    zpath = tmp / "xlkit_packages.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
        for pkg in PACKAGES:
            base = ROOT / pkg
            if not base.is_dir():
                continue
            for f in sorted(base.rglob("*.py")):
                z.write(f, f.relative_to(ROOT).as_posix())
    spark.sparkContext.addPyFile(str(zpath))


def run_tasks(sc, items: list, fn: Callable, desc: str, unit: str = "split") -> list:
    """Run fn on every item, one item per task, and return the results in item order.

    A tqdm bar follows the tasks through Spark's status tracker.
    """
    if not items:
        return []
    from tqdm import tqdm

    group = f"xlkit-{uuid.uuid4().hex[:8]}"
    sc.setJobGroup(group, desc)
    rdd = sc.parallelize(list(enumerate(items)), len(items)).map(lambda kv: (kv[0], fn(kv[1])))
    done = threading.Event()
    bar = tqdm(total=len(items), desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
               disable=None, mininterval=0.5)

    def poll() -> None:
        tracker = sc.statusTracker()
        while not done.wait(0.5):
            completed = 0
            for jid in tracker.getJobIdsForGroup(group):
                info = tracker.getJobInfo(jid)
                for sid in info.stageIds if info else []:
                    st = tracker.getStageInfo(sid)
                    completed += st.numCompletedTasks if st else 0
            bar.n = min(completed, len(items))
            bar.refresh()

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        out = rdd.collect()
    finally:
        done.set()
        th.join()
        sc.setLocalProperty("spark.jobGroup.id", None)
    bar.n = len(items)
    bar.close()
    return [v for _, v in sorted(out, key=lambda kv: kv[0])]


def spark_error_message(exc: BaseException) -> str:
    """One line for the user out of a Py4J / PythonException failure."""
    text = str(exc)
    tagged = find_tagged(text)
    if tagged:
        return tagged
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("RuntimeError:", "ValueError:", "OSError:", "FileNotFoundError:")):
            return line
    return text.splitlines()[0] if text else type(exc).__name__


SPARK_FAILURES = ("Py4JJavaError", "PythonException", "SparkException")


@contextmanager
def user_errors() -> Iterator[None]:
    """Inside, a failed Spark task or action becomes a XlkitError with the one line meant for the user."""
    try:
        yield
    except XlkitError:
        raise
    except Exception as exc:
        if type(exc).__name__ in SPARK_FAILURES or MARK in str(exc):
            raise XlkitError(spark_error_message(exc)) from None
        raise


def since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


def read_parquet(spark, path: str, schema):
    """A Parquet table whose pyarrow schema we know: giving it saves Spark the job that reads a
    footer to infer it (one per table read, which on small inputs costs more than the scan)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return spark.read.schema(from_arrow_schema(schema)).parquet(path)
