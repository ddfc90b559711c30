"""Figure labels for the course's bilingual terms: ``重要价值客户 important value``.

The terms come from their homes (:data:`crmlab.segmentation.EIGHT_CLASS_SEGMENTS`, the
RFM grid and pyramid tiers of :mod:`crmlab.segmentation`,
:data:`crmlab.loyalty.LOYALTY_TYPES_ZH`); names that are not course terms (cluster
labels, your own segment names) are shown as they are.
"""

from __future__ import annotations

from functools import lru_cache

from crmlab.validation import check_choice

LANGS = ("both", "zh", "en")


@lru_cache(maxsize=1)
def _zh_by_en() -> dict[str, str]:
    from crmlab import loyalty, segmentation

    return {**dict(segmentation.EIGHT_CLASS_SEGMENTS.values()), **segmentation._GRID_ZH,
            **segmentation._TIER_ZH, **loyalty.LOYALTY_TYPES_ZH}


@lru_cache(maxsize=1)
def _en_by_zh() -> dict[str, str]:
    return {zh: en for en, zh in _zh_by_en().items()}


def term_label(name, lang: str = "both") -> str:
    """The label of a course term in Chinese, English or both (``"zh en"``).

    ``name`` may be the English or the Chinese name; anything else is returned as a string.

    >>> term_label("important value"), term_label("关键客户", lang="en"), term_label("cluster 3")
    ('重要价值客户 important value', 'key', 'cluster 3')
    """
    check_choice(lang, LANGS, name="lang")
    text = str(name)
    zh_by_en, en_by_zh = _zh_by_en(), _en_by_zh()
    if text in zh_by_en:
        en, zh = text, zh_by_en[text]
    elif text in en_by_zh:
        en, zh = en_by_zh[text], text
    else:
        return text
    return {"both": f"{zh} {en}", "zh": zh, "en": en}[lang]
