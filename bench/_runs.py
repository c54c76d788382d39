"""What the experiment scripts (repro_small.py, mmkd_tatoeba.py) share: the child environment, a train ->
export -> evaluate pipeline run as one timed child process, its wall time, and mean ± std over seeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def env(threads: int = 1) -> dict:
    """The environment of a child: ``threads`` torch/BLAS threads (the machine has two shared cores), the
    checkout on PYTHONPATH, and the Spark variables the jobs need."""
    e = dict(os.environ)
    t = str(threads)
    e.update(OMP_NUM_THREADS=t, MKL_NUM_THREADS=t, OPENBLAS_NUM_THREADS=t, TOKENIZERS_PARALLELISM="false",
             PYTHONPATH=str(ROOT), PYSPARK_PYTHON=e.get("PYSPARK_PYTHON", PY),
             SPARK_LOCAL_IP=e.get("SPARK_LOCAL_IP", "127.0.0.1"))
    return e


def start_pipeline(steps: list[list[str]], log: Path) -> subprocess.Popen:
    """Run the commands one after the other (stopping at the first failure) in one background child with one
    thread, its output and a final ``wall <seconds> s`` line in ``log``."""
    script = " && ".join(" ".join(f"'{c}'" for c in st) for st in steps)
    f = open(log, "w")
    return subprocess.Popen(["bash", "-c", f"/usr/bin/time -f 'wall %e s' bash -c \"{script}\""], cwd=ROOT,
                            env=env(1), stdout=f, stderr=subprocess.STDOUT)


def run_paths(cache: Path, name: str) -> tuple[Path, Path, Path] | None:
    """The (run, model, eval) directories of one experiment run under ``cache`` (their parents created), or
    None when the run's evaluation is already there."""
    run_dir, model_dir, ev = cache / "runs" / name, cache / "models" / name, cache / "eval" / name
    if (ev / "results.json").exists():
        return None
    for d in ("runs", "models", "eval"):
        (cache / d).mkdir(parents=True, exist_ok=True)
    return run_dir, model_dir, ev


def wall_times(logs) -> dict[str, float]:
    """{log stem: seconds} from the last ``wall`` line of each pipeline log that has one."""
    out = {}
    for log in sorted(logs):
        w = [ln for ln in Path(log).read_text().splitlines() if ln.startswith("wall ")]
        if w:
            out[Path(log).stem] = float(w[-1].split()[1])
    return out


def mean_std(xs: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    import numpy as np

    a = np.asarray(xs, dtype=float)
    return float(a.mean()), (float(a.std(ddof=1)) if len(a) > 1 else 0.0)
