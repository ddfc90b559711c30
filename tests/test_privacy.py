"""Tests for crmlab.privacy: pseudonymisation, masking, k-anonymity, consent."""

from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlab as crm
from crmlab import privacy as pv

KEY = "test-key-0123456789abcdef"
OTHER_KEY = b"another-secret-key-0123456789"


def _customers(n=300, seed=1):
    rng = np.random.default_rng(seed)
    first = np.array(["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao"])
    given_ = np.array(["Wei", "Fang", "Na", "Min", "Jing", "Lei", "Jun", "Yan", "Tao", "Ming"])
    names = [f"{first[i % 8]} {given_[(i * 7) % 10]} {i}" for i in range(n)]
    return pd.DataFrame({
        "customer_id": np.arange(1, n + 1),
        "age": rng.integers(18, 80, n),
        "gender": rng.choice(["F", "M"], n),
        "region": rng.choice(["East", "North", "South", "Central", "West"], n),
        "city_tier": rng.integers(1, 5, n),
        "income_band": rng.choice(["low", "middle", "high"], n),
        "marketing_consent": rng.random(n) < 0.6,
        "name": pd.Series(names, dtype="str"),
        "email": pd.Series([f"user{i}.{first[i % 8].lower()}@mail{i % 3}.example.cn" for i in range(n)], dtype="str"),
        "phone": pd.Series([f"13{i:09d}" for i in range(n)], dtype="str"),
    })


# ----------------------------------------------------------------------------- pseudonymize
def test_pseudonymize_matches_hmac_sha256_reference():
    got = pv.pseudonymize(["alice@example.cn", 42], KEY, length=64)
    expected = [hmac.new(KEY.encode(), v.encode(), hashlib.sha256).hexdigest() for v in ("alice@example.cn", "42")]
    assert list(got) == expected


def test_pseudonymize_is_stable_and_keyed():
    ids = pd.Series([5, 7, 5, 9], index=[10, 11, 12, 13], name="customer_id")
    a = pv.pseudonymize(ids, KEY)
    b = pv.pseudonymize(ids, KEY)
    c = pv.pseudonymize(ids, OTHER_KEY)
    pd.testing.assert_series_equal(a, b)
    assert list(a.index) == [10, 11, 12, 13] and a.name == "customer_id"
    assert a.iloc[0] == a.iloc[2] and a.iloc[0] != a.iloc[1]
    assert not set(a) & set(c)  # different keys -> unlinkable tokens
    # an unkeyed hash of the id would be reversible by enumerating ids; ours is not that hash
    assert a.iloc[0] != hashlib.sha256(b"5").hexdigest()[:16]
    assert (ids == pd.Series([5, 7, 5, 9], index=[10, 11, 12, 13])).all()  # input untouched


def test_pseudonymize_resists_a_dictionary_attack_without_the_key():
    ids = list(range(1, 2001))
    tokens = set(pv.pseudonymize(ids, KEY, length=64))
    # an attacker hashes every candidate id, unkeyed and with guessed keys
    unkeyed = {hashlib.sha256(str(i).encode()).hexdigest() for i in ids}
    guessed = set(pv.pseudonymize(ids, "test-key-0123456789abcdeF", length=64))  # one character off
    assert not tokens & unkeyed
    assert not tokens & guessed


def test_pseudonymize_int_and_float_ids_agree():
    assert list(pv.pseudonymize([17], KEY)) == list(pv.pseudonymize([17.0], KEY))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=50, unique=True))
def test_pseudonymize_is_injective_on_distinct_ids(ids):
    tokens = pv.pseudonymize(ids, KEY, length=32)
    assert len(set(tokens)) == len(ids)


@pytest.mark.parametrize("key, err, match", [
    ("short", ValueError, "too short"),
    (12345, TypeError, "secret str or bytes"),
    (None, TypeError, "secret str or bytes"),
])
def test_pseudonymize_rejects_bad_keys(key, err, match):
    with pytest.raises(err, match=match):
        pv.pseudonymize([1], key)


def test_pseudonymize_rejects_bad_values():
    with pytest.raises(ValueError, match="missing"):
        pv.pseudonymize([1, None], KEY)
    with pytest.raises(TypeError, match="single string"):
        pv.pseudonymize("abc", KEY)
    with pytest.raises(ValueError, match="at most 64"):
        pv.pseudonymize([1], KEY, length=65)


