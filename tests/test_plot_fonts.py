"""Chinese in figures: crm.plot finds a CJK font, the course's Chinese terms render with no
missing-glyph warning, Latin text keeps the default font, and the terms appear in both languages."""

from __future__ import annotations

import logging
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager, ft2font  # noqa: E402

import crmlab as crm  # noqa: E402
from crmlab.loyalty import LOYALTY_TYPES_ZH, loyalty_matrix  # noqa: E402
from crmlab.plot import _fonts  # noqa: E402
from crmlab.segmentation import EIGHT_CLASS_SEGMENTS, customer_pyramid, profile_segments  # noqa: E402

RFM_ZH = [zh for _, zh in EIGHT_CLASS_SEGMENTS.values()]
TIERS_ZH = ["关键客户", "普通客户", "小客户"]


@pytest.fixture(autouse=True)
def _restore_rc():
    with mpl.rc_context():
        yield
    plt.close("all")


@pytest.fixture
def cjk_family():
    family = crm.plot.use_cjk_font()
    if family is None:
        pytest.skip("no CJK font on this machine: install crmlab[course] (noto-cjk-sans-otc) or fonts-noto-cjk")
    return family


def _draw_and_collect(fig, caplog):
    """Draw ``fig``; return every missing-glyph warning (warnings module and matplotlib's log)."""
    caplog.clear()
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("always")
        fig.canvas.draw()
    messages = [str(w.message) for w in seen] + [r.getMessage() for r in caplog.records]
    return [m for m in messages if "Glyph" in m or "missing from font" in m]


def _eight_classes():
    rng = np.random.default_rng(0)
    labels = np.repeat(RFM_ZH, 5)
    features = pd.DataFrame({"monetary": rng.gamma(2.0, 50.0, labels.size),
                             "frequency": rng.integers(1, 9, labels.size)})
    return profile_segments(features, labels, value_col="monetary")


def _matrix():
    df = pd.DataFrame({"att": [6, 6, 2, 2, 5, 3], "orders": [9, 1, 9, 1, 8, 2]})
    return loyalty_matrix(df, attitudinal="att", behavioural="orders", cut=(4, 5))


def _texts(ax):
    fig_texts = [t.get_text() for t in ax.figure.findobj(matplotlib.text.Text)]
    return " ".join(fig_texts)


def test_the_font_has_every_chinese_glyph_of_the_course_terms(cjk_family):
    path = font_manager.findfont(font_manager.FontProperties(family=[cjk_family]), fallback_to_default=False)
    font = ft2font.FT2Font(path)
    chars = set("".join(RFM_ZH + TIERS_ZH + list(LOYALTY_TYPES_ZH.values()) + ["客户金字塔"]))
    missing = [c for c in chars if font.get_char_index(ord(c)) == 0]
    assert not missing, f"{cjk_family} ({path}) lacks {missing}"


def test_fallback_keeps_the_default_font_first(cjk_family):
    family = mpl.rcParams["font.family"]
    assert family[0] == "sans-serif" and family[-1] == cjk_family
    assert crm.plot.use_cjk_font() == cjk_family and mpl.rcParams["font.family"].count(cjk_family) == 1


@pytest.mark.parametrize("figure", ["rfm_classes", "rfm_profile", "pyramid", "loyalty_matrix", "own_labels"])
def test_chinese_labels_render_without_missing_glyphs(cjk_family, caplog, figure):
    if figure == "rfm_classes":
        ax = crm.plot.segment_share_plot(_eight_classes())
        expected = [f"{zh} {en}" for en, zh in EIGHT_CLASS_SEGMENTS.values()]
    elif figure == "rfm_profile":
        ax = crm.plot.segment_profile_plot(_eight_classes())
        expected = RFM_ZH
    elif figure == "pyramid":
        ax = crm.plot.pyramid_plot(customer_pyramid(np.arange(1, 21, dtype=float)))
        expected = ["关键客户 key", "普通客户 ordinary", "小客户 small", "客户金字塔"]
    elif figure == "loyalty_matrix":
        ax = crm.plot.loyalty_matrix_plot(_matrix(), attitudinal="att", behavioural="orders")
        expected = [f"{zh} {en}" for en, zh in LOYALTY_TYPES_ZH.items()]
    else:  # a student's own plot after `import crmlab.plot`
        fig, ax = plt.subplots()
        ax.bar(RFM_ZH, range(8))
        ax.set_title("RFM 八类客户 (eight classes)")
        expected = RFM_ZH
    assert _draw_and_collect(ax.figure, caplog) == []
    text = _texts(ax)  # after drawing: tick labels of categorical axes exist only then
    assert all(e in text for e in expected), (expected, text)


