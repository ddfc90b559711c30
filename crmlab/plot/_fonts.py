"""A CJK font for matplotlib, so that Chinese labels (重要价值客户 …) render as characters.

:func:`use_cjk_font` finds a font with Chinese glyphs, registers it with matplotlib and
appends it to ``rcParams["font.family"]``. Matplotlib (>= 3.6) falls back glyph by glyph
along that list, so Latin text keeps the default font (DejaVu Sans) and only the Chinese
characters come from the CJK font. ``crmlab.plot`` calls it on import and the helpers
that draw Chinese labels call it again (a style reset such as ``sns.set_theme()`` drops it).

Where the font comes from, first found wins:

1. the font file shipped by a package from the ``course`` extra (``noto-cjk-sans-otc``,
   Noto Sans CJK, SIL Open Font License), so every machine set up by the README draws the
   same glyphs;
2. a CJK font installed on the system (Noto Sans CJK, Source Han Sans, WenQuanYi, …).

If neither exists it warns once, naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import warnings
from pathlib import Path

__all__ = ["use_cjk_font"]

#: Packages from the index that ship a CJK font file: (import name, attribute holding the path).
_FONT_PACKAGES = (("noto_cjk_sans_otc", "FONT_PATH"),)

#: System CJK families, Simplified Chinese faces first.
_SYSTEM_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "Sarasa Gothic SC",
    "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB",
    "Heiti SC", "SimHei", "Noto Sans CJK JP", "Noto Sans CJK TC", "Source Han Sans", "Droid Sans Fallback",
    "AR PL UMing CN", "AR PL UKai CN",
)

_CJK_FILE = re.compile(r"cjk|wqy|wenquan|sourcehan|notos[a-z]*(sc|tc|hk)|droidsansfallback|simhei|msyh|pingfang|"
                       r"sarasa|uming|ukai|hiragino", re.IGNORECASE)

#: Characters a font must have to count as a Chinese font (from the course's segment names).
_PROBE = "重要价值客户关键普通小忠诚"

_state: dict = {"family": None, "searched": False, "warned": False, "applied": set()}


def _has_chinese(path) -> bool:
    from matplotlib import ft2font

    try:
        font = ft2font.FT2Font(str(path))
    except (OSError, RuntimeError, ValueError):
        return False
    return all(font.get_char_index(ord(ch)) for ch in _PROBE)


def _register(path) -> str | None:
    """Add a font file to matplotlib's font manager; return its best family for Chinese, if any.

    Matplotlib >= 3.11 registers every face of a collection (``.ttc``), so the Simplified
    Chinese face of a pan-CJK collection is chosen; older versions see its first face only.
    """
    from matplotlib import font_manager

    path = Path(path)
    if not path.is_file() or not _has_chinese(path):
        return None
    font_manager.fontManager.addfont(str(path))
    faces = [e.name for e in font_manager.fontManager.ttflist if Path(e.fname) == path]
    preferred = [f for f in _SYSTEM_FAMILIES if f in faces]
    return preferred[0] if preferred else (faces[0] if faces else None)


def _packaged_font() -> str | None:
    for module, attr in _FONT_PACKAGES:
        if importlib.util.find_spec(module) is None:
            continue
        family = _register(getattr(importlib.import_module(module), attr))
        if family:
            return family
    return None


def _system_font() -> str | None:
    from matplotlib import font_manager

    by_name: dict[str, str] = {}
    for entry in font_manager.fontManager.ttflist:
        by_name.setdefault(entry.name, entry.fname)
    for family in _SYSTEM_FAMILIES:
        if family in by_name and _has_chinese(by_name[family]):
            return family
    # fonts installed after matplotlib built its font cache are not in ttflist: look at the
    # font files themselves (only those whose names suggest CJK, as reading every font is slow)
    # every face is registered (regular first), so matplotlib finds a normal weight and does
    # not fall back to the bold face with a "findfont" message
    candidates = [p for p in font_manager.findSystemFonts() if _CJK_FILE.search(Path(p).name)]
    candidates.sort(key=lambda p: ("regular" not in Path(p).name.lower(), Path(p).name))
    found: str | None = None
    for path in candidates:
        registered = _register(path)
        found = found or registered
    return found


def _find() -> str | None:
    if not _state["searched"]:
        _state["family"] = _packaged_font() or _system_font()
        _state["searched"] = True
    return _state["family"]


def use_cjk_font(font: str | Path | None = None) -> str | None:
    """Make matplotlib draw Chinese characters, keeping the default font for Latin text.

    Parameters
    ----------
    font : str or path-like, optional
        A font file (``.ttf``, ``.otf``, ``.ttc``) or the family name of an installed
        font to use instead of the one found automatically; it stays the choice for the
        rest of the session.

    Returns
    -------
    str or None
        The CJK family appended to ``rcParams["font.family"]``, or None (with a warning,
        given once) when no font with Chinese glyphs exists on this machine.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> family = use_cjk_font()
    >>> family is None or mpl.rcParams["font.family"][-1] == family
    True
    """
    import matplotlib as mpl

    if font is None:
        family = _find()
    elif not isinstance(font, (str, Path)):
        raise TypeError(f"font must be a font file path or a family name, got {type(font).__name__}.")
    elif Path(font).suffix.lower() in (".ttf", ".otf", ".ttc"):
        if not Path(font).is_file():
            raise ValueError(f"font file {str(font)!r} does not exist; give the path of a .ttf, .otf or .ttc file.")
        family = _register(font)
        if family is None:
            raise ValueError(f"font file {str(font)!r} has no Chinese glyphs (e.g. {_PROBE[0]!r}); choose a CJK font.")
    else:
        from matplotlib import font_manager

        names = {e.name: e.fname for e in font_manager.fontManager.ttflist}
        if font not in names:
            raise ValueError(f"no installed font family {font!r}; give a font file path or one of the families "
                             f"in matplotlib.font_manager.fontManager.ttflist.")
        if not _has_chinese(names[font]):
            raise ValueError(f"font family {font!r} has no Chinese glyphs (e.g. {_PROBE[0]!r}); choose a CJK font.")
        family = str(font)
    if font is not None:  # the helpers' later automatic calls keep this choice
        _state.update(family=family, searched=True)
    if family is None:
        if not _state["warned"]:
            _state["warned"] = True
            warnings.warn("No font with Chinese characters found: Chinese labels will show as boxes. "
                          "Install one with `pip install 'crmlab[course]'` (it brings Noto Sans CJK), "
                          "or a system CJK font (e.g. the fonts-noto-cjk package).", UserWarning, stacklevel=2)
        return None
    current = mpl.rcParams["font.family"]
    current = [current] if isinstance(current, str) else list(current)
    # replace a CJK family set by an earlier call, keep whatever the user put first
    wanted = [f for f in current if f not in _state["applied"] or f == family]
    if family not in wanted:
        wanted.append(family)
    if wanted != current:
        mpl.rcParams["font.family"] = wanted
    _state["applied"].add(family)
    return family
