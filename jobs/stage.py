"""Run one pipeline stage and append its cost (wall time, peak memory, CPU time, exit code) to a JSONL log.

    python -m jobs.stage --log RUN/stages.jsonl --name NAME [--reset] [--interval S] [--linger S] -- CMD ARGS...

The command inherits stdin, stdout and stderr. While it runs, the resident memory (RSS) of the whole process
tree (the command, its children and grandchildren, the Spark JVM that pyspark starts included) is summed
every --interval seconds (default 0.15); the peak of that sum is recorded. This process makes itself the
"child subreaper" of the tree (Linux), so descendants orphaned by their parent (a JVM whose Python driver
exited) stay in the tree, are measured, and are reaped here: their CPU time (user + system, from the
kernel's rusage of every reaped process) is counted too. After the command exits, the stage waits up to
--linger seconds (default 10) for leftover descendants to exit; any still running then are left alone and
counted in ``left_running``.

One JSON line per stage is appended with a single write followed by flush and fsync:

    {"name", "cmd", "started" (ISO 8601, local time with offset), "wall_s", "cmd_wall_s", "peak_rss_mb",
     "cpu_s", "cpu_user_s", "cpu_sys_s", "max_procs", "rc"}  (+ "signal", "interrupted", "left_running")

``wall_s`` runs until the whole tree has exited (what the pipeline waits for), ``cmd_wall_s`` until the
command itself exited; ``peak_rss_mb`` is in MiB (2**20 bytes).

``rc`` is the command's exit code in the shell's convention (128 + N when signal N killed it, 127 when the
command does not exist); this process exits with it. On Ctrl-C (SIGINT), SIGTERM or SIGHUP the command
and its whole tree receive SIGTERM, whatever is left of the tree SIGKILL after 5 s, and the stage is recorded before exiting.
--reset starts a fresh log (an empty file written beside it and renamed over it) before running: pass it
to the first stage of a run.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
import time
from datetime import datetime

import psutil

from xlkit_core.environment import check_environment

DEFAULT_INTERVAL = 0.15
DEFAULT_LINGER = 10.0
KILL_GRACE_S = 5.0
PR_SET_CHILD_SUBREAPER = 36
MIB = 1024 * 1024


def _become_subreaper() -> bool:
    """Linux only: orphaned descendants are re-parented to this process instead of init."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reset_log(path: str) -> None:
    """Replace ``path`` by an empty file, atomically (a temporary file beside it, then a rename)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def append_record(path: str, record: dict) -> None:
    """Append one JSON line with a single write(2) on an O_APPEND descriptor, then fsync."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):  # a regular file takes it all at once; be safe on exotic filesystems
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


