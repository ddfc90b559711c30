"""Run one submission's kernel in a sandbox the student's code cannot leave or signal out of.

Two isolation modes, chosen by :func:`isolation_mode`:

``"namespace"`` (Linux, run as root, ``unshare`` from util-linux present)
    The runner starts under ``unshare --pid --mount --net --ipc --uts --fork --kill-child``.
    Its first process (PID 1 of a new PID namespace, still root) builds a private root
    file system on a tmpfs holding only read-only, ``nosuid`` binds of the system
    libraries, the Python installation, the virtual environment and the ``crmlab``
    package (never ``exercises/solutions``), a fresh ``/proc`` and ``/tmp``, and the
    submission's scratch folder as the only writable place. It then ``pivot_root``\\ s
    into it, drops to an unprivileged user of its own (one uid per parallel slot) with
    ``no_new_privs``, sets the resource limits and starts the runner. There is no
    network. Student code sees no process of the grader, so ``kill(0, ...)``,
    ``killpg`` or ``os.kill(os.getppid(), ...)`` reach only the sandbox; when PID 1
    exits (or is killed from outside at the wall-clock limit) the kernel removes every
    process of the namespace.
``"process"`` (the weaker fallback everywhere else)
    The runner is a child in a new session with the same resource limits, working in
    the scratch folder; it can still read what the grader's user can read and signal
    the grader's processes. Gradebook notes say when this mode was used.

In both modes the supervisor is the grading process itself: it waits for the sandbox
with one wall-clock limit per notebook and then kills the whole process group (and in
namespace mode with it the PID namespace).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["Limits", "isolation_mode", "run_sandboxed", "SandboxResult", "SlotLease"]

_UID_BASE = 61000  # one unprivileged uid per parallel slot: RLIMIT_NPROC is counted per uid
_UID_SLOTS = 1000
HOME = "/home/student"


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed notebook.

    Attributes
    ----------
    memory_mib : address-space limit of each process (``RLIMIT_AS``).
    processes : processes and threads of the sandbox user (``RLIMIT_NPROC``).
    file_mib : largest file the sandbox may write (``RLIMIT_FSIZE``).
    wall_s : wall-clock seconds for the whole notebook, enforced from outside.
    """

    memory_mib: int = 4096
    processes: int = 256
    file_mib: int = 64
    wall_s: float = 300.0


@dataclass
class SandboxResult:
    returncode: int | None
    timed_out: bool
    mode: str
    seconds: float
    log_tail: str = ""


def isolation_mode() -> str:
    """``"namespace"`` where the strong sandbox can be built here, else ``"process"``."""
    if os.environ.get("CRMLAB_GRADE_ISOLATION") == "process":
        return "process"
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or shutil.which("unshare") is None:
        return "process"
    return _probe()


_PROBED: dict[str, str] = {}


def _probe() -> str:
    if "mode" not in _PROBED:
        unshare = shutil.which("unshare")
        try:
            ok = unshare is not None and subprocess.run([unshare, "--pid", "--mount", "--net", "--ipc", "--uts", "--fork",
                                 "--kill-child", "true"], capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        _PROBED["mode"] = "namespace" if ok else "process"
    return _PROBED["mode"]


class SlotLease:
    """Sandbox slots (and so uids) held by this process alone, machine-wide.

    ``RLIMIT_NPROC`` counts every process of a uid on the machine, so two grading runs
    at once (two instructors, or parallel test workers) must never share a sandbox uid:
    one submission's fork bomb would stop the other run's kernels from starting. Each
    slot is an exclusive ``flock`` on a file in a lock folder, released when the lease
    is closed or this process ends; a slot whose uid still owns a process is skipped.
    """

    def __init__(self, n: int, lock_dir: str | os.PathLike | None = None):
        import fcntl
        import tempfile

        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= _UID_SLOTS:
            raise ValueError(f"n must be a whole number of sandbox slots from 1 to {_UID_SLOTS}, got {n!r}: "
                             "grade with fewer jobs")
        folder = Path(lock_dir) if lock_dir is not None else Path(tempfile.gettempdir()) / "crmlab-grade-slots"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        busy = _uids_in_use()
        self.slots: list[int] = []
        self._files = []
        try:
            for slot in range(_UID_SLOTS):
                if len(self.slots) == n:
                    break
                if _UID_BASE + slot in busy:
                    continue
                f = open(folder / f"slot-{slot}.lock", "a+b")
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    f.close()
                    continue
                self.slots.append(slot)
                self._files.append(f)
        except BaseException:
            self.close()
            raise
        if len(self.slots) < n:
            self.close()
            raise RuntimeError(f"only {len(self.slots)} of {n} sandbox slots are free on this machine: "
                               "other grading runs hold the rest; grade with fewer jobs or wait for them")

    def close(self) -> None:
        for f in self._files:
            f.close()  # closing the file releases its lock
        self._files = []

    def __enter__(self) -> SlotLease:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _uids_in_use() -> set[int]:
    uids: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return uids
    for name in entries:
        if name.isdigit():
            try:
                uid = os.stat(f"/proc/{name}").st_uid
            except OSError:
                continue
            if _UID_BASE <= uid < _UID_BASE + _UID_SLOTS:
                uids.add(uid)
    return uids


def _visible_paths() -> list[str]:
    """Host paths the kernel needs, bound read-only into the sandbox."""
    import crmlab

    paths = [sys.base_prefix, sys.prefix, str(Path(crmlab.__file__).resolve().parent)]
    try:
        from crmlab.data.loaders import _retail_root

        root = Path(str(_retail_root())).resolve()
        if not str(root).startswith(paths[-1]):
            paths.append(str(root))
    except Exception:  # noqa: BLE001 - no shipped dataset: nothing to bind
        pass
    for p in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.lexists(p):
            paths.append(p)
    for p in ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group",
              "/etc/fonts", "/etc/ssl/certs"):
        if os.path.exists(p):
            paths.append(p)
    return paths


