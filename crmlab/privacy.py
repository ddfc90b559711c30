"""Customer data security and privacy (客户数据安全, 隐私保护).

Tools to share and use customer data with less risk:

- :func:`pseudonymize` / :func:`pseudonymize_frame` replace identifiers by a keyed
  HMAC-SHA256 digest (假名化): the same id and key always give the same token, so
  tables still join, but without the key a token cannot be traced back, and tokens
  made with different keys cannot be linked.
- :func:`mask_email` / :func:`mask_phone` hide most of a contact detail for display
  (数据脱敏), e.g. in a service screen.
- :func:`k_anonymity`, :func:`equivalence_classes` and :func:`class_sizes` measure how
  identifiable rows are from quasi-identifiers (age, gender, region...);
  :func:`generalize` and :func:`generalize_until_k` coarsen them (泛化) until every
  combination is shared by at least ``k`` customers (Sweeney 2002).
- :func:`l_diversity` and :func:`diversity_classes` check what k-anonymity does not:
  whether each equivalence class holds varied values of a sensitive attribute (l-多样性,
  Machanavajjhala et al. 2007), so that placing someone in a class does not reveal it.
- :func:`marketing_list` keeps only customers who gave marketing consent and only
  the columns the campaign needs (数据最小化).
- :func:`privacy_pipeline` chains these into an analysis extract without direct
  identifiers.

Examples
--------
>>> import pandas as pd
>>> from crmlab.privacy import pseudonymize, mask_phone, k_anonymity
>>> key = "course-demo-key-0123456789"
>>> pseudonymize([17, 17, 18], key)[0] == pseudonymize([17], key)[0]
True
>>> mask_phone(["13812345678"]).tolist()
['138****5678']
>>> df = pd.DataFrame({"age_band": ["20-29", "20-29", "30-39"], "gender": ["F", "F", "M"]})
>>> k_anonymity(df, ["age_band", "gender"])
1
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from crmlab.validation import (
    check_fraction,
    check_frame,
    check_positive_int,
    require_columns,
)

__all__ = [
    "MIN_KEY_BYTES",
    "DIRECT_IDENTIFIERS",
    "pseudonymize",
    "pseudonymize_frame",
    "mask_email",
    "mask_phone",
    "k_anonymity",
    "l_diversity",
    "diversity_classes",
    "equivalence_classes",
    "class_sizes",
    "band",
    "numeric_hierarchy",
    "category_hierarchy",
    "retail_hierarchies",
    "generalize",
    "generalize_until_k",
    "GeneralizationResult",
    "marketing_list",
    "privacy_pipeline",
]

MIN_KEY_BYTES = 16
"""Shortest accepted secret key (bytes after UTF-8 encoding): 128 bits."""

DIRECT_IDENTIFIERS = ("name", "email", "phone")
"""Columns of the simulated company's ``customers`` table that identify a person directly."""

SUPPRESSED = "*"

Values: TypeAlias = "pd.Series | np.ndarray | Sequence[Any]"
"""One column of values: a Series, a 1-D array or a list."""
Key: TypeAlias = "str | bytes"
"""A secret key for :func:`pseudonymize` (at least :data:`MIN_KEY_BYTES` bytes)."""


# --------------------------------------------------------------------------- pseudonymisation
def _check_key(key) -> bytes:
    if isinstance(key, str):
        raw = key.encode("utf-8")
    elif isinstance(key, (bytes, bytearray)):
        raw = bytes(key)
    else:
        raise TypeError(
            f"key must be a secret str or bytes, got {type(key).__name__}. "
            f"Create one with secrets.token_hex(16) and keep it out of the shared data."
        )
    if len(raw) < MIN_KEY_BYTES:
        raise ValueError(
            f"key is too short ({len(raw)} bytes); use at least {MIN_KEY_BYTES} bytes, "
            f"e.g. secrets.token_hex(16). Short keys can be guessed by brute force."
        )
    return raw


def _as_1d(values, name: str) -> tuple[np.ndarray, pd.Index | None]:
    if isinstance(values, pd.DataFrame):
        raise TypeError(f"{name} must be one column (a list, array or Series), got a DataFrame; "
                        f"use pseudonymize_frame for several columns.")
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of values, got a single string {values!r}; wrap it in a list.")
    index = values.index if isinstance(values, pd.Series) else None
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else list(values), dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    missing = pd.isna(arr)
    if missing.any():
        raise ValueError(
            f"{name} has {int(missing.sum())} missing value(s) (first at position "
            f"{int(np.flatnonzero(missing)[0])}). Fill or drop them first; crmlab does not drop rows silently."
        )
    return arr, index