def test_pseudonymize_frame_keeps_joins():
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "age": [30, 40, 50]})
    tx = pd.DataFrame({"customer_id": [3, 1, 1], "amount": [1.0, 2.0, 3.0]})
    c2 = pv.pseudonymize_frame(customers, "customer_id", KEY)
    t2 = pv.pseudonymize_frame(tx, ["customer_id"], KEY)
    joined = t2.merge(c2, on="customer_id")
    assert joined["age"].tolist() == [50, 30, 30]
    assert customers["customer_id"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="has no column 'cust'"):
        pv.pseudonymize_frame(customers, "cust", KEY)


# ----------------------------------------------------------------------------- masking
def test_mask_email_and_phone():
    emails = pd.Series(["wang.li@example.com", "a@b.cn"], index=[3, 4])
    got = pv.mask_email(emails)
    assert got.tolist() == ["w******@example.com", "*@b.cn"]
    assert list(got.index) == [3, 4]
    assert pv.mask_phone(["13812345678", "+86 138 1234 5678"]).tolist() == ["138****5678", "861******5678"]  # 13 digits: 3 shown, 6 hidden, 4 shown
    assert pv.mask_phone(["13812345678"], keep_start=0, keep_end=2).tolist() == ["*********78"]


def test_mask_errors():
    with pytest.raises(ValueError, match="not an e-mail"):
        pv.mask_email(["no-at-sign"])
    with pytest.raises(TypeError, match="must hold strings"):
        pv.mask_email([123])
    with pytest.raises(ValueError, match="nothing would be hidden"):
        pv.mask_phone(["1234567"])
    with pytest.raises(ValueError, match="not a phone number"):
        pv.mask_phone(["138-abc-5678"])


# ----------------------------------------------------------------------------- k-anonymity
def _hand_table():
    # Worked by hand: (20-29, F, East) x3, (20-29, M, East) x2, (30-39, F, West) x1
    return pd.DataFrame({
        "age": ["20-29", "20-29", "20-29", "20-29", "20-29", "30-39"],
        "gender": ["F", "F", "F", "M", "M", "F"],
        "region": ["East"] * 5 + ["West"],
        "spend": [1, 2, 3, 4, 5, 6],
    })


def test_k_anonymity_hand_worked_example():
    df = _hand_table()
    qi = ["age", "gender", "region"]
    assert pv.k_anonymity(df, qi) == 1
    assert pv.class_sizes(df, qi).tolist() == [3, 3, 3, 2, 2, 1]
    table = pv.equivalence_classes(df, qi)
    assert table["size"].tolist() == [1, 2, 3]
    assert table.iloc[0][qi].tolist() == ["30-39", "F", "West"]
    # dropping region and age leaves gender only: classes F x4, M x2
    assert pv.k_anonymity(df, ["gender"]) == 2


def test_k_anonymity_missing_values_form_a_class():
    df = pd.DataFrame({"a": ["x", None, None, "x"]})
    assert pv.class_sizes(df, "a").tolist() == [2, 2, 2, 2]


def test_k_anonymity_errors():
    with pytest.raises(ValueError, match="quasi_identifiers is empty"):
        pv.k_anonymity(_hand_table(), [])
    with pytest.raises(ValueError, match="has no column 'agee'.*Did you mean 'age'"):
        pv.k_anonymity(_hand_table(), ["agee"])
    with pytest.raises(ValueError, match="empty"):
        pv.k_anonymity(_hand_table().iloc[:0], ["age"])


def test_band_and_hierarchies():
    assert pv.band(pd.Series([18, 29, 30, 79]), 10).tolist() == ["10-19", "20-29", "30-39", "70-79"]
    assert pv.band(pd.Series([0.5, 1.2]), 1.0).tolist() == ["[0, 1)", "[1, 2)"]
    with pytest.raises(TypeError, match="numeric"):
        pv.band(pd.Series(["a"]), 10)
    with pytest.raises(ValueError, match="grow"):
        pv.numeric_hierarchy([10, 5])
    level = pv.category_hierarchy({"a": "ab", "b": "ab"})[0]
    with pytest.raises(ValueError, match="does not map"):
        level(pd.Series(["a", "c"], name="x"))


def test_generalize_applies_levels_without_touching_input():
    df = pd.DataFrame({"age": [23, 27, 35], "tier": [1, 3, 4]})
    hier = {"age": pv.numeric_hierarchy([5, 10]), "tier": pv.category_hierarchy({1: "1-2", 2: "1-2", 3: "3-4", 4: "3-4"})}
    out = pv.generalize(df, {"age": 1, "tier": 2}, hier)
    assert out["age"].tolist() == ["20-24", "25-29", "35-39"]
    assert out["tier"].tolist() == ["*", "*", "*"]
    assert df["age"].tolist() == [23, 27, 35]
    with pytest.raises(ValueError, match="only 3 level"):
        pv.generalize(df, {"age": 4}, hier)
    with pytest.raises(ValueError, match="no entry for quasi-identifier 'tier'"):
        pv.generalize(df, {"tier": 1}, {"age": hier["age"]})


