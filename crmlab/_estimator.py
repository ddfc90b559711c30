"""Private helpers shared by crmlab's scikit-learn estimators (CLV models, recommenders)."""

from __future__ import annotations

from sklearn.base import BaseEstimator

__all__: list[str] = []


class TextReprEstimator(BaseEstimator):
    """A ``BaseEstimator`` shown in notebooks by its own informative ``repr``.

    scikit-learn renders estimators as an HTML diagram of their parameters; crmlab's
    models say more in text (estimates, customers, log-likelihood), so the diagram is
    switched off for them.
    """

    @property
    def _repr_html_(self):  # noqa: D401 - IPython looks the method up; absent means "use text"
        raise AttributeError("crmlab estimators display as text")

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return {"text/plain": repr(self)}