def _token(value) -> str:
    # Integers and integer-valued floats map to the same text, so id 17 and 17.0 agree.
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def pseudonymize(values: Values, key: Key, *, length: int = 16) -> pd.Series | np.ndarray:
    """Replace each value by a keyed HMAC-SHA256 token (假名化).

    .. math:: \\text{token}(x) = \\text{HMAC-SHA256}(\\text{key}, x)\\ \\text{(hex, first ``length`` characters)}

    Parameters
    ----------
    values : list, array or Series
        Identifiers (customer ids, e-mails...). Missing values raise ``ValueError``.
    key : str or bytes
        Secret key of at least :data:`MIN_KEY_BYTES` bytes. The same key always maps a
        value to the same token, so pseudonymised tables still join; without the key
        the mapping cannot be recomputed, and different keys give unlinkable tokens.
    length : int, default 16
        Hex characters kept (8–64); 16 characters = 64 bits.

    Returns
    -------
    Series (same index) if ``values`` is a Series, else a 1-D object array of str.

    Examples
    --------
    >>> pseudonymize([1, 2], "a-secret-key-of-16+bytes").tolist() == pseudonymize(
    ...     [1, 2], "a-secret-key-of-16+bytes").tolist()
    True
    """
    raw_key = _check_key(key)
    length = check_positive_int(length, name="length", minimum=8)
    if length > 64:
        raise ValueError(f"length must be at most 64 (a SHA-256 digest has 64 hex characters), got {length}.")
    arr, index = _as_1d(values, "values")
    cache: dict[str, str] = {}
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        t = _token(v)
        if t not in cache:
            cache[t] = hmac.new(raw_key, t.encode("utf-8"), hashlib.sha256).hexdigest()[:length]
        out[i] = cache[t]
    if index is not None:
        name = values.name if isinstance(values, pd.Series) else None
        return pd.Series(out, index=index, name=name, dtype="str")
    return out