def test_generalize_until_k_hand_worked():
    # ages 21/24 and 33/38 pair up at 10-year bands; gender already pairs them
    df = pd.DataFrame({"age": [21, 24, 33, 38], "gender": ["F", "F", "M", "M"]})
    res = pv.generalize_until_k(df, ["age", "gender"], 2, {"age": pv.numeric_hierarchy([5, 10]),
                                                           "gender": pv.category_hierarchy()})
    # level 1 (5-year bands) gives 20-24 x2 but 30-34 / 35-39 alone: 2 rows below k; level 2 fixes it
    assert res.levels == {"age": 2, "gender": 0}
    assert res.k == 2
    assert res.history["rows_below_k"].tolist() == [4, 2, 0]


@pytest.mark.parametrize("k", [2, 5, 10, 25])
def test_generalize_until_k_reaches_k(k):
    df = _customers(300)
    qi = ["age", "gender", "region", "city_tier"]
    res = pv.generalize_until_k(df, qi, k)
    assert pv.k_anonymity(res.data, qi) >= k  # checked independently of res.k
    assert res.k == pv.k_anonymity(res.data, qi)
    assert len(res.data) == len(df) and res.data.index.equals(df.index)
    assert res.data["customer_id"].equals(df["customer_id"])  # other columns untouched
    assert pv.k_anonymity(df, qi) < k  # there was work to do


def test_generalize_until_k_errors():
    df = _customers(10)
    with pytest.raises(ValueError, match="fewer than k=20"):
        pv.generalize_until_k(df, ["age"], 20)
    with pytest.raises(ValueError, match="at least 2"):
        pv.generalize_until_k(df, ["age"], 1)
    with pytest.raises(TypeError, match="must be a dict"):
        pv.generalize_until_k(df, ["age"], 2, hierarchies=[1])


# ----------------------------------------------------------------------------- consent and pipeline
def test_marketing_list_honours_consent_and_minimises():
    customers = _customers(200)
    out = pv.marketing_list(customers, exclude=[1, 2, 3])
    consenting = customers.loc[customers["marketing_consent"] & ~customers["customer_id"].isin([1, 2, 3])]
    assert list(out.columns) == ["customer_id", "email"]
    assert out["customer_id"].tolist() == consenting["customer_id"].tolist()
    assert set(out["customer_id"]).isdisjoint(customers.loc[~customers["marketing_consent"], "customer_id"])
    keyed = pv.marketing_list(customers, key=KEY)
    assert keyed["customer_id"].tolist() == list(
        pv.pseudonymize(customers.loc[customers["marketing_consent"], "customer_id"], KEY))


def test_marketing_list_errors():
    customers = _customers(20)
    bad = customers.assign(marketing_consent=customers["marketing_consent"].astype(object).where(
        customers.index > 0, None))
    with pytest.raises(TypeError, match="fillna\\(False\\)"):
        pv.marketing_list(bad)
    with pytest.raises(ValueError, match="no column 'consent'"):
        pv.marketing_list(customers, consent_col="consent")


def test_privacy_pipeline_leaves_no_raw_pii():
    customers = _customers(400)
    res = pv.privacy_pipeline(customers, KEY, k=5)
    out = res.data
    assert pv.k_anonymity(out, ["age", "gender", "region", "city_tier"]) >= 5
    assert len(out) == len(customers)
    cells = [str(v) for v in out.to_numpy().ravel()] + [str(c) for c in out.columns]
    blob = "\n".join(cells)
    for col in ("name", "email", "phone"):
        for raw in customers[col]:
            assert raw not in blob, f"raw {col} {raw!r} leaked"
    # raw customer ids are gone from the id column; the token joins back with the key
    assert not set(out["customer_id"]) & set(customers["customer_id"].astype(str))
    assert out["customer_id"].tolist() == list(pv.pseudonymize(customers["customer_id"], KEY))
    assert {"name", "email", "phone"}.isdisjoint(out.columns)


def test_privacy_pipeline_errors():
    with pytest.raises(ValueError, match="has no column 'name'"):
        pv.privacy_pipeline(_customers(10).drop(columns="name"), KEY)
    with pytest.raises(ValueError, match="too short"):
        pv.privacy_pipeline(_customers(10), "k", k=2)