def run_sandboxed(argv: list[str], scratch: Path, *, limits: Limits, slot: int = 0, mode: str | None = None,
                  env: dict | None = None) -> SandboxResult:
    """Run ``argv`` (a Python command line) in a sandbox with ``scratch`` as its only writable folder.

    ``argv`` must start with ``sys.executable``. Inside the sandbox the scratch folder is
    ``/home/student`` in namespace mode and ``scratch`` itself in process mode; use the
    path given by the ``CRMLAB_SCRATCH`` environment variable. Returns when the process
    tree has ended, after at most ``limits.wall_s`` (plus a few seconds to clean up).
    """
    mode = mode or isolation_mode()
    scratch = Path(scratch).resolve()
    log = scratch.parent / f"{scratch.name}.log"
    base_env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    base_env.update(env or {})
    if mode == "namespace":
        uid = _UID_BASE + slot
        os.chown(scratch, uid, uid)
        for p in scratch.rglob("*"):
            os.lchown(p, uid, uid)
        home = HOME
        spec = {"paths": _visible_paths(), "scratch": str(scratch), "uid": uid, "limits": asdict(limits),
                "argv": argv, "env": {**base_env, **_home_env(home)}}
        spec_path = scratch.parent / f"{scratch.name}.spec.json"
        spec_path.write_text(json.dumps(spec))
        cmd = [shutil.which("unshare") or "unshare", "--pid", "--mount", "--net", "--ipc", "--uts", "--fork", "--kill-child",
               sys.executable, "-I", "-S", "-c", _INIT_BOOT, str(Path(__file__).resolve()), str(spec_path)]
        popen_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        preexec = None
    else:
        home = str(scratch)
        cmd = argv
        popen_env = {**os.environ, **base_env, **_home_env(home)}
        for k in [k for k in popen_env if k.startswith(("JPY_", "PYTEST", "COV_CORE"))]:
            popen_env.pop(k)

        def preexec():
            _set_limits(limits)

    t0 = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=scratch, env=popen_env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=preexec)
        timed_out = False
        try:
            rc = proc.wait(timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            timed_out, rc = True, None
        _kill_group(proc, mode)
    return SandboxResult(returncode=rc, timed_out=timed_out, mode=mode, seconds=time.monotonic() - t0,
                         log_tail=_tail(log))


def _home_env(home: str) -> dict:
    return {"HOME": home, "CRMLAB_SCRATCH": home, "IPYTHONDIR": f"{home}/.ipython",
            "MPLCONFIGDIR": f"{home}/.config/matplotlib", "JUPYTER_RUNTIME_DIR": f"{home}/.local/runtime",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
            "XDG_CACHE_HOME": f"{home}/.cache", "TMPDIR": "/tmp" if home == HOME else home}


def _tail(path: Path, n: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _kill_group(proc: subprocess.Popen, mode: str) -> None:
    """Kill the sandbox's process group; in process mode also every descendant that left it."""
    descendants = []
    if mode != "namespace":
        try:
            try:
                import psutil
            except ImportError as exc:
                raise ImportError("grading needs the 'grade' extra: pip install 'crmlab[grade]'") from exc

            descendants = psutil.Process(proc.pid).children(recursive=True)
        except Exception:  # noqa: BLE001 - already gone
            descendants = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for p in descendants:
        try:
            p.kill()
        except Exception:  # noqa: BLE001
            pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process in uninterruptible sleep
        pass


def _set_limits(limits: Limits) -> None:
    mib = 2**20

    def cap(kind, value):
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_AS, int(limits.memory_mib) * mib)
    cap(resource.RLIMIT_FSIZE, int(limits.file_mib) * mib)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NOFILE, 1024)
    if os.geteuid() != 0:  # RLIMIT_NPROC does not bind root
        cap(resource.RLIMIT_NPROC, int(limits.processes))