def pseudonymize_frame(df: pd.DataFrame, columns: str | Sequence[str], key: Key, *,
                       length: int = 16) -> pd.DataFrame:
    """Return a copy of ``df`` with ``columns`` pseudonymised by :func:`pseudonymize`.

    Use the same ``key`` for every table you share (customers, transactions...) so the
    tokens still join; use a new key for each recipient so their extracts cannot be
    linked with each other.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [5.0, 7.0, 3.0]})
    >>> out = pseudonymize_frame(tx, "customer_id", "a-secret-key-of-16+bytes")
    >>> out["customer_id"].nunique()
    2
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise ValueError("columns is empty: name at least one column to pseudonymise, e.g. 'customer_id'.")
    out = check_frame(df, required=cols, not_missing=cols, allow_empty=True, name="df")
    for col in cols:
        out[col] = pseudonymize(out[col], key, length=length)
    return out


# --------------------------------------------------------------------------- masking
def _strings(values, name: str) -> tuple[list[str], pd.Index | None, str | None]:
    arr, index = _as_1d(values, name)
    bad = [v for v in arr if not isinstance(v, str)]
    if bad:
        raise TypeError(f"{name} must hold strings, found {bad[0]!r} ({type(bad[0]).__name__}). "
                        f"Convert with .astype(str) first.")
    return list(arr), index, (values.name if isinstance(values, pd.Series) else None)


def _wrap(out: list[str], index, name):
    if index is not None:
        return pd.Series(out, index=index, name=name, dtype="str")
    return np.asarray(out, dtype=object)


def mask_email(values: Values, *, keep: int = 1, fill: str = "*") -> pd.Series | np.ndarray:
    """Mask the local part of e-mail addresses: ``wang.li@example.com`` → ``w******@example.com``.

    The first ``keep`` characters of the local part and the whole domain stay visible,
    so service staff can confirm an address with the customer without reading it.

    Raises ``ValueError`` for a value without exactly one ``@``.

    Examples
    --------
    >>> mask_email(["wang.li@example.com"]).tolist()
    ['w******@example.com']
    """
    keep = check_positive_int(keep, name="keep", minimum=0)
    items, index, name = _strings(values, "emails")
    out = []
    for e in items:
        if e.count("@") != 1 or e.startswith("@") or e.endswith("@"):
            raise ValueError(f"{e!r} is not an e-mail address (expected one '@' between a name and a domain).")
        local, domain = e.split("@")
        shown = local[: min(keep, len(local) - 1)]
        out.append(shown + fill * (len(local) - len(shown)) + "@" + domain)
    return _wrap(out, index, name)


def mask_phone(values: Values, *, keep_start: int = 3, keep_end: int = 4,
               fill: str = "*") -> pd.Series | np.ndarray:
    """Mask the middle digits of phone numbers: ``13812345678`` → ``138****5678``.

    Separators (spaces, dashes, a leading ``+``) are removed first. The number must
    have more digits than ``keep_start + keep_end``, otherwise nothing would be hidden.

    Examples
    --------
    >>> mask_phone(["138-1234-5678"]).tolist()
    ['138****5678']
    """
    keep_start = check_positive_int(keep_start, name="keep_start", minimum=0)
    keep_end = check_positive_int(keep_end, name="keep_end", minimum=0)
    items, index, name = _strings(values, "phones")
    out = []
    for p in items:
        digits = re.sub(r"[\s\-+().]", "", p)
        if not digits.isdigit():
            raise ValueError(f"{p!r} is not a phone number (only digits, spaces, '-', '+', '(', ')' allowed).")
        if len(digits) <= keep_start + keep_end:
            raise ValueError(
                f"{p!r} has {len(digits)} digits; with keep_start={keep_start} and keep_end={keep_end} "
                f"nothing would be hidden. Lower keep_start/keep_end."
            )
        hidden = len(digits) - keep_start - keep_end
        out.append(digits[:keep_start] + fill * hidden + (digits[-keep_end:] if keep_end else ""))
    return _wrap(out, index, name)


# --------------------------------------------------------------------------- k-anonymity
def _qi_list(df: pd.DataFrame, quasi_identifiers) -> list[str]:
    qi = [quasi_identifiers] if isinstance(quasi_identifiers, str) else list(quasi_identifiers)
    if not qi:
        raise ValueError("quasi_identifiers is empty: name the columns an outsider could know, "
                         "e.g. ['age', 'gender', 'region'].")
    if len(set(qi)) != len(qi):
        raise ValueError(f"quasi_identifiers has duplicates: {qi}.")
    require_columns(df, qi, name="df")
    if len(df) == 0:
        raise ValueError("df is empty: k-anonymity needs at least one row.")
    return qi


def class_sizes(df: pd.DataFrame, quasi_identifiers: str | Sequence[str]) -> pd.Series:
    """Size of each row's equivalence class: how many rows share its quasi-identifiers.

    Missing values count as a value of their own. Returns an int Series aligned with
    ``df.index`` (named ``class_size``); a row with size 1 is unique, hence re-identifiable.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["F", "F", "M"], "r": ["E", "E", "E"]})
    >>> class_sizes(df, ["g", "r"]).tolist()
    [2, 2, 1]
    """
    qi = _qi_list(df, quasi_identifiers)
    sizes = df.groupby(qi, dropna=False, sort=False, observed=True)[qi[0]].transform("size")
    return sizes.astype("int64").rename("class_size")


def equivalence_classes(df: pd.DataFrame, quasi_identifiers: str | Sequence[str]) -> pd.DataFrame:
    """Table of equivalence classes: one row per combination of quasi-identifiers.

    Columns: the quasi-identifiers and ``size``, sorted from the smallest class (the
    most exposed customers) to the largest.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["F", "F", "M"]})
    >>> equivalence_classes(df, "g")["size"].tolist()
    [1, 2]
    """
    qi = _qi_list(df, quasi_identifiers)
    table = df.groupby(qi, dropna=False, observed=True).size().rename("size").reset_index()
    return table.sort_values(["size", *qi], kind="stable").reset_index(drop=True)


def k_anonymity(df: pd.DataFrame, quasi_identifiers: str | Sequence[str]) -> int:
    """The k of k-anonymity: the size of the smallest equivalence class (Sweeney 2002).

    A table is *k-anonymous* when every combination of quasi-identifier values is
    shared by at least k rows, so no customer can be singled out from them:

    .. math:: k = \\min_{c} |\\{i : QI(i) = c\\}|

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["F", "F", "M", "M"], "r": ["E", "E", "W", "W"]})
    >>> k_anonymity(df, ["g", "r"])
    2
    """
    return int(class_sizes(df, quasi_identifiers).min())


def diversity_classes(df: pd.DataFrame, quasi_identifiers: str | Sequence[str], sensitive: str) -> pd.DataFrame:
    """How varied the sensitive attribute is inside each equivalence class (l-多样性).

    For each combination of quasi-identifiers: its ``size``, the number of ``distinct``
    sensitive values, the *entropy l* :math:`\\exp(-\\sum_s p_s \\ln p_s)` (an
    "effective number" of values: 1 when all rows share one value, the number of values
    when they are equally common) and ``top_share``, the share of the most common value —
    what an attacker who places a person in the class learns with that confidence.
    Missing sensitive values count as a value of their own, as in :func:`class_sizes`.

    Parameters
    ----------
    df : table with the quasi-identifiers and the sensitive column.
    quasi_identifiers : columns an outsider could know about a person.
    sensitive : the column an attacker wants to learn (a complaint, an income band).

    Returns
    -------
    DataFrame with the quasi-identifiers and ``size``, ``distinct``, ``entropy_l``,
    ``top_value``, ``top_share``; sorted from the least diverse class (fewest distinct
    values, then highest ``top_share``).

    Examples
    --------
    >>> df = pd.DataFrame({"band": ["20-29"] * 3 + ["30-39"] * 3,
    ...                    "complained": [True, True, True, True, False, False]})
    >>> diversity_classes(df, "band", "complained")[["band", "distinct", "top_share"]]
        band  distinct  top_share
    0  20-29         1   1.000000
    1  30-39         2   0.666667
    """
    qi = _qi_list(df, quasi_identifiers)
    if not isinstance(sensitive, str):
        raise TypeError(f"sensitive must be one column name (a string), got {sensitive!r}.")
    require_columns(df, [sensitive], name="df")
    if sensitive in qi:
        raise ValueError(f"{sensitive!r} is both a quasi-identifier and the sensitive attribute; "
                         f"an attribute an outsider already knows cannot be disclosed. Pick another column.")
    pairs = (df.groupby([*qi, sensitive], dropna=False, observed=True).size()
             .rename("n").reset_index())
    groups = pairs.groupby(qi, dropna=False, observed=True, sort=False)
    size = groups["n"].transform("sum")
    p = pairs["n"] / size
    pairs = pairs.assign(_plogp=-p * np.log(p), _share=p)
    top = pairs.sort_values("_share", ascending=False, kind="stable").drop_duplicates(qi)
    table = (pairs.groupby(qi, dropna=False, observed=True)
             .agg(size=("n", "sum"), distinct=("n", "size"), _h=("_plogp", "sum")).reset_index())
    table["entropy_l"] = np.exp(table.pop("_h"))
    top = top[[*qi, sensitive, "_share"]].rename(columns={sensitive: "top_value", "_share": "top_share"})
    table = table.merge(top, on=qi, how="left")
    table["distinct"] = table["distinct"].astype("int64")
    table["size"] = table["size"].astype("int64")
    return table.sort_values(["distinct", "top_share"], ascending=[True, False], kind="stable").reset_index(drop=True)


def l_diversity(df: pd.DataFrame, quasi_identifiers: str | Sequence[str], sensitive: str, *,
                kind: str = "distinct") -> float:
    """The l of l-diversity: the least varied class's number of sensitive values.

    k-anonymity stops an attacker from singling a person out, but not from learning
    their sensitive value when everyone in the class shares it (the *homogeneity
    attack*). A table is *l-diverse* (Machanavajjhala et al. 2007) when every
    equivalence class holds at least l "well-represented" values of the sensitive
    attribute:

    - ``kind="distinct"``: :math:`l = \\min_c |\\{s_i : QI(i) = c\\}|`, distinct values
      per class (an int);
    - ``kind="entropy"``: :math:`l = \\min_c \\exp(H_c)` with
      :math:`H_c = -\\sum_s p_{c,s} \\ln p_{c,s}` (a float; stricter, since a class with
      99 rows of one value and 1 of another has 2 distinct values but entropy l of
      about 1.06).

    l = 1 means some class discloses its sensitive value outright.

    Parameters
    ----------
    df, quasi_identifiers, sensitive : as in :func:`diversity_classes`.
    kind : ``"distinct"`` or ``"entropy"``.

    Examples
    --------
    >>> df = pd.DataFrame({"band": ["20-29"] * 2 + ["30-39"] * 2, "income": ["low", "high", "low", "low"]})
    >>> l_diversity(df, "band", "income")
    1
    >>> round(l_diversity(df.iloc[:2], "band", "income", kind="entropy"), 3)
    2.0
    """
    if kind not in ("distinct", "entropy"):
        raise ValueError(f"kind={kind!r} is not allowed; choose 'distinct' or 'entropy'.")
    table = diversity_classes(df, quasi_identifiers, sensitive)
    if kind == "distinct":
        return int(table["distinct"].min())
    return float(table["entropy_l"].min())


# --------------------------------------------------------------------------- generalisation
def band(values: Values, width: float, *, start: float = 0) -> pd.Series:
    """Generalise numbers into bands of ``width``: ages 34, 38, 41 → ``30-39``, ``30-39``, ``40-49``.

    Bands start at ``start`` and are closed on the left. Integer data get inclusive
    labels (``30-39``); other data get interval labels (``[30, 40)``).

    Examples
    --------
    >>> band(pd.Series([34, 38, 41]), 10).tolist()
    ['30-39', '30-39', '40-49']
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        raise TypeError(f"band needs numeric values, got dtype {s.dtype}; use category_hierarchy for labels.")
    if not isinstance(width, (int, float, np.number)) or isinstance(width, bool) or not width > 0:
        raise ValueError(f"width must be a positive number, got {width!r}.")
    if s.isna().any():
        raise ValueError(f"values has {int(s.isna().sum())} missing value(s); fill or drop them first.")
    lo = start + np.floor((s.to_numpy(dtype=float) - start) / width) * width
    integer = pd.api.types.is_integer_dtype(s) and float(width).is_integer() and float(start).is_integer()
    if integer:
        labels = [f"{int(a)}-{int(a + width - 1)}" for a in lo]
    else:
        labels = [f"[{a:g}, {a + width:g})" for a in lo]
    return pd.Series(labels, index=s.index, name=s.name, dtype="str")