def test_generalize_until_k_suppression_hand_worked():
    # 10-year bands: 20-29 x4, 70-79 x1, 80-89 x1 -> two outliers below k=2.
    df = pd.DataFrame({"age": [21, 22, 23, 24, 70, 85], "x": range(6)})
    hier = {"age": pv.numeric_hierarchy([10])}
    strict = pv.generalize_until_k(df, ["age"], 2, hier)
    assert strict.levels == {"age": 2} and strict.n_suppressed == 0 and strict.k == 6
    res = pv.generalize_until_k(df, ["age"], 2, hier, max_suppression=2 / 6)
    assert res.levels == {"age": 1} and res.n_suppressed == 2
    assert res.data["age"].tolist() == ["20-29"] * 4 + ["*", "*"]
    assert res.data["x"].tolist() == list(range(6)) and res.k == 2
    # one outlier alone cannot be suppressed into a class of size >= k: generalise instead
    one = pv.generalize_until_k(df.iloc[:5], ["age"], 2, hier, max_suppression=0.2)
    assert one.levels == {"age": 2} and one.n_suppressed == 0
    with pytest.raises(ValueError, match="max_suppression must lie in"):
        pv.generalize_until_k(df, ["age"], 2, hier, max_suppression=1.5)


# ----------------------------------------------------------------------------- l-diversity
def _brute_force_diversity(df, qi, sensitive):
    """Independent l-diversity: plain Python dictionaries, no pandas group-by."""
    classes: dict = {}
    for row in df[[*qi, sensitive]].itertuples(index=False):
        classes.setdefault(tuple(row[:-1]), []).append(row[-1])
    distinct = {c: len(set(v)) for c, v in classes.items()}
    entropy = {}
    for c, v in classes.items():
        counts = [v.count(s) for s in set(v)]
        entropy[c] = math.exp(-sum(n / len(v) * math.log(n / len(v)) for n in counts))
    return distinct, entropy


def test_l_diversity_hand_worked():
    # class A: complaint, complaint, none -> 2 distinct, entropy l = exp(H(2/3, 1/3)) = 1.8899
    # class B: none, none -> 1 distinct (homogeneous: its members' value is disclosed)
    df = pd.DataFrame({"band": ["A", "A", "A", "B", "B"],
                       "s": ["complaint", "complaint", "none", "none", "none"]})
    assert pv.l_diversity(df, "band", "s") == 1
    assert pv.l_diversity(df[df["band"] == "A"], "band", "s") == 2
    h = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert pv.l_diversity(df[df["band"] == "A"], "band", "s", kind="entropy") == pytest.approx(math.exp(h))
    table = pv.diversity_classes(df, "band", "s")
    assert table["band"].tolist() == ["B", "A"]                      # the least diverse class first
    assert table["size"].tolist() == [2, 3]
    assert table["top_share"].tolist() == pytest.approx([1.0, 2 / 3])
    assert table["top_value"].tolist() == ["none", "complaint"]


def test_l_diversity_matches_brute_force_on_retail():
    customers = crm.load_retail().customers
    complained = set(crm.load_retail().interactions.query("type == 'complaint'")["customer_id"])
    df = customers.assign(complained=customers["customer_id"].isin(complained))
    qi = ["gender", "region", "city_tier"]
    for sensitive in ("income_band", "complained"):
        distinct, entropy = _brute_force_diversity(df, qi, sensitive)
        assert pv.l_diversity(df, qi, sensitive) == min(distinct.values())
        assert pv.l_diversity(df, qi, sensitive, kind="entropy") == pytest.approx(min(entropy.values()))
        table = pv.diversity_classes(df, qi, sensitive).set_index(qi)
        assert len(table) == len(distinct)
        for c, d in distinct.items():
            assert table.loc[c, "distinct"] == d
            assert table.loc[c, "entropy_l"] == pytest.approx(entropy[c])


def test_l_diversity_is_at_most_k_and_does_not_modify_input():
    df = pd.DataFrame({"g": ["F", "F", "M", "M", "M"], "s": [1, 2, 1, 1, 3]})
    before = df.copy()
    assert pv.l_diversity(df, "g", "s") <= pv.k_anonymity(df, "g")
    pd.testing.assert_frame_equal(df, before)


def test_l_diversity_errors():
    df = pd.DataFrame({"g": ["F", "M"], "s": [1, 2]})
    with pytest.raises(ValueError, match="'nope'"):
        pv.l_diversity(df, "g", "nope")
    with pytest.raises(ValueError, match="both a quasi-identifier"):
        pv.l_diversity(df, ["g", "s"], "s")
    with pytest.raises(TypeError, match="one column name"):
        pv.l_diversity(df, "g", ["s"])
    with pytest.raises(ValueError, match="'distinct' or 'entropy'"):
        pv.l_diversity(df, "g", "s", kind="recursive")
    with pytest.raises(ValueError, match="empty"):
        pv.l_diversity(df.iloc[:0], "g", "s")