# ----------------------------------------------------------------------------- inside the namespace
# Booted with ``python -I -S`` so nothing from the environment or site-packages runs as root.
_INIT_BOOT = ("import importlib.util,sys;"
              "s=importlib.util.spec_from_file_location('crmlab_sandbox_init',sys.argv[1]);"
              "m=importlib.util.module_from_spec(s);sys.modules[s.name]=m;s.loader.exec_module(m);m._init_main(sys.argv[2])")

_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MNT_DETACH = 2
_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    return libc


def _mount(libc, src, target, fstype, flags, data=None):
    if libc.mount(src.encode() if src else None, target.encode(), fstype.encode() if fstype else None,
                  ctypes.c_ulong(flags), data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} -> {target}: {os.strerror(err)}")


def _bind(libc, src: str, dst: str, *, writable=False, device=False) -> None:
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    _mount(libc, src, dst, None, _MS_BIND | _MS_REC)
    flags = _MS_REMOUNT | _MS_BIND | _MS_NOSUID | (0 if device else _MS_NODEV) | (0 if writable else _MS_RDONLY)
    _mount(libc, None, dst, None, flags)


def _init_main(spec_path: str) -> None:  # pragma: no cover - runs as PID 1 of the sandbox
    spec = json.loads(Path(spec_path).read_text())
    libc = _libc()
    _mount(libc, None, "/", None, _MS_REC | _MS_PRIVATE)
    root = "/tmp/.crmlab-sandbox-root"
    os.makedirs(root, exist_ok=True)
    _mount(libc, "tmpfs", root, "tmpfs", _MS_NOSUID, "size=16m,mode=0755")
    # a fresh /tmp first: installations that live under /tmp (a clone in /tmp/...) are bound
    # into it below instead of being hidden by it
    os.makedirs(root + "/tmp", exist_ok=True)
    _mount(libc, "tmpfs", root + "/tmp", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=256m,mode=1777")
    for p in spec["paths"]:
        if os.path.islink(p) and p.count("/") == 1:  # /lib -> usr/lib on merged-/usr systems
            os.symlink(os.readlink(p), root + p)
            continue
        _bind(libc, os.path.realpath(p), root + p)
    _bind(libc, spec["scratch"], root + HOME, writable=True)
    os.makedirs(root + "/dev", exist_ok=True)
    for d in ("null", "zero", "random", "urandom", "full"):
        _bind(libc, "/dev/" + d, root + "/dev/" + d, writable=True, device=True)
    os.makedirs(root + "/dev/shm", exist_ok=True)
    _mount(libc, "tmpfs", root + "/dev/shm", "tmpfs", _MS_NOSUID | _MS_NODEV, "size=64m,mode=1777")
    os.makedirs(root + "/proc", exist_ok=True)
    _mount(libc, "proc", root + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    _mount(libc, None, root, None, _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV | _MS_RDONLY)
    old = root + "/tmp/.old"
    os.makedirs(old, exist_ok=True)
    if libc.syscall(155, root.encode(), old.encode()) != 0:  # pivot_root(2) on x86_64
        os.chroot(root)
    else:
        os.chdir("/")
        libc.umount2(b"/tmp/.old", _MNT_DETACH)
        os.rmdir("/tmp/.old")
    os.chdir(HOME)
    uid = int(spec["uid"])
    limits = Limits(**spec["limits"])
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            _set_limits(limits)
            os.execve(spec["argv"][0], spec["argv"], spec["env"])
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"sandbox: could not start the runner: {exc}\n".encode())
        os._exit(127)
    # PID 1: reap every orphan until the runner ends; then the namespace goes with us
    status = 1
    while True:
        try:
            done, st = os.wait()
        except ChildProcessError:
            break
        if done == pid:
            status = os.waitstatus_to_exitcode(st)
            break
    os._exit(status if 0 <= status < 256 else 1)