def numeric_hierarchy(widths: Iterable[float], *, start: float = 0) -> list[Callable[[pd.Series], pd.Series]]:
    """Generalisation levels for a numeric quasi-identifier: bands of growing width, then ``*``.

    ``numeric_hierarchy([5, 10, 20])`` gives level 1 = 5-year bands, level 2 = 10-year
    bands, level 3 = 20-year bands, level 4 = suppressed (``*``). Level 0, the raw value,
    is implicit.
    """
    widths = list(widths)
    if not widths or any((not isinstance(w, (int, float)) or isinstance(w, bool) or w <= 0) for w in widths):
        raise ValueError(f"widths must be a non-empty list of positive numbers, got {widths!r}.")
    if widths != sorted(widths):
        raise ValueError(f"widths must grow from level to level, got {widths}; sort them.")
    levels = [(lambda s, w=w: band(s, w, start=start)) for w in widths]
    return [*levels, _suppress]


def category_hierarchy(*mappings: Mapping) -> list[Callable[[pd.Series], pd.Series]]:
    """Generalisation levels for a categorical quasi-identifier: each mapping, then ``*``.

    Each mapping sends a raw value to its generalised label (e.g. region → area); a raw
    value that a mapping does not cover raises ``ValueError`` when applied.

    Examples
    --------
    >>> levels = category_hierarchy({1: "1-2", 2: "1-2", 3: "3-4", 4: "3-4"})
    >>> levels[0](pd.Series([1, 4])).tolist(), levels[1](pd.Series([1, 4])).tolist()
    (['1-2', '3-4'], ['*', '*'])
    """
    for m in mappings:
        if not isinstance(m, Mapping):
            raise TypeError(f"each level must be a dict from raw value to label, got {type(m).__name__}.")

    def make(m):
        def level(s: pd.Series) -> pd.Series:
            unknown = sorted({str(v) for v in s.unique() if v not in m})
            if unknown:
                raise ValueError(f"column {s.name!r} has values {unknown[:5]} that the hierarchy does not map; "
                                 f"add them to the mapping.")
            return s.map(m).astype("str")
        return level

    return [*(make(m) for m in mappings), _suppress]