class Tree:
    """Samples the process tree below this process: summed RSS, process count, live CPU times."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.peak_rss = 0
        self.max_procs = 0
        self.live_cpu: dict[tuple[int, float], float] = {}  # (pid, create_time) -> user+sys, last seen

    def processes(self) -> list[psutil.Process]:
        try:
            return self.me.children(recursive=True)
        except psutil.Error:
            return []

    def sample(self) -> None:
        total, n, live = 0, 0, {}
        for p in self.processes():
            try:
                with p.oneshot():
                    rss = p.memory_info().rss
                    t = p.cpu_times()
                    live[(p.pid, p.create_time())] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            total += rss
            n += 1
        self.peak_rss = max(self.peak_rss, total)
        self.max_procs = max(self.max_procs, n)
        self.live_cpu = live

    def signal_all(self, sig: int) -> None:
        for p in self.processes():
            try:
                p.send_signal(sig)
            except psutil.Error:
                pass


def _exit_code(status: int) -> tuple[int, str | None]:
    """(shell-style exit code, name of the killing signal or None) of a wait status."""
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return 128 - code, name
    return code, None


def run_stage(name: str, cmd: list[str], log: str, interval: float = DEFAULT_INTERVAL,
              linger: float = DEFAULT_LINGER) -> dict:
    """Run ``cmd``, measure it, append its record to ``log`` and return the record."""
    _become_subreaper()
    tree = Tree()
    started = datetime.now().astimezone()
    t0 = time.monotonic()
    record: dict = {"name": name, "cmd": cmd, "started": started.isoformat(timespec="seconds")}
    caught: list[int] = []

    def on_signal(signum, _frame):
        caught.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        try:
            pid = os.posix_spawnp(cmd[0], cmd, os.environ)
        except OSError as exc:
            print(f"stage {name}: error: cannot run {cmd[0]!r}: {exc.strerror or exc}", file=sys.stderr)
            wall = round(time.monotonic() - t0, 3)
            record.update(wall_s=wall, cmd_wall_s=wall, peak_rss_mb=0.0, cpu_s=0.0, cpu_user_s=0.0,
                          cpu_sys_s=0.0, max_procs=0, rc=127)
            append_record(log, record)
            return record
        status: int | None = None
        user = sys_ = 0.0
        max_child_rss = 0  # ru_maxrss of reaped processes (KiB on Linux): catches peaks between samples
        interrupted_at: float | None = None
        killed = False
        done_at: float | None = None
        while True:
            gone = False
            while True:  # reap every finished child, ours or adopted
                try:
                    wpid, wstatus, ru = os.wait4(-1, os.WNOHANG)
                except ChildProcessError:
                    gone = True
                    break
                except InterruptedError:
                    continue
                if wpid == 0:
                    break
                user += ru.ru_utime
                sys_ += ru.ru_stime
                max_child_rss = max(max_child_rss, ru.ru_maxrss)
                if wpid == pid:
                    status = wstatus
                    done_at = time.monotonic()
            if gone:
                break
            tree.sample()
            now = time.monotonic()
            if caught and interrupted_at is None:
                interrupted_at = now
                if status is None:
                    try:
                        os.kill(pid, signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                tree.signal_all(signal.SIGTERM)
            if interrupted_at is not None and not killed and now - interrupted_at > KILL_GRACE_S:
                tree.signal_all(signal.SIGKILL)
                killed = True
            if status is not None and done_at is not None and now - done_at > linger:
                break  # leftover descendants (daemons) are left running
            time.sleep(interval)
        left = tree.processes() if status is not None else []
        leftover_cpu = sum(tree.live_cpu.get((p.pid, _ctime(p)), 0.0) for p in left)
        rc, signame = _exit_code(status if status is not None else 0)
        peak = max(tree.peak_rss, max_child_rss * (1024 if sys.platform.startswith("linux") else 1))
        end = time.monotonic()
        record.update(wall_s=round(end - t0, 3), cmd_wall_s=round((done_at or end) - t0, 3),
                      peak_rss_mb=round(peak / MIB, 1),
                      cpu_s=round(user + sys_ + leftover_cpu, 3), cpu_user_s=round(user, 3),
                      cpu_sys_s=round(sys_, 3), max_procs=tree.max_procs, rc=rc)
        if signame:
            record["signal"] = signame
        if caught:
            record["interrupted"] = signal.Signals(caught[0]).name
        if left:
            record["left_running"] = len(left)
        append_record(log, record)
        return record
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _ctime(p: psutil.Process) -> float:
    try:
        return p.create_time()
    except psutil.Error:
        return 0.0


def main(argv: list[str] | None = None) -> int:
    check_environment()
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="python -m jobs.stage", description=__doc__.split("\n\n")[0],
                                usage="%(prog)s --log LOG --name NAME [--reset] [--interval S] [--linger S] "
                                      "-- CMD [ARGS...]")
    p.add_argument("--log", required=True, help="the JSONL file to append this stage's record to")
    p.add_argument("--name", required=True, help="the stage's name in the log and the report")
    p.add_argument("--reset", action="store_true", help="start a fresh log (pass it to the first stage of a run)")
    p.add_argument("--interval", type=float, default=DEFAULT_INTERVAL,
                   help=f"seconds between memory samples, 0.1 to 0.2 (default {DEFAULT_INTERVAL})")
    p.add_argument("--linger", type=float, default=DEFAULT_LINGER,
                   help=f"seconds to wait for descendants left after the command exits (default {DEFAULT_LINGER:g})")
    if "--" not in argv:
        if any(a in ("-h", "--help") for a in argv):
            p.parse_args(argv)
        p.error("put -- before the command to run, e.g. --name kg -- python jobs/build_kg.py ...")
    i = argv.index("--")
    args = p.parse_args(argv[:i])
    cmd = argv[i + 1:]
    if not cmd:
        p.error("no command after --")
    if not 0.1 <= args.interval <= 0.2:
        p.error("--interval must lie between 0.1 and 0.2 seconds")
    if args.linger < 0:
        p.error("--linger must not be negative")
    if args.reset:
        reset_log(args.log)
    rec = run_stage(args.name, cmd, args.log, args.interval, args.linger)
    extra = f", killed by {rec['signal']}" if rec.get("signal") else ""
    print(f"stage {rec['name']}: rc {rec['rc']}{extra}, {rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} s CPU, "
          f"peak {rec['peak_rss_mb']:,.0f} MiB RSS ({rec['max_procs']} process(es) at most) -> {args.log}",
          file=sys.stderr)
    return rec["rc"]


if __name__ == "__main__":
    sys.exit(main())
