"""The scikit-learn estimator contract of the CLV models and the recommenders.

None of these estimators fits a numeric ``(X, y)`` matrix (the CLV models fit a customer
summary, sBG a cohort's counts, the recommenders purchase lines), so
``parametrize_with_checks`` does not apply to them. They get scikit-learn's own checks
that need no fit (clone, repr, get/set_params, nothing set in ``__init__``) and, on their
own data, what the fitting checks test: ``fit`` returns self, leaves the parameters
alone, is idempotent, survives pickling, and methods raise ``NotFittedError`` before fit.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks as ec

import crmlab as crm
from crmlab import clv
from crmlab import recommend as R

# --- data, fitting and one fitted method per estimator ------------------------------------


def _donations():
    return crm.load_donations()


def _lines():
    rng = np.random.default_rng(3)
    n = 400
    return pd.DataFrame({"customer_id": rng.integers(0, 60, n), "product_id": rng.integers(0, 25, n)})


def _segments():
    return pd.DataFrame({"customer_id": np.arange(60), "segment": np.where(np.arange(60) % 3 == 0, "a", "b")})


CASES = {
    # name: (estimator with a non-default parameter, fit(est), use(est) -> something computed)
    "BetaGeoModel": (clv.BetaGeoModel(penalizer=0.001),
                     lambda m: m.fit(crm.load_cdnow("summary")),
                     lambda m: m.predict_purchases(crm.load_cdnow("summary"), 10)),
    "ParetoNBDModel": (clv.ParetoNBDModel(penalizer=0.001),
                       lambda m: m.fit(crm.load_cdnow("summary").iloc[:600]),
                       lambda m: m.probability_alive(crm.load_cdnow("summary").iloc[:600])),
    "ModifiedBetaGeoModel": (clv.ModifiedBetaGeoModel(penalizer=0.001),
                             lambda m: m.fit(crm.load_cdnow("summary")),
                             lambda m: m.expected_purchases_new(39.0)),
    "GammaGammaModel": (clv.GammaGammaModel(penalizer=0.001),
                        lambda m: m.fit(_repeat()),
                        lambda m: m.conditional_expected_spend(_repeat())),
    "BetaGeoBetaBinomModel": (clv.BetaGeoBetaBinomModel(penalizer=0.001),
                              lambda m: m.fit(_donations(), weights="weights"),
                              lambda m: m.predict_purchases(_donations(), 5)),
    "ShiftedBetaGeometricModel": (clv.ShiftedBetaGeometricModel(penalizer=0.001),
                                  lambda m: m.fit([1000, 631, 468, 382, 326, 289, 262, 241]),
                                  lambda m: m.survival([1, 2, 3])),
    "HistoricalRateBaseline": (clv.HistoricalRateBaseline(),
                               lambda m: m.fit(crm.load_cdnow("summary")),
                               lambda m: m.predict_purchases(crm.load_cdnow("summary"), 10)),
    "PopularityRecommender": (R.PopularityRecommender(item_col="product_id"),
                              lambda m: m.fit(_lines()),
                              lambda m: m.recommend([1, 2], k=3)),
    "SegmentPopularityRecommender": (R.SegmentPopularityRecommender(segment_col="segment"),
                                     lambda m: m.fit(_lines(), segments=_segments()),
                                     lambda m: m.recommend([1, 2], k=3)),
    "ItemKNNRecommender": (R.ItemKNNRecommender(n_neighbors=5),
                           lambda m: m.fit(_lines()),
                           lambda m: m.recommend([1, 2], k=3)),
}


def _repeat():
    s = crm.load_cdnow("summary_monetary")
    return s[s["frequency"] > 0]


def _equal(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    else:
        np.testing.assert_array_equal(a, b)


NAMES = sorted(CASES)

# scikit-learn's checks that do not call fit with a numeric matrix
NO_FIT_CHECKS = [
    ec.check_estimator_cloneable,
    ec.check_estimator_repr,
    ec.check_no_attributes_set_in_init,
    ec.check_parameters_default_constructible,
    ec.check_get_params_invariance,
    ec.check_set_params,
    ec.check_do_not_raise_errors_in_init_or_set_params,
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("check", NO_FIT_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_checks_without_fit(name, check):
    est = CASES[name][0]
    assert isinstance(est, BaseEstimator)
    check(name, clone(est))


@pytest.mark.parametrize("name", NAMES)
def test_clone_get_set_params(name):
    est, fit, use = CASES[name]
    params = est.get_params()
    copy = clone(est)
    assert copy is not est and copy.get_params() == params
    for key, value in params.items():
        assert copy.set_params(**{key: value}) is copy
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(no_such_parameter=1)
    # a fitted estimator clones to an unfitted one with the same parameters
    fitted = fit(clone(est))
    again = clone(fitted)
    assert again.get_params() == params
    assert not [a for a in vars(again) if a.endswith("_") and not a.startswith("_")]


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_raises_sklearn_not_fitted_error(name):
    est, _, use = CASES[name]
    with pytest.raises(NotFittedError, match="not fitted"):
        use(clone(est))


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_keeps_params_is_idempotent_and_pickles(name):
    est, fit, use = CASES[name]
    est = clone(est)
    before = est.get_params()
    assert fit(est) is est
    assert est.get_params() == before  # fit never rewrites a parameter
    first = use(est)
    fit(est)
    _equal(use(est), first)
    _equal(use(pickle.loads(pickle.dumps(est))), first)


@pytest.mark.parametrize("name", NAMES)
def test_repr_informative_text_only(name):
    est, fit, _ = CASES[name]
    fitted = fit(clone(est))
    assert repr(fitted) != repr(clone(est))   # the fitted repr says what was learnt
    bundle = fitted._repr_mimebundle_()
    assert bundle == {"text/plain": repr(fitted)}
    assert not hasattr(fitted, "_repr_html_")  # no parameter diagram hiding the estimates


def test_from_params_is_fitted_and_clones_to_unfitted():
    m = clv.BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    assert m.time_unit_ == "W"
    assert float(m.expected_purchases_new(39.0)) == pytest.approx(1.197, abs=1e-3)  # Fader, Hardie & Lee (2005)
    c = clone(m)
    with pytest.raises(NotFittedError):
        c.expected_purchases_new(39.0)


def test_summary_model_in_a_pipeline():
    """A Pipeline from the raw log to BG/NBD: the summary step, then the model."""
    tx = crm.load_cdnow()
    tx = tx[tx["date"] <= "1997-09-30"]
    step = FunctionTransformer(crm.features.customer_summary,
                               kw_args={"observation_end": "1997-09-30", "time_unit": "W"})
    pipe = Pipeline([("summary", step), ("bg", clv.BetaGeoModel())]).fit(tx)
    direct = clv.BetaGeoModel().fit(crm.features.customer_summary(tx, observation_end="1997-09-30", time_unit="W"))
    pd.testing.assert_series_equal(pipe["bg"].params_, direct.params_)
    assert pipe["bg"].time_unit_ == "W"
    np.testing.assert_allclose(pipe["bg"].params_.round(3), [0.243, 4.414, 0.793, 2.426])  # published
    cloned = clone(pipe)
    assert not hasattr(cloned["bg"], "params_")
    cloned.set_params(bg__penalizer=0.01)
    assert cloned["bg"].penalizer == 0.01


def test_recommender_in_a_pipeline():
    lines = _lines()
    keep_recent = FunctionTransformer(lambda df: df[df["customer_id"] < 50])
    pipe = make_pipeline(keep_recent, R.ItemKNNRecommender(n_neighbors=5)).fit(lines)
    direct = R.ItemKNNRecommender(n_neighbors=5).fit(lines[lines["customer_id"] < 50])
    pd.testing.assert_frame_equal(pipe[-1].recommend([1, 2], k=3), direct.recommend([1, 2], k=3))
    pipe.set_params(itemknnrecommender__n_neighbors=2)
    assert pipe[-1].n_neighbors == 2