def _suppress(s: pd.Series) -> pd.Series:
    return pd.Series(SUPPRESSED, index=s.index, name=s.name, dtype="str")


def retail_hierarchies() -> dict[str, list[Callable[[pd.Series], pd.Series]]]:
    """Generalisation hierarchies for the simulated company's ``customers`` quasi-identifiers.

    - ``age``: 5-, 10-, 20-year bands, then ``*``;
    - ``gender``: ``*``;
    - ``region``: East/South → ``coast``, North/Central/West → ``inland``, then ``*``;
    - ``city_tier``: 1-2 / 3-4, then ``*``;
    - ``income_band``: ``*``.
    """
    return {
        "age": numeric_hierarchy([5, 10, 20]),
        "gender": [_suppress],
        "region": category_hierarchy(
            {"East": "coast", "South": "coast", "North": "inland", "Central": "inland", "West": "inland"}
        ),
        "city_tier": category_hierarchy({1: "1-2", 2: "1-2", 3: "3-4", 4: "3-4"}),
        "income_band": [_suppress],
    }


def _check_hierarchies(hierarchies, qi: Sequence[str]) -> dict:
    if not isinstance(hierarchies, Mapping):
        raise TypeError("hierarchies must be a dict: column -> list of generalisation levels "
                        "(see numeric_hierarchy, category_hierarchy, retail_hierarchies).")
    missing = [c for c in qi if c not in hierarchies]
    if missing:
        raise ValueError(f"hierarchies has no entry for quasi-identifier {missing[0]!r}; "
                         f"give one for each of {list(qi)}, e.g. numeric_hierarchy([5, 10]) or [lambda s: ...].")
    for c in qi:
        levels = hierarchies[c]
        if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not all(callable(f) for f in levels):
            raise TypeError(f"hierarchies[{c!r}] must be a list of functions Series -> Series, got {levels!r}.")
    return {c: list(hierarchies[c]) for c in qi}


