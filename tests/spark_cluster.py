"""A throwaway Spark standalone cluster (one master, one worker) on 127.0.0.1 for tests.

The cluster runs from the installed pyspark package's own ``bin/spark-class``; no Spark
distribution is needed, only Java.  Drive it from a *separate* Python process: a JVM holds
only one SparkContext, and the test session may already own one.

    with standalone_cluster() as url:
        subprocess.run([sys.executable, "-c", DRIVER_CODE, url], env=spark_env(), check=True)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pyspark.find_spark_home import _find_spark_home

LOOPBACK = "127.0.0.1"
_STOP_GRACE_S = 10.0
_LOG_TAIL_LINES = 40
# No proxy, whatever http_proxy says: the master's UI is on loopback.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def java_available() -> bool:
    """Whether ``spark-class`` can find a java binary (``$JAVA_HOME/bin/java`` or ``java`` on PATH)."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        return os.access(os.path.join(java_home, "bin", "java"), os.X_OK)
    return shutil.which("java") is not None


def spark_env() -> dict[str, str]:
    """The environment for the cluster daemons and for driver subprocesses: loopback only, this Python."""
    return {
        **os.environ,
        "SPARK_HOME": _find_spark_home(),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_MASTER_HOST": LOOPBACK,
        "PYSPARK_PYTHON": sys.executable,
    }


def _free_ports(n: int) -> list[int]:
    """``n`` distinct ports that were free on loopback a moment ago."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for sock in socks:
            sock.bind((LOOPBACK, 0))
        return [sock.getsockname()[1] for sock in socks]


def _launch(args: list[str], log: IO[bytes], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``spark-class ARGS`` in its own process group, stdout and stderr to ``log``."""
    spark_class = Path(env["SPARK_HOME"], "bin", "spark-class")
    return subprocess.Popen(
        [str(spark_class), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL whatever is left after the grace period."""
    pgid = proc.pid  # start_new_session: the leader's pid is the group id
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_STOP_GRACE_S)
    # Also reaps stragglers (executors, python workers) that outlived the leader.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait()


def _alive_workers(ui_port: int) -> list[dict[str, Any]]:
    """The ALIVE entries of the master's ``/json/`` status; empty while the master is not up yet."""
    try:
        with _HTTP.open(f"http://{LOOPBACK}:{ui_port}/json/", timeout=2.0) as resp:
            status = json.load(resp)
    except (OSError, ValueError):
        return []
    return [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]


def _tail(path: Path) -> str:
    """The last lines of a log file, headed by its name."""
    lines = path.read_text(errors="replace").splitlines()[-_LOG_TAIL_LINES:]
    return "\n".join([f"--- {path.name} (last {_LOG_TAIL_LINES} lines) ---", *lines])


@contextlib.contextmanager
def standalone_cluster(cores: int = 2, memory: str = "2g", timeout: float = 60.0) -> Iterator[str]:
    """Start a Spark standalone master and one worker on 127.0.0.1 from the installed pyspark;
    yield the master URL (spark://127.0.0.1:PORT); tear both down afterwards.

    Raises RuntimeError, with the tails of both logs, if no worker with ``cores`` cores has
    registered within ``timeout`` seconds or a daemon exits early.
    """
    env = spark_env()
    port, master_ui_port, worker_ui_port = _free_ports(3)
    url = f"spark://{LOOPBACK}:{port}"
    with (
        tempfile.TemporaryDirectory(prefix="xlkit-spark-", ignore_cleanup_errors=True) as tmp,
        contextlib.ExitStack() as stack,  # exits first: processes die before the dir goes
    ):
        master_log, worker_log = Path(tmp, "master.log"), Path(tmp, "worker.log")
        work_dir = Path(tmp, "work")
        work_dir.mkdir()

        master_args = ["--host", LOOPBACK, "--port", str(port), "--webui-port", str(master_ui_port)]
        master = _launch(
            ["org.apache.spark.deploy.master.Master", *master_args],
            stack.enter_context(master_log.open("wb")),
            env,
        )
        stack.callback(_stop, master)
        worker_args = ["--host", LOOPBACK, "--cores", str(cores), "--memory", memory]
        worker_args += ["--webui-port", str(worker_ui_port), "--work-dir", str(work_dir), url]
        worker = _launch(
            ["org.apache.spark.deploy.worker.Worker", *worker_args],
            stack.enter_context(worker_log.open("wb")),
            env,
        )
        stack.callback(_stop, worker)  # LIFO: the worker (and its executors) stops first

        deadline = time.monotonic() + timeout
        while not any(w.get("cores") == cores for w in _alive_workers(master_ui_port)):
            exited = [name for name, p in (("master", master), ("worker", worker)) if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                reason = f"{' and '.join(exited)} exited" if exited else f"no worker after {timeout:.0f} s"
                raise RuntimeError(
                    f"Spark standalone cluster at {url} did not come up ({reason})\n"
                    f"{_tail(master_log)}\n{_tail(worker_log)}"
                )
            time.sleep(0.5)
        yield url
