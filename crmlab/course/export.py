"""Answers as data: written by the student's kernel, read back by the trusted grader.

The grader never unpickles or evaluates anything a kernel produced. A check cell's answer
arguments are written by :func:`export_answers` (run inside the sandboxed kernel) into
one folder per exercise, and read back by :func:`load_answers` with strict readers:

=================================  ===========================================================
answer                             stored as
=================================  ===========================================================
DataFrame, Series, Index           Parquet (index and labels flattened to columns, the labels
                                   themselves and their types in the manifest)
numpy array (not object dtype)     ``.npy`` written and read with ``allow_pickle=False``
None, bool, int, float, str,       typed JSON in ``manifest.json`` (tuples, sets and dicts with
numpy scalars, Timestamp,          non-string keys keep their type)
Timedelta, list, tuple, set, dict
matplotlib Axes or Figure          a summary: title, axis labels, tick labels, lines (x, y,
                                   label), bars (x, y, width, height), scatter offsets and
                                   legend texts; read back as a new Axes drawn from them
fitted model                       a summary: class name, ``get_params()``, ``params_`` and
                                   every fitted attribute (name ending in ``_``) as data;
                                   read back as :class:`ModelSummary`
anything else                      :class:`Unsupported` (the check then fails on its type)
=================================  ===========================================================

Readers refuse anything that is not a regular file (``os.lstat``, ``O_NOFOLLOW``,
``O_NONBLOCK``: no FIFO, device or symlink can block or redirect them), files and
manifests above a size limit, Parquet files whose uncompressed size is too large, and JSON
nested deeper than :data:`MAX_DEPTH` (checked before parsing, so a deeply nested file
cannot raise ``RecursionError``).
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["export_answers", "load_answers", "AnswerError", "ModelSummary", "Unsupported",
           "read_json_strict", "MAX_DEPTH"]

MAX_DEPTH = 40
MAX_JSON_BYTES = 8 * 2**20
MAX_FILE_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 256 * 2**20
MAX_ITEMS = 200_000
MANIFEST = "manifest.json"


class AnswerError(ValueError):
    """An exported answer could not be read back (missing, too large, malformed)."""


@dataclass
class Unsupported:
    """Stands in for an answer of a type that is not exported as data."""

    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name} (not exported: not a table, array, number, text or collection)>"


@dataclass
class ModelSummary:
    """A fitted model as data: its class, parameters and fitted attributes.

    Attributes
    ----------
    class_name : ``module.QualName`` of the model's class.
    params : ``get_params()`` where the model has it.
    fitted : every attribute ending in ``_`` (``params_``, ``coef_`` ...), as data.
    """

    class_name: str
    params: dict = field(default_factory=dict)
    fitted: dict = field(default_factory=dict)

    def __getattr__(self, name):
        fitted = self.__dict__.get("fitted", {})
        if name in fitted:
            return fitted[name]
        raise AttributeError(f"{self.__dict__.get('class_name', 'model')} summary has no attribute {name!r}")

    def get_params(self, deep=True):
        return dict(self.params)


# ============================================================================ kernel side
def export_answers(exercise_key: str, getters: dict, folder: str | None = None) -> None:
    """Write the answers of one check cell (called in the student's kernel; never raises).

    ``getters`` maps an argument key to a zero-argument callable returning the value,
    so a missing name is recorded as an error instead of failing the cell.
    """
    target = Path(folder or os.path.join(os.environ.get("CRMLAB_SCRATCH", "."), ".answers")) / exercise_key
    try:
        target.mkdir(parents=True, exist_ok=True)
        for old in target.iterdir():
            if old.is_file() and not old.is_symlink():
                old.unlink()
        manifest: dict[str, dict[str, object]] = {"args": {}, "errors": {}}
        writer = _Writer(target)
        for key, get in getters.items():
            try:
                value = get()
            except BaseException as exc:  # noqa: BLE001 - any failure is the student's answer
                manifest["errors"][key] = f"{type(exc).__name__}: {exc}"[:2000]
                continue
            try:
                manifest["args"][key] = writer.encode(value, 0)
            except BaseException as exc:  # noqa: BLE001
                manifest["errors"][key] = f"the answer could not be exported as data ({type(exc).__name__}: {exc})"[:2000]
        tmp = target / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, allow_nan=True))
        os.replace(tmp, target / MANIFEST)
    except BaseException:  # noqa: BLE001 - the grader reports a missing answer
        pass


class _Writer:
    def __init__(self, folder: Path):
        self.folder = folder
        self.n = 0
        self.items = 0

    def _file(self, ext: str) -> str:
        self.n += 1
        return f"v{self.n}.{ext}"

    def encode(self, v, depth: int):
        import numpy as np
        import pandas as pd

        if depth > MAX_DEPTH - 5:
            raise ValueError("the answer is nested too deeply")
        self.items += 1
        if self.items > MAX_ITEMS:
            raise ValueError("the answer has too many items")
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, np.generic):
            if isinstance(v, (np.datetime64, np.timedelta64)):
                return {"t": "np", "dtype": str(v.dtype), "v": str(v)}
            item = v.item()
            if isinstance(item, float) and not math.isfinite(item):
                item = repr(item)
            return {"t": "np", "dtype": str(v.dtype), "v": item if not isinstance(item, int) else str(item)}
        if isinstance(v, int) and not isinstance(v, bool):
            return {"t": "int", "v": str(v)} if abs(v) > 2**53 else v
        if isinstance(v, float):
            return v if math.isfinite(v) else {"t": "float", "v": repr(v)}
        if isinstance(v, pd.Timestamp):
            return {"t": "ts", "v": v.isoformat()} if v is not pd.NaT else {"t": "nat"}
        if v is pd.NaT:
            return {"t": "nat"}
        if isinstance(v, pd.Timedelta):
            return {"t": "td", "v": int(v.value)}
        if isinstance(v, _dt.datetime):
            return {"t": "datetime", "v": v.isoformat()}
        if isinstance(v, _dt.date):
            return {"t": "date", "v": v.isoformat()}
        if isinstance(v, (list, tuple, set, frozenset)):
            kind = {list: "list", tuple: "tuple"}.get(type(v), "set" if isinstance(v, (set, frozenset)) else "list")
            if isinstance(v, tuple) and hasattr(v, "_fields"):
                kind = "tuple"
            return {"t": kind, "v": [self.encode(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            return {"t": "dict", "k": [self.encode(k, depth + 1) for k in v.keys()],
                    "v": [self.encode(x, depth + 1) for x in v.values()]}
        if isinstance(v, (pd.DataFrame, pd.Series, pd.Index)):
            return self._frame(v, depth)
        if isinstance(v, np.ndarray):
            if v.dtype.hasobject:
                return {"t": "ndarray_list", "shape": list(v.shape), "v": self.encode(v.tolist(), depth + 1)}
            name = self._file("npy")
            np.save(self.folder / name, v, allow_pickle=False)
            return {"t": "ndarray", "file": name}
        axes = _as_axes(v)
        if axes is not None:
            return {"t": "axes", "v": self.encode(_axes_summary(axes), depth + 1)}
        if _looks_fitted(v):
            return self._model(v, depth)
        return {"t": "unsupported", "type": f"{type(v).__module__}.{type(v).__qualname__}"}

    def _labels(self, index, depth):
        return {"names": [self.encode(n, depth + 1) for n in index.names],
                "values": [self.encode(x, depth + 1) for x in index.tolist()],
                "multi": bool(getattr(index, "nlevels", 1) > 1)}

    def _frame(self, obj, depth):
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        kind = "frame" if isinstance(obj, pd.DataFrame) else "series" if isinstance(obj, pd.Series) else "index"
        meta = {"t": kind}
        if kind == "index":
            meta["name"] = self.encode(obj.name, depth + 1)
            meta["names"] = [self.encode(n, depth + 1) for n in obj.names]
            df = obj.to_frame(index=False)
        else:
            frame = obj.to_frame(name="__value__") if kind == "series" else obj
            if kind == "series":
                meta["name"] = self.encode(obj.name, depth + 1)
            else:
                meta["columns"] = self._labels(obj.columns, depth)
                meta["columns_dtype"] = str(obj.columns.dtype)
            idx = frame.index
            meta["range_index"] = bool(isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1
                                       and idx.name is None)
            meta["index_names"] = [self.encode(n, depth + 1) for n in idx.names]
            parts = [] if meta["range_index"] else [idx.get_level_values(k).array for k in range(idx.nlevels)]
            parts += [frame.iloc[:, j].array for j in range(frame.shape[1])]
            df = pd.DataFrame({f"c{k}": a for k, a in enumerate(parts)}, index=pd.RangeIndex(len(frame)))
        if kind == "index":
            df.columns = [f"c{i}" for i in range(df.shape[1])]
        name = self._file("parquet")
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), self.folder / name)
        meta["file"] = name
        meta["n_index"] = 0 if kind == "index" or meta.get("range_index") else len(obj.index.names)
        return meta

    def _model(self, v, depth):
        params = {}
        if hasattr(v, "get_params"):
            try:
                params = {str(k): self._safe(x, depth) for k, x in v.get_params(deep=False).items()}
            except Exception:  # noqa: BLE001
                params = {}
        fitted = {}
        for name in dir(v):
            if name.endswith("_") and not name.startswith("_") and not name.endswith("__"):
                try:
                    value = getattr(v, name)
                except Exception:  # noqa: BLE001
                    continue
                if callable(value):
                    continue
                fitted[name] = self._safe(value, depth)
        summary = getattr(v, "summary", None)
        if summary is not None and not callable(summary):
            fitted["summary"] = self._safe(summary, depth)
        return {"t": "model", "class": f"{type(v).__module__}.{type(v).__qualname__}",
                "params": {"t": "dict", "k": list(params), "v": list(params.values())},
                "fitted": {"t": "dict", "k": list(fitted), "v": list(fitted.values())}}

    def _safe(self, value, depth):
        try:
            return self.encode(value, depth + 1)
        except Exception:  # noqa: BLE001
            return {"t": "unsupported", "type": f"{type(value).__module__}.{type(value).__qualname__}"}


def _looks_fitted(v) -> bool:
    return hasattr(v, "get_params") or hasattr(v, "params_")


def _as_axes(v):
    try:
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover
        return None
    if isinstance(v, Figure) and len(v.axes) == 1:
        return v.axes[0]
    return v if isinstance(v, Axes) else None


def _axes_summary(ax) -> dict:
    import numpy as np
    from matplotlib.collections import PathCollection
    from matplotlib.patches import Rectangle

    def floats(xs):
        out = []
        for x in xs:
            try:
                out.append(float(x))
            except (TypeError, ValueError):
                out.append(str(x))
        return out

    lines = [{"x": floats(line.get_xdata()), "y": floats(line.get_ydata()), "label": str(line.get_label())}
             for line in ax.get_lines()]
    bars = [{"x": float(p.get_x()), "y": float(p.get_y()), "w": float(p.get_width()), "h": float(p.get_height())}
            for p in ax.patches if isinstance(p, Rectangle)]
    points = [[floats(row) for row in np.asarray(c.get_offsets())] for c in ax.collections
              if isinstance(c, PathCollection)]
    legend = ax.get_legend()
    return {"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
            "xticklabels": [t.get_text() for t in ax.get_xticklabels()],
            "yticklabels": [t.get_text() for t in ax.get_yticklabels()],
            "lines": lines, "bars": bars, "points": points,
            "legend": [t.get_text() for t in legend.get_texts()] if legend is not None else None}


# ============================================================================ trusted side
def _open_regular(path: Path, limit: int) -> bytes:
    """Read a regular file of at most ``limit`` bytes; refuse links, FIFOs and devices."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise AnswerError(f"{path.name} is missing") from exc
    if not stat.S_ISREG(st.st_mode):
        raise AnswerError(f"{path.name} is not a regular file")
    if st.st_size > limit:
        raise AnswerError(f"{path.name} is larger than {limit // 2**20} MiB")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AnswerError(f"{path.name} is not a regular file")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise AnswerError(f"{path.name} is larger than {limit // 2**20} MiB")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > best:
                best = depth
                if best > limit:
                    return best
        elif ch in "]}":
            depth -= 1
    return best


def read_json_strict(path, limit: int = MAX_JSON_BYTES, max_depth: int = MAX_DEPTH):
    """Parse a JSON file written by untrusted code: regular file, size and depth limited.

    >>> import json, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "deep.json")
    >>> _ = open(p, "w").write("[" * 100000 + "]" * 100000)
    >>> read_json_strict(p)
    Traceback (most recent call last):
    ...
    crmlab.course.export.AnswerError: deep.json is nested deeper than 40 levels
    """
    path = Path(path)
    raw = _open_regular(path, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnswerError(f"{path.name} is not UTF-8 text") from exc
    if _json_depth(text, max_depth) > max_depth:
        raise AnswerError(f"{path.name} is nested deeper than {max_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise AnswerError(f"{path.name} is not valid JSON ({exc})"[:300]) from None


class _Reader:
    def __init__(self, folder: Path):
        self.folder = folder
        self.total = 0

    def _bytes(self, name) -> bytes:
        if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
            raise AnswerError(f"bad file reference {name!r}")
        raw = _open_regular(self.folder / name, MAX_FILE_BYTES)
        self.total += len(raw)
        if self.total > MAX_TOTAL_BYTES:
            raise AnswerError(f"the answers are larger than {MAX_TOTAL_BYTES // 2**20} MiB in all")
        return raw

    def decode(self, node, depth=0):
        import numpy as np
        import pandas as pd

        if depth > MAX_DEPTH:
            raise AnswerError("the answer is nested too deeply")
        if node is None or isinstance(node, (bool, str, float)):
            return node
        if isinstance(node, int):
            return node
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise AnswerError("malformed answer manifest")
        t = node["t"]
        if t == "int":
            return int(_str(node["v"])[:400])
        if t == "float":
            return float(_str(node["v"]))
        if t == "np":
            dtype = np.dtype(_str(node["dtype"]))
            if dtype.hasobject:
                raise AnswerError("object dtype is not allowed")
            v = node["v"]
            return np.array(v if not isinstance(v, str) or dtype.kind in "mMUS" else float(v) if dtype.kind == "f"
                            else int(v[:400]) if dtype.kind in "iu" else v, dtype=dtype)[()]
        if t == "ts":
            return pd.Timestamp(_str(node["v"]))
        if t == "nat":
            return pd.NaT
        if t == "td":
            return pd.Timedelta(int(node["v"]))
        if t == "datetime":
            return _dt.datetime.fromisoformat(_str(node["v"]))
        if t == "date":
            return _dt.date.fromisoformat(_str(node["v"]))
        if t in ("list", "tuple", "set"):
            items = [self.decode(x, depth + 1) for x in _list(node["v"])]
            if t == "set":
                try:
                    return set(items)
                except TypeError as exc:
                    raise AnswerError("a set holds unhashable items") from exc
            return tuple(items) if t == "tuple" else items
        if t == "dict":
            keys = [self.decode(k, depth + 1) for k in _list(node["k"])]
            values = [self.decode(v, depth + 1) for v in _list(node["v"])]
            try:
                return dict(zip(keys, values, strict=True))
            except (TypeError, ValueError) as exc:
                raise AnswerError("malformed dict in the answer") from exc
        if t in ("frame", "series", "index"):
            return self._frame(node, depth)
        if t == "ndarray":
            raw = self._bytes(node["file"])
            try:
                return np.load(io.BytesIO(raw), allow_pickle=False)
            except (ValueError, OSError, EOFError) as exc:
                raise AnswerError(f"the array file is not a valid .npy file ({exc})"[:300]) from None
        if t == "ndarray_list":
            return np.array(self.decode(node["v"], depth + 1), dtype=object)
        if t == "axes":
            return _draw_axes(self.decode(node["v"], depth + 1))
        if t == "model":
            return ModelSummary(class_name=_str(node["class"]), params=self.decode(node["params"], depth + 1),
                                fitted=self.decode(node["fitted"], depth + 1))
        if t == "unsupported":
            return Unsupported(_str(node.get("type", "object")))
        raise AnswerError(f"unknown answer type {t!r}")

    def _labels(self, spec, depth):
        import pandas as pd

        names = [self.decode(n, depth + 1) for n in _list(spec["names"])]
        values = [self.decode(v, depth + 1) for v in _list(spec["values"])]
        if spec.get("multi"):
            return pd.MultiIndex.from_tuples([tuple(v) for v in values], names=names)
        return pd.Index(values, name=names[0] if names else None, tupleize_cols=False)

    def _frame(self, node, depth):
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        raw = self._bytes(node["file"])
        try:
            pf = pq.ParquetFile(pa.BufferReader(raw))
            md = pf.metadata
            size = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
            if size > 4 * MAX_FILE_BYTES or md.num_columns > 10_000:
                raise AnswerError("the table is too large once uncompressed")
            df = pf.read().to_pandas()
        except AnswerError:
            raise
        except Exception as exc:  # noqa: BLE001 - any malformed Parquet file
            raise AnswerError(f"the table file is not valid Parquet ({type(exc).__name__})") from None
        t = node["t"]
        if t == "index":
            names = [self.decode(n, depth + 1) for n in _list(node["names"])]
            if df.shape[1] == 1:
                return pd.Index(df.iloc[:, 0], name=names[0] if names else None)
            return pd.MultiIndex.from_frame(df, names=names)
        n_index = int(node.get("n_index", 0))
        index_names = [self.decode(n, depth + 1) for n in _list(node.get("index_names", []))]
        if n_index:
            idx_cols = list(df.columns[:n_index])
            index = (pd.Index(df[idx_cols[0]], name=index_names[0] if index_names else None) if n_index == 1
                     else pd.MultiIndex.from_frame(df[idx_cols], names=index_names))
            df = df.drop(columns=idx_cols)
            df.index = index
        if t == "series":
            s = df.iloc[:, 0]
            s.name = self.decode(node.get("name"), depth + 1)
            return s
        columns = self._labels(node["columns"], depth)
        if len(columns) != df.shape[1]:
            raise AnswerError("the table's column labels do not match its data")
        df.columns = columns
        dtype = node.get("columns_dtype")
        if isinstance(dtype, str) and dtype not in ("object", "str") and not isinstance(columns, pd.MultiIndex):
            try:
                df.columns = df.columns.astype(dtype)
            except (TypeError, ValueError):
                pass
        return df


def _str(v) -> str:
    if not isinstance(v, str):
        raise AnswerError("malformed answer manifest")
    return v


def _list(v) -> list:
    if not isinstance(v, list):
        raise AnswerError("malformed answer manifest")
    return v


def _draw_axes(s: dict):
    """A fresh Agg Axes drawn from an exported plot summary."""
    from matplotlib.figure import Figure

    if not isinstance(s, dict):
        raise AnswerError("malformed plot summary")
    ax = Figure().add_subplot()
    ax.set_title(str(s.get("title", "")))
    ax.set_xlabel(str(s.get("xlabel", "")))
    ax.set_ylabel(str(s.get("ylabel", "")))
    for line in s.get("lines") or []:
        ax.plot(line.get("x", []), line.get("y", []), label=str(line.get("label", "")))
    bars = s.get("bars") or []
    if bars:
        ax.bar([b["x"] for b in bars], [b["h"] for b in bars], width=[b["w"] for b in bars],
               bottom=[b["y"] for b in bars], align="edge")
    for pts in s.get("points") or []:
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts])
    if s.get("legend"):
        ax.legend(s["legend"])
    return ax


def load_answers(folder) -> tuple[dict, dict]:
    """Read one exercise's exported answers: ``(values by argument key, errors by key)``.

    Raises :class:`AnswerError` when the folder has no readable manifest.
    """
    folder = Path(folder)
    try:
        st = os.lstat(folder)
    except OSError:
        raise AnswerError("no answer was exported") from None
    if not stat.S_ISDIR(st.st_mode):
        raise AnswerError("the answer folder is not a folder")
    manifest = read_json_strict(folder / MANIFEST)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("args", {}), dict) \
            or not isinstance(manifest.get("errors", {}), dict):
        raise AnswerError("malformed answer manifest")
    reader = _Reader(folder)
    values = {}
    errors = {str(k): str(v)[:2000] for k, v in manifest.get("errors", {}).items()}
    for key, node in manifest.get("args", {}).items():
        try:
            values[str(key)] = reader.decode(node)
        except AnswerError as exc:
            errors[str(key)] = f"the exported answer could not be read: {exc}"
        except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
            errors[str(key)] = f"the exported answer could not be read ({type(exc).__name__})"
    return values, errors