def generalize(df: pd.DataFrame, levels: Mapping[str, int], hierarchies: Mapping) -> pd.DataFrame:
    """Return a copy of ``df`` with each column in ``levels`` generalised to that level.

    Level 0 keeps the raw values; level ``i`` applies ``hierarchies[col][i - 1]`` to the
    raw column.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [23, 27, 35]})
    >>> generalize(df, {"age": 2}, {"age": numeric_hierarchy([5, 10])})["age"].tolist()
    ['20-29', '20-29', '30-39']
    """
    if not isinstance(levels, Mapping):
        raise TypeError("levels must be a dict: column -> level (0 = raw), e.g. {'age': 2}.")
    cols = list(levels)
    out = check_frame(df, required=cols, allow_empty=True, name="df")
    hier = _check_hierarchies(hierarchies, cols)
    for c, lv in levels.items():
        lv = check_positive_int(lv, name=f"levels[{c!r}]", minimum=0)
        if lv > len(hier[c]):
            raise ValueError(f"levels[{c!r}]={lv} but the hierarchy of {c!r} has only {len(hier[c])} level(s).")
        if lv:
            out[c] = hier[c][lv - 1](df[c]).to_numpy()
    return out


@dataclass
class GeneralizationResult:
    """Result of :func:`generalize_until_k`.

    Attributes
    ----------
    data : the generalised copy of the input (same rows, same index).
    levels : the level reached for each quasi-identifier (0 = raw).
    k : the k-anonymity of ``data``.
    n_suppressed : rows whose quasi-identifiers were all set to ``*``.
    history : one row per greedy step: the column raised, its new level, k and the
        number of rows still in classes smaller than the target.
    """

    data: pd.DataFrame
    levels: dict[str, int]
    k: int
    n_suppressed: int
    history: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        return (f"GeneralizationResult(k={self.k}, levels={self.levels}, rows={len(self.data)}, "
                f"suppressed={self.n_suppressed})")


