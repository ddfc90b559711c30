"""Execute one prepared notebook in a fresh kernel; runs inside the sandbox.

``python -m crmlab.course.runner NOTEBOOK --cell-timeout S --deadline S`` executes the
code cells one by one in a new IPython kernel (jupyter_client, IPC transport, no
network needed) and keeps ``run.json`` next to the notebook up to date after every cell:
the status of each code cell (``ok``, ``error``, ``timeout``, ``died``, ``output``,
``skipped``) and the error line. The file is written by code the student can reach, so
the grader uses it only to explain failures, never to decide a verdict.

- The official setup cell (``--setup-cell``) may take up to 120 s (imports, building the
  dataset); every other cell has the cell time limit.
- A cell that runs past the cell time limit is interrupted; if the kernel does not
  answer the interrupt, or dies while a cell runs, that cell is blamed, replaced by a
  cell that raises, and the notebook runs again from the top (at most three times, and
  never past the notebook's deadline).
- IPython ``exit()`` is recognised from the cell's reply (the ``ask_exit`` payload) and
  blamed on the cell that called it, not on the next one.
- Output is counted, not stored: a cell that prints more than the output cap is
  stopped like an endless loop.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]

OUTPUT_CAP = 8 * 2**20
_STUB = "raise RuntimeError('Skipped by the grader: this cell stopped the kernel or did not stop in time.')"
_MAX_RERUNS = 3


class _Dead(Exception):
    pass


def _write(path: Path, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _error_line(content: dict) -> str:
    ename, evalue = str(content.get("ename", "Error")), str(content.get("evalue", ""))
    return (f"{ename}: {evalue}" if evalue else ename)[:2000]


def _kill_strays(km) -> None:
    """Kill what a cell left running below the kernel (a fork bomb's children, daemons)."""
    try:
        try:
            import psutil
        except ImportError as exc:
            raise ImportError("grading needs the 'grade' extra: pip install 'crmlab[grade]'") from exc

        pid = getattr(km.provisioner, "pid", None) or km.provisioner.process.pid
        for child in psutil.Process(pid).children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass
    except Exception:  # noqa: BLE001 - the kernel is gone already
        pass


def _asked_exit(kc, msg_id: str) -> bool:
    """True when the cell's reply carries IPython's ``ask_exit`` payload (``exit()``/``quit()``)."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            reply = kc.get_shell_msg(timeout=0.5)
        except queue.Empty:
            continue
        if reply.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        payload = reply.get("content", {}).get("payload") or []
        return any(isinstance(p, dict) and p.get("source") == "ask_exit" for p in payload)
    return False


def _run_cell(km, kc, code: str, timeout: float, budget: dict) -> tuple[str, str]:
    """Execute one cell: ``(status, message)``."""
    msg_id = kc.execute(code, store_history=True, allow_stdin=False, stop_on_error=False)
    started, error = False, ""
    deadline = time.monotonic() + timeout
    interrupted_at = None
    while True:
        now = time.monotonic()
        if interrupted_at is None and now >= deadline:
            km.interrupt_kernel()
            interrupted_at = now
        if interrupted_at is not None and now - interrupted_at > 5:
            return "timeout_kill", "did not stop at the time limit"
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            if not km.is_alive():
                raise _Dead("started" if started else "not started") from None
            continue
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg.get("content", {})
        if kind == "status" and content.get("execution_state") == "busy":
            started = True
        elif kind == "execute_input":
            started = True
        elif kind == "error":
            error = _error_line(content)
        elif kind in ("stream", "display_data", "execute_result", "update_display_data"):
            budget["output"] += len(json.dumps(content.get("data", content.get("text", ""))))
            if budget["output"] > OUTPUT_CAP and interrupted_at is None:
                km.interrupt_kernel()
                interrupted_at = time.monotonic()
                budget["flooded"] = True
        elif kind == "status" and content.get("execution_state") == "idle":
            break
    if _asked_exit(kc, msg_id):
        return "exit", "the cell called exit() and stopped the kernel"
    if interrupted_at is not None:
        if budget.get("flooded"):
            return "output", f"printed more than {OUTPUT_CAP // 2**20} MiB of output and was stopped"
        return "timeout", "did not finish within the time limit (endless loop?) and was interrupted"
    if error:
        return "error", error
    return "ok", ""


def _execute(nb_path: Path, cells: list[str], stubbed: set[int], cell_timeout: float, deadline: float,
             state: dict, state_path: Path, setup_cell: int = -1) -> int | None:
    """Run all cells once; return the index of a cell that must be stubbed, or None."""
    try:
        from jupyter_client.manager import KernelManager
    except ImportError as exc:
        raise ImportError("grading needs the 'grade' extra: pip install 'crmlab[grade]'") from exc

    runtime = Path(os.environ.get("TMPDIR", "/tmp"))
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(runtime / f"kernel-{os.getpid()}"))
    env = {k: v for k, v in os.environ.items()}
    km.start_kernel(cwd=str(nb_path.parent), env=env, stdout=open(os.devnull, "wb"), stderr=open(os.devnull, "wb"),
                    extra_arguments=["--HistoryManager.enabled=False"])
    kc = km.client()
    kc.start_channels()
    budget = {"output": 0}
    try:
        try:
            kc.wait_for_ready(timeout=max(5.0, min(60.0, deadline - time.monotonic())))
        except RuntimeError:
            state["note"] = "the kernel did not start"
            return None
        results = state["cells"]
        for idx, code in enumerate(cells):
            if idx in stubbed:
                code = _STUB
            remaining = deadline - time.monotonic()
            if remaining <= 1:
                state["note"] = "the notebook reached its time limit"
                return None
            results[idx] = {"status": "running", "message": ""}
            _write(state_path, state)
            try:
                limit = max(cell_timeout, 120.0) if idx == setup_cell else cell_timeout
                status, message = _run_cell(km, kc, code, min(limit, remaining), budget)
                if status in ("timeout", "output", "timeout_kill"):
                    _kill_strays(km)
            except _Dead:
                # exit() at the end of a cell is caught from its reply (ask_exit); a kernel that
                # dies now died in this cell, even before its first message reached us
                results[idx] = {"status": "died", "message": "the kernel died while this cell ran"}
                return idx
            if status == "timeout_kill":
                results[idx] = {"status": "timeout", "message": "did not stop at the time limit"}
                return idx
            if status == "exit" and idx not in stubbed:
                results[idx] = {"status": "died", "message": message}
                return idx
            if idx in stubbed:
                status, message = "skipped", state["blamed"].get(idx, "") or "skipped"
            results[idx] = {"status": status, "message": message}
        _write(state_path, state)
        # a kernel that stopped right after the last cell is blamed on that cell
        time.sleep(0.3)
        if cells and not km.is_alive() and results[len(cells) - 1]["status"] == "ok":
            results[len(cells) - 1] = {"status": "died", "message": "the kernel stopped after this cell (exit() or a crash)"}
        return None
    finally:
        try:
            kc.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m crmlab.course.runner")
    p.add_argument("notebook", type=Path)
    p.add_argument("--cell-timeout", type=float, default=60)
    p.add_argument("--deadline", type=float, default=300, help="seconds from now for the whole notebook")
    p.add_argument("--setup-cell", type=int, default=-1, help="code-cell index of the official setup cell "
                   "(it may take up to 120 s: imports and building the dataset)")
    args = p.parse_args(argv)
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
                signal.SIGALRM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)  # student code may signal the runner; only SIGKILL/SIGSTOP remain
    start = time.monotonic()
    deadline = start + args.deadline
    nb = json.loads(args.notebook.read_text(encoding="utf-8"))  # written by the grader: plain nbformat 4
    cells = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
             for c in nb["cells"] if c["cell_type"] == "code"]
    state_path = args.notebook.parent / "run.json"
    state: dict[str, Any] = {"cells": {}, "blamed": {}, "runs": 0, "note": ""}
    stubbed: set[int] = set()
    for _ in range(_MAX_RERUNS + 1):
        state["runs"] += 1
        state["cells"] = {}
        culprit = _execute(args.notebook, cells, stubbed, args.cell_timeout, deadline, state, state_path,
                           args.setup_cell)
        for idx in stubbed:
            state["cells"].setdefault(idx, {"status": "skipped", "message": ""})
        if culprit is None:
            break
        state["blamed"][culprit] = state["cells"][culprit]["message"]
        stubbed.add(culprit)
        _write(state_path, state)
        if len(stubbed) > _MAX_RERUNS or deadline - time.monotonic() < 5:
            state["note"] = state["note"] or "the notebook was not run again (time or crash limit)"
            break
    state["seconds"] = round(time.monotonic() - start, 2)
    state["done"] = True
    _write(state_path, state)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