def test_a_style_reset_does_not_bring_the_boxes_back(cjk_family, caplog):
    import seaborn as sns

    sns.set_theme()  # resets font.family to "sans-serif"
    assert cjk_family not in mpl.rcParams["font.family"]
    ax = crm.plot.pyramid_plot(customer_pyramid(np.arange(1, 21, dtype=float)))
    assert _draw_and_collect(ax.figure, caplog) == []


def test_the_check_would_catch_boxes(cjk_family, caplog):
    # negative control: without the CJK fallback, DejaVu Sans draws boxes and the check sees it
    if "DejaVuSans" not in font_manager.findfont(font_manager.FontProperties(family=["sans-serif"])):
        pytest.skip("the default sans-serif font is not DejaVu Sans here")
    mpl.rcParams["font.family"] = ["sans-serif"]
    fig, ax = plt.subplots()
    ax.set_title("重要价值客户")
    assert _draw_and_collect(fig, caplog)


def test_lang_chooses_the_language():
    crm.plot.use_cjk_font()
    pyr = customer_pyramid(np.arange(1, 21, dtype=float))
    en = _texts(crm.plot.pyramid_plot(pyr, lang="en"))
    zh = _texts(crm.plot.pyramid_plot(pyr, lang="zh"))
    assert "key: 20% of customers" in en and "关键客户" not in en
    assert "关键客户: 20% of customers" in zh and "key:" not in zh
    ax = crm.plot.loyalty_matrix_plot(_matrix(), attitudinal="att", behavioural="orders", lang="zh")
    assert sorted(t.get_text().split(" (")[0] for t in ax.get_legend().get_texts()) == sorted(LOYALTY_TYPES_ZH.values())
    ax = crm.plot.segment_share_plot(_eight_classes(), lang="en")
    assert {t.get_text() for t in ax.get_yticklabels()} == {en for en, _ in EIGHT_CLASS_SEGMENTS.values()}
    for plot in (lambda: crm.plot.pyramid_plot(pyr, lang="fr"),
                 lambda: crm.plot.segment_share_plot(_eight_classes(), lang="cn")):
        with pytest.raises(ValueError, match="lang"):
            plot()


def test_names_that_are_not_course_terms_stay_as_they_are():
    f = pd.DataFrame({"monetary": [10.0, 30.0, 60.0, 0.0]})
    ax = crm.plot.segment_profile_plot(profile_segments(f, ["cluster 0", "cluster 0", "cluster 1", "cluster 1"]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cluster 0 (50%)", "cluster 1 (50%)"]


def test_no_font_warns_once_naming_the_extra(monkeypatch):
    monkeypatch.setattr(_fonts, "_state", {"family": None, "searched": False, "warned": False, "applied": set()})
    monkeypatch.setattr(_fonts, "_packaged_font", lambda: None)
    monkeypatch.setattr(_fonts, "_system_font", lambda: None)
    with pytest.warns(UserWarning, match=r"crmlab\[course\]"):
        assert crm.plot.use_cjk_font() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert crm.plot.use_cjk_font() is None


def test_bad_font_arguments(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        crm.plot.use_cjk_font(tmp_path / "nope.ttf")
    dejavu = font_manager.findfont(font_manager.FontProperties(family=["DejaVu Sans"]))
    with pytest.raises(ValueError, match="no Chinese glyphs"):
        crm.plot.use_cjk_font(dejavu)
    with pytest.raises(ValueError, match="no installed font family"):
        crm.plot.use_cjk_font("No Such Font Family")
    with pytest.raises(TypeError, match="font must be"):
        crm.plot.use_cjk_font(12)


def test_an_explicit_font_stays_chosen(cjk_family, monkeypatch):
    monkeypatch.setattr(_fonts, "_state", {"family": None, "searched": False, "warned": False, "applied": set()})
    path = font_manager.findfont(font_manager.FontProperties(family=[cjk_family]), fallback_to_default=False)
    chosen = crm.plot.use_cjk_font(path)
    assert mpl.rcParams["font.family"][-1] == chosen
    crm.plot.pyramid_plot(customer_pyramid(np.arange(1, 21, dtype=float)))  # calls use_cjk_font() again
    assert mpl.rcParams["font.family"][-1] == chosen and crm.plot.use_cjk_font() == chosen