def generalize_until_k(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    k: int,
    hierarchies: Mapping | None = None,
    *,
    max_suppression: float = 0.0,
) -> GeneralizationResult:
    """Generalise quasi-identifiers greedily until the table is k-anonymous.

    The procedure (a greedy version of Samarati's full-domain generalisation):

    1. Start with every quasi-identifier at level 0 (raw values).
    2. While some rows sit in equivalence classes smaller than ``k``: for each column
       that can still be raised, try raising it by one level; keep the single step that
       leaves the fewest rows in classes smaller than ``k`` (ties: the step that keeps
       more equivalence classes, i.e. loses less detail; then column order).
    3. Stop when no row is left below ``k``, or when the rows left below ``k`` are at
       most ``max_suppression`` of the table and at least ``k`` of them: those rows are
       *suppressed* (all their quasi-identifiers set to ``*``; the rows and their other
       columns are kept), so together they form one class of size ``>= k``. A few
       outliers (the oldest customers, say) then no longer force a coarser level on
       everyone.

    Greedy search is not guaranteed to find the least generalisation; it is quick
    and easy to explain.

    Parameters
    ----------
    df : table with the quasi-identifiers.
    quasi_identifiers : columns an outsider could know about a person.
    k : target class size (at least 2).
    hierarchies : dict column -> list of levels; default :func:`retail_hierarchies`.
    max_suppression : fraction of rows that may be suppressed (default 0: none).

    Examples
    --------
    >>> df = pd.DataFrame({"age": [21, 24, 33, 38], "gender": ["F", "F", "M", "M"]})
    >>> res = generalize_until_k(df, ["age", "gender"], 2,
    ...     {"age": numeric_hierarchy([10]), "gender": category_hierarchy()})
    >>> res.levels, res.k
    ({'age': 1, 'gender': 0}, 2)
    >>> res.data["age"].tolist()
    ['20-29', '20-29', '30-39', '30-39']
    """
    qi = _qi_list(df, quasi_identifiers)
    k = check_positive_int(k, name="k", minimum=2)
    if len(df) < k:
        raise ValueError(f"df has {len(df)} rows, fewer than k={k}: no generalisation can make it {k}-anonymous.")
    hier = _check_hierarchies(retail_hierarchies() if hierarchies is None else hierarchies, qi)
    max_supp = check_fraction(max_suppression, name="max_suppression", inclusive=True)
    allowed = int(math.floor(max_supp * len(df) + 1e-9))
    base = check_frame(df, required=qi, allow_empty=False, name="df")
    # cache every level of every column once
    versions = {c: [base[c]] + [f(base[c]) for f in hier[c]] for c in qi}

    def score(levels):
        frame = pd.DataFrame({c: versions[c][levels[c]].to_numpy() for c in qi})
        codes = frame.groupby(qi, dropna=False, sort=False).ngroup()
        counts = np.bincount(codes.to_numpy())
        per_row = counts[codes.to_numpy()]
        return int((per_row < k).sum()), len(counts), int(per_row.min())

    def done(bad):
        return bad == 0 or k <= bad <= allowed

    levels = {c: 0 for c in qi}
    bad, n_classes, kk = score(levels)
    history = [{"step": 0, "column": "", "level": 0, "k": kk, "rows_below_k": bad, "n_classes": n_classes}]
    step = 0
    while not done(bad):
        best = None
        for c in qi:
            if levels[c] >= len(hier[c]):
                continue
            trial = {**levels, c: levels[c] + 1}
            b, n, kk_t = score(trial)
            key = (b, -n)
            if best is None or key < best[0]:
                best = (key, c, b, n, kk_t)
        if best is None:  # pragma: no cover - prevented by the len(df) >= k check and '*' top levels
            raise ValueError(f"every quasi-identifier is fully generalised and k={kk} < {k}; "
                             f"add a top level '*' to each hierarchy.")
        _, c, bad, n_classes, kk = best
        levels[c] += 1
        step += 1
        history.append({"step": step, "column": c, "level": levels[c], "k": kk,
                        "rows_below_k": bad, "n_classes": n_classes})
    out = df.copy()
    for c in qi:
        if levels[c]:
            out[c] = versions[c][levels[c]].to_numpy()
    n_suppressed = 0
    if bad:
        below = (class_sizes(out, qi) < k).to_numpy()
        n_suppressed = int(below.sum())
        for c in qi:
            col = out[c].astype("str") if not pd.api.types.is_string_dtype(out[c]) else out[c].copy()
            col[below] = SUPPRESSED
            out[c] = col
        kk = k_anonymity(out, qi)
    hist = pd.DataFrame(history).astype({"column": "str"})
    return GeneralizationResult(data=out, levels=levels, k=kk, n_suppressed=n_suppressed, history=hist)


