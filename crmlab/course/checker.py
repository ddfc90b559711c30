"""The trusted side of grading: run the official checks on exported answers.

A :class:`Checker` is a worker process that never runs student code. For each graded
notebook it receives the official setup cell (with the data line the grading rules
allow), executes it to rebuild ``data`` and the ``check`` module exactly as the official
notebook does (cached per setup, so a class on the shipped dataset builds it once), reads
the exported answers with the strict readers of :mod:`crmlab.course.export`, and
evaluates each official check call with the answers in place of the student's names.
An exercise passes when the call returns; the message is the check's own.

The worker runs in its own process so that a malformed answer file that crashes a
reader, or an answer that makes a check run for too long, costs that notebook its
verdicts (with a note) and the worker a restart, never the grading run.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

__all__ = ["Checker"]

_CACHE_SIZE = 4


class Checker:
    """A trusted worker process; :meth:`run` sends one notebook's checks to it.

    The worker is ``python -I -m crmlab.course.checker``; tasks and results travel as one
    JSON line each over its standard input and output.
    """

    def __init__(self, memory_mib: int = 8192) -> None:
        self.memory_mib = memory_mib
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_CORE"))}
        env["MPLBACKEND"] = "Agg"
        self._proc = proc = subprocess.Popen(
            [sys.executable, "-I", "-m", "crmlab.course.checker", str(self.memory_mib)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
        return proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def run(self, task: dict, timeout: float) -> dict:
        """Results ``{exercise index: (passed, message, export_error)}`` or ``{"error": reason}``."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            proc = self._start()
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None  # started with pipes
        reason = "the checking process stopped (an answer file may be malformed)"
        try:
            stdin.write((json.dumps(task) + "\n").encode())
            stdin.flush()
            ready, _, _ = select.select([stdout], [], [], timeout)
            if ready:
                line = stdout.readline()
                if line:
                    out = json.loads(line)
                    if "error" in out:
                        return out
                    return {int(k): tuple(v) for k, v in out.items()}
            else:
                reason = f"the checks did not finish within {timeout:g} s"
        except (OSError, ValueError):
            pass
        proc.kill()
        proc.wait()
        self._proc = None
        return {"error": reason}


def _worker_main(memory_mib: int) -> None:  # pragma: no cover - runs in the worker process
    import matplotlib

    matplotlib.use("Agg")
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_mib * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    except (ValueError, OSError):
        pass
    os.chdir(tempfile.mkdtemp(prefix="crmlab-check-"))
    cache: OrderedDict = OrderedDict()
    out = sys.stdout
    sys.stdout = io.StringIO()  # checks print their success line; keep the protocol stream clean
    for line in sys.stdin:
        try:
            result = _check(json.loads(line), cache)
        except Exception as exc:  # noqa: BLE001 - never take the worker down for one notebook
            result = {"error": f"the checks could not run ({type(exc).__name__}: {exc})"[:500]}
        sys.stdout = io.StringIO()
        out.write(json.dumps({str(k): v for k, v in result.items()}) + "\n")
        out.flush()


def _namespace(setup: str, cache: OrderedDict):
    if setup in cache:
        cache.move_to_end(setup)
        return cache[setup]
    ns: dict = {"__name__": "__crmlab_check__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(setup, "<official setup>", "exec"), ns)  # noqa: S102 - the instructor's own setup cell
    cache[setup] = ns
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return ns


def _check(task: dict, cache: OrderedDict) -> dict:
    from crmlab.course.export import AnswerError, load_answers

    try:
        ns = _namespace(task["setup"], cache)
    except BaseException as exc:  # noqa: BLE001
        return {"error": f"the official setup could not build the dataset ({type(exc).__name__}: {exc})"[:500]}
    out = {}
    answers = Path(task["answers"])
    for item in task["calls"]:
        k = item["index"]
        try:
            values, errors = load_answers(answers / f"e{k}")
        except AnswerError as exc:
            out[k] = (False, "", f"no answer: {exc}")
            continue
        missing = [key for key in item["keys"] if key not in values]
        if missing:
            out[k] = (False, "", errors.get(missing[0], "no answer was exported"))
            continue
        local = dict(ns)
        for key in item["keys"]:
            local[f"__answer_{key}__"] = values[key]
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(item["call"], "<official check>", "exec"), local)  # noqa: S102 - official call
            out[k] = (True, "", "")
        except AssertionError as exc:
            out[k] = (False, str(exc) or "the check failed", "")
        except BaseException as exc:  # noqa: BLE001 - a check that cannot judge the answer fails it
            out[k] = (False, f"{type(exc).__name__}: {exc}"[:2000], "")
    return out


if __name__ == "__main__":  # pragma: no cover
    _worker_main(int(sys.argv[1]) if len(sys.argv) > 1 else 8192)