# --------------------------------------------------------------------------- consent and pipeline
def _check_consent(df: pd.DataFrame, consent_col: str) -> pd.Series:
    s = df[consent_col]
    if not pd.api.types.is_bool_dtype(s) or s.isna().any():
        raise TypeError(
            f"customers column {consent_col!r} must be boolean without missing values, got dtype {s.dtype}. "
            f"Treat unknown consent as no consent explicitly: customers[{consent_col!r}].fillna(False).astype(bool)."
        )
    return s.astype(bool)


def marketing_list(
    customers: pd.DataFrame,
    *,
    columns: Sequence[str] = ("customer_id", "email"),
    consent_col: str = "marketing_consent",
    exclude: Iterable[Any] | None = None,
    id_col: str = "customer_id",
    key: Key | None = None,
) -> pd.DataFrame:
    """The customers who may be contacted, with only the columns the campaign needs.

    Keeps the rows whose ``consent_col`` is True (营销同意), drops customers in
    ``exclude`` (e.g. those who unsubscribed since), and keeps only ``columns`` (data
    minimisation, 数据最小化). With ``key``, ``id_col`` is pseudonymised so the list can
    be matched back to the CRM only by whoever holds the key.

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3], "email": ["a@x.cn", "b@x.cn", "c@x.cn"],
    ...                           "age": [30, 40, 50], "marketing_consent": [True, False, True]})
    >>> marketing_list(customers, exclude=[3])["email"].tolist()
    ['a@x.cn']
    """
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise ValueError("columns is empty: name the columns the campaign needs, e.g. ['customer_id', 'email'].")
    needed = list(dict.fromkeys([*cols, consent_col] + ([id_col] if exclude is not None or key is not None else [])))
    df = check_frame(customers, required=needed, allow_empty=True, name="customers")
    keep = _check_consent(df, consent_col)
    if exclude is not None:
        if isinstance(exclude, (str, bytes)) or not isinstance(exclude, Iterable):
            raise TypeError(f"exclude must be a list of {id_col} values, got {exclude!r}.")
        keep = keep & ~df[id_col].isin(list(exclude))
    out = df.loc[keep.to_numpy(), cols].reset_index(drop=True)
    if key is not None and id_col in cols:
        out[id_col] = np.asarray(pseudonymize(out[id_col], key), dtype=object)
    return out


def privacy_pipeline(
    customers: pd.DataFrame,
    key: Key,
    *,
    quasi_identifiers: Sequence[str] = ("age", "gender", "region", "city_tier"),
    k: int = 5,
    hierarchies: Mapping | None = None,
    max_suppression: float = 0.0,
    id_col: str = "customer_id",
    drop: Sequence[str] = DIRECT_IDENTIFIERS,
) -> GeneralizationResult:
    """An analysis extract of ``customers`` without direct identifiers and k-anonymous.

    Steps: drop the direct identifiers ``drop`` (name, e-mail, phone), pseudonymise
    ``id_col`` with ``key`` (so other tables pseudonymised with the same key still
    join), then :func:`generalize_until_k` on the quasi-identifiers. Other columns are
    kept as they are, so choose what to keep before calling.

    Returns the :class:`GeneralizationResult` of the last step (its ``data`` is the
    extract).

    Examples
    --------
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3, 4], "name": ["A", "B", "C", "D"],
    ...     "email": ["a@x.cn", "b@x.cn", "c@x.cn", "d@x.cn"], "phone": ["1"] * 4,
    ...     "age": [21, 24, 33, 38], "gender": ["F", "F", "M", "M"]})
    >>> res = privacy_pipeline(customers, "a-secret-key-of-16+bytes", k=2,
    ...     quasi_identifiers=["age", "gender"], hierarchies={"age": numeric_hierarchy([10]),
    ...     "gender": category_hierarchy()})
    >>> list(res.data.columns), res.k
    (['customer_id', 'age', 'gender'], 2)
    """
    drop = [drop] if isinstance(drop, str) else list(drop)
    df = check_frame(customers, required=[id_col, *drop], not_missing=[id_col], name="customers")
    if id_col in drop:
        raise ValueError(f"{id_col!r} is both the id to pseudonymise and a column to drop; remove it from drop.")
    out = df.drop(columns=drop)
    out = pseudonymize_frame(out, id_col, key)
    return generalize_until_k(out, list(quasi_identifiers), k, hierarchies, max_suppression=max_suppression)
