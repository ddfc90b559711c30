"""Personalised recommendation (个性化推荐) and market-basket analysis.

Three tools, from the simplest to the most personal:

- :func:`association_rules` finds "customers who buy A also buy B" rules in
  shopping baskets (购物篮分析) and scores them by support, confidence, lift,
  leverage and conviction. It is a short, readable Apriori (frequent itemsets of a
  few items), checked in the test suite against mlxtend.
- :class:`PopularityRecommender` (everyone gets the best sellers) and
  :class:`SegmentPopularityRecommender` (best sellers of the customer's segment: 定制化
  by segment) are the baselines.
- :class:`ItemKNNRecommender` recommends the items most similar (cosine similarity of
  who bought them) to what a customer already bought: item-to-item collaborative
  filtering (Linden, Smith & York 2003).

Recommenders are scikit-learn estimators (``clone``, ``get_params``/``set_params``).
They are judged on a time-based holdout (:func:`split_by_time`): fit on the purchases up
to a cutoff day, recommend, and count how often a customer's later purchases
are in the list (:func:`hit_rate_at_k`), what share of each list is bought
(:func:`precision_at_k`), what share of what they bought the list foresaw
(:func:`recall_at_k`), whether the hits sit at the top of the list (:func:`ndcg_at_k`), and how
much of the catalogue the lists use (:func:`catalogue_coverage`).
:func:`evaluate_recommenders` does all of it in one call.

Examples
--------
>>> import pandas as pd
>>> import crmlab as crm
>>> lines = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3, 4],
...                       "product_id": [10, 11, 10, 11, 10, 12, 11]})
>>> model = crm.recommend.ItemKNNRecommender().fit(lines)
>>> model.recommend([3], k=1)["product_id"].tolist()
[11]
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable
from itertools import combinations
from math import comb

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import sparse
from sklearn.base import clone
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.utils.validation import check_is_fitted

from crmlab import time as crm_time
from crmlab._estimator import TextReprEstimator
from crmlab.data import columns as C
from crmlab.time import DateLike
from crmlab.validation import (
    check_fraction,
    check_frame,
    check_positive_int,
    require_columns,
)

__all__ = [
    "purchase_lines",
    "baskets",
    "association_rules",
    "split_by_time",
    "PopularityRecommender",
    "SegmentPopularityRecommender",
    "ItemKNNRecommender",
    "hit_rate_at_k",
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "catalogue_coverage",
    "evaluate_recommenders",
    "segment_affinity",
]


# --------------------------------------------------------------------------- data
def purchase_lines(transactions: pd.DataFrame, order_lines: pd.DataFrame,
                   products: pd.DataFrame | None = None, *, customer_col: str = C.CUSTOMER,
                   date_col: str = C.DATE, transaction_col: str = C.TRANSACTION, product_col: str = C.PRODUCT,
                   channel_col: str = C.CHANNEL) -> pd.DataFrame:
    """Join order lines to their order (customer, date, channel) and product (category).

    The simulated company keeps who bought and when in ``transactions`` and what was
    bought in ``order_lines``; recommenders need both on one row.

    Parameters
    ----------
    transactions : DataFrame with ``transaction_col``, ``customer_col``, ``date_col``
        (and ``channel_col`` when present, carried along).
    order_lines : DataFrame with ``transaction_col`` and ``product_col``.
    products : optional DataFrame with ``product_col`` and any product attributes (such as
        ``category``) to add.
    customer_col, date_col, transaction_col, product_col, channel_col : str
        Column names (defaults: :mod:`crmlab.data.columns`).

    Returns
    -------
    DataFrame, one row per order line, sorted by date, transaction and product.

    Examples
    --------
    >>> import crmlab as crm
    >>> data = crm.load_retail()
    >>> lines = crm.recommend.purchase_lines(data.transactions, data.order_lines, data.products)
    >>> {"customer_id", "date", "product_id", "category"} <= set(lines.columns)
    True
    """
    tx = check_frame(transactions, required=[transaction_col, customer_col], dates=[date_col],
                     not_missing=[transaction_col, customer_col, date_col], unique=transaction_col,
                     name="transactions")
    ol = check_frame(order_lines, required=[transaction_col, product_col],
                     not_missing=[transaction_col, product_col], name="order_lines")
    keep = [c for c in [transaction_col, customer_col, date_col, channel_col] if c in tx.columns]
    out = ol.merge(tx[keep], on=transaction_col, how="left", validate="many_to_one")
    orphan = out[customer_col].isna()
    if orphan.any():
        raise ValueError(
            f"order_lines has {int(orphan.sum())} line(s) whose {transaction_col} is not in transactions "
            f"(e.g. {out.loc[orphan, transaction_col].tolist()[0]!r}). Pass the transactions table that "
            f"belongs to these order lines."
        )
    if products is not None:
        pr = check_frame(products, required=[product_col], unique=product_col, name="products")
        extra = [c for c in pr.columns if c == product_col or c not in out.columns]
        out = out.merge(pr[extra], on=product_col, how="left", validate="many_to_one")
    sort = [c for c in [date_col, transaction_col, "line_no", product_col] if c in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True)


def baskets(order_lines: pd.DataFrame, *, item_col: str = C.PRODUCT,
            basket_col: str = C.TRANSACTION) -> pd.DataFrame:
    """One-hot basket table: one row per basket, one boolean column per item.

    This is the input format of mlxtend's ``apriori`` (and of any spreadsheet
    market-basket analysis). Fine for a catalogue of hundreds of items; for large
    catalogues :func:`association_rules` works on a sparse matrix instead.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"transaction_id": [1, 1, 2], "product_id": ["tea", "cup", "tea"]})
    >>> b = baskets(lines)
    >>> b.columns.tolist(), b.to_numpy().tolist()
    (['cup', 'tea'], [[True, True], [False, True]])
    """
    codes_b, codes_i, basket_ids, items = _encode(order_lines, basket_col, item_col)
    dense = _incidence(codes_b, codes_i, len(basket_ids), len(items)).toarray().astype(bool)
    return pd.DataFrame(dense, index=pd.Index(basket_ids, name=basket_col),
                        columns=pd.Index(items, name=item_col))


def _encode(lines: pd.DataFrame, row_col: str, item_col: str, name: str = "order_lines"):
    df = check_frame(lines, required=[row_col, item_col], not_missing=[row_col, item_col], name=name)
    row_codes, row_ids = pd.factorize(df[row_col], sort=True)
    item_codes, items = pd.factorize(df[item_col], sort=True)
    return row_codes, item_codes, np.asarray(row_ids), np.asarray(items)


def _scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def _incidence(rows, cols, n_rows, n_cols) -> sparse.csr_matrix:
    """Binary sparse matrix with a 1 where (row, col) occurs at least once."""
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_cols))
    m.data[:] = 1.0  # duplicates were summed; we only care whether the pair occurs
    return m


# --------------------------------------------------------------------------- rules
_MAX_CANDIDATES = 2_000_000  # itemsets of one size examined at most (memory and time stay bounded)


def association_rules(order_lines: pd.DataFrame, *, min_support: float, min_confidence: float,
                      min_lift: float = 1.0, item_col: str = C.PRODUCT,
                      basket_col: str = C.TRANSACTION, max_len: int = 2) -> pd.DataFrame:
    r"""Association rules A → C from shopping baskets (购物篮分析, 关联规则).

    Frequent itemsets are found level by level (Apriori: an itemset can only be
    frequent if all its subsets are), up to ``max_len`` items (2 gives "A → B" rules,
    3 adds "A, B → C"; enough for teaching and for most retail catalogues). For each
    frequent itemset every split into antecedent A and consequent C is a rule, with

    .. math::

        \text{support}(A\to C) = P(A \cup C),\quad
        \text{confidence} = \frac{P(A\cup C)}{P(A)},\quad
        \text{lift} = \frac{\text{confidence}}{P(C)},

        \text{leverage} = P(A\cup C) - P(A)P(C),\quad
        \text{conviction} = \frac{1 - P(C)}{1 - \text{confidence}},

    where :math:`P(X)` is the share of baskets containing every item of X.

    Parameters
    ----------
    order_lines : DataFrame with one row per item in a basket (duplicates are fine).
    min_support : keep itemsets in at least this share of baskets, in (0, 1).
    min_confidence : keep rules with at least this confidence, in [0, 1].
    min_lift : keep rules with at least this lift (1 = no better than chance).
    item_col : what an item is: ``"product_id"``, or ``"category"`` after
        :func:`purchase_lines` with products.
    basket_col : the basket key (an order; use ``"customer_id"`` for "customers who
        bought A also bought B" over their whole history).
    max_len : largest itemset size, 2 or more.

    Returns
    -------
    DataFrame with ``antecedents`` and ``consequents`` (tuples of items),
    ``antecedent_support``, ``consequent_support``, ``support``, ``confidence``,
    ``lift``, ``leverage``, ``conviction``, ``n_baskets`` (baskets with A and C), sorted
    by lift then confidence. Conviction is ``inf`` when confidence is 1.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"transaction_id": [1, 1, 2, 2, 3, 4],
    ...                       "product_id": ["tea", "cup", "tea", "cup", "tea", "pen"]})
    >>> rules = association_rules(lines, min_support=0.4, min_confidence=0.6)
    >>> rules[["antecedents", "consequents", "confidence", "lift"]]
      antecedents consequents  confidence      lift
    0      (cup,)      (tea,)    1.000000  1.333333
    1      (tea,)      (cup,)    0.666667  1.333333
    """
    min_support = check_fraction(min_support, name="min_support")
    min_confidence = check_fraction(min_confidence, name="min_confidence", inclusive=True)
    if isinstance(min_lift, bool) or not isinstance(min_lift, (int, float)) or min_lift < 0:
        raise ValueError(f"min_lift must be a non-negative number (1 = chance level), got {min_lift!r}.")
    max_len = check_positive_int(max_len, name="max_len", minimum=2)
    rows, cols, _, items = _encode(order_lines, basket_col, item_col)
    X = _incidence(rows, cols, rows.max() + 1, len(items)).tocsc()
    n = X.shape[0]

    # level 1, then candidates of size k from frequent itemsets of size k-1 (Apriori)
    counts = np.asarray(X.sum(axis=0)).ravel()
    frequent: dict[tuple[int, ...], int] = {(i,): int(c) for i, c in enumerate(counts) if c / n >= min_support}
    singles = np.array(sorted(i for (i,) in frequent), dtype=np.int64)
    # pairs: co-occurrence counts of the frequent items in one sparse product
    Xf = X[:, singles]
    co = (Xf.T @ Xf).tocoo()
    level: list[tuple[int, ...]] = []
    for a, b, c in zip(co.row, co.col, co.data):
        if a < b and c / n >= min_support:
            pair = (int(singles[a]), int(singles[b]))
            frequent[pair] = int(c)
            level.append(pair)
    level.sort()
    columns = {}
    for size in range(3, max_len + 1):
        if not level:
            break
        prev = set(level)
        members = sorted({i for s in level for i in s})
        for i in members:  # dense columns only for items still in play
            if i not in columns:
                columns[i] = X[:, i].toarray().ravel().astype(bool)
        if comb(len(members), size) > _MAX_CANDIDATES:
            raise ValueError(
                f"association_rules would examine {comb(len(members), size):,} candidate itemsets of {size} "
                f"items (more than {_MAX_CANDIDATES:,}); raise min_support (now {min_support}) or lower "
                f"max_len (now {max_len})."
            )
        candidates = [c for c in combinations(members, size)
                      if all(sub in prev for sub in combinations(c, size - 1))]
        level = []
        for cand in candidates:
            count = int(np.logical_and.reduce([columns[i] for i in cand]).sum())
            if count / n >= min_support:
                frequent[cand] = count
                level.append(cand)

    records: list[tuple] = []
    for itemset, count in frequent.items():
        if len(itemset) < 2:
            continue
        for r in range(1, len(itemset)):
            for ante in combinations(itemset, r):
                cons = tuple(i for i in itemset if i not in ante)
                s_a, s_c, s = frequent[ante] / n, frequent[cons] / n, count / n
                conf = count / frequent[ante]  # from counts: exact at thresholds such as 0.4
                records.append((tuple(items[list(ante)].tolist()), tuple(items[list(cons)].tolist()), s_a, s_c, s,
                                conf, conf / s_c, s - s_a * s_c,
                                np.inf if conf >= 1 else (1 - s_c) / (1 - conf), count))
    cols_out = ["antecedents", "consequents", "antecedent_support", "consequent_support", "support",
                "confidence", "lift", "leverage", "conviction", "n_baskets"]
    rules = pd.DataFrame.from_records(records, columns=cols_out).astype(
        {c: "float64" for c in cols_out[2:-1]} | {"n_baskets": "int64"})
    rules = rules[(rules["confidence"] >= min_confidence) & (rules["lift"] >= min_lift)]
    order = rules.assign(_a=rules["antecedents"].map(str), _c=rules["consequents"].map(str))
    order = order.sort_values(["lift", "confidence", "support", "_a", "_c"],
                              ascending=[False, False, False, True, True], kind="stable")
    return order.drop(columns=["_a", "_c"]).reset_index(drop=True)


# --------------------------------------------------------------------------- holdout
def split_by_time(lines: pd.DataFrame, cutoff: DateLike, *, date_col: str = C.DATE
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split purchase lines into ``(train, test)``: up to the day of ``cutoff``, and after it.

    The cutoff day belongs to the training side, its whole day (a purchase at 15:30 on
    that day is training data), as every ``cutoff`` in crmlab (:mod:`crmlab.time`).
    A recommender must be judged on purchases it could not have seen, exactly as it
    would be used: trained on the past, scored on the future.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"date": pd.to_datetime(["2024-01-05 09:00", "2024-02-01 15:30", "2024-03-01 10:00"]),
    ...                       "product_id": [1, 2, 3]})
    >>> train, test = split_by_time(lines, "2024-02-01")
    >>> len(train), len(test)
    (2, 1)
    """
    df = check_frame(lines, dates=[date_col], not_missing=[date_col], name="lines")
    later = crm_time.after(df[date_col], cutoff, name="cutoff")
    day = crm_time.day(cutoff, name="cutoff")
    if later.all() or not later.any():
        raise ValueError(
            f"cutoff={day.date()} leaves one side empty: {date_col!r} runs from "
            f"{df[date_col].min().date()} to {df[date_col].max().date()}. Pick a day inside that range "
            f"(the cutoff day itself is training data)."
        )
    return df[~later].reset_index(drop=True), df[later].reset_index(drop=True)


# --------------------------------------------------------------------------- recommenders
class _BaseRecommender(TextReprEstimator):
    """Shared fit/recommend plumbing: customer × item purchase matrix and top-k lists.

    A scikit-learn estimator: ``__init__`` only stores parameters, ``fit`` learns the
    attributes ending in ``_``.
    """

    def _fit_matrix(self, lines: pd.DataFrame):
        customer_col, item_col = self.customer_col, self.item_col
        rows, cols, customers, items = _encode(lines, customer_col, item_col, name="lines")
        self.customers_ = customers
        self.items_ = items
        self.user_items_ = _incidence(rows, cols, len(customers), len(items))
        # popularity = number of distinct customers who bought the item
        self.popularity_ = pd.Series(np.asarray(self.user_items_.sum(axis=0)).ravel(),
                                     index=pd.Index(items, name=item_col), name="customers")
        return rows, cols

    def _scores(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def recommend(self, customer_ids: ArrayLike, k: int = 10, *, exclude_purchased: bool = True) -> pd.DataFrame:
        """Top-``k`` items for each customer.

        Parameters
        ----------
        customer_ids : customers to recommend for; customers unseen in ``fit`` get the
            most popular items (cold start).
        k : length of each list.
        exclude_purchased : leave out items the customer already bought (in ``fit``).

        Returns
        -------
        DataFrame with ``customer_id``, ``rank`` (1 = best), the item column,
        ``score`` and ``source`` (the model, or ``"popular"`` where the list was filled
        with best sellers because the model had fewer than ``k`` items to offer).
        """
        check_is_fitted(self, "user_items_")
        k = check_positive_int(k, name="k")
        given = pd.Series(customer_ids) if not isinstance(customer_ids, pd.Series) else customer_ids
        if given.isna().any():
            raise ValueError("customer_ids has missing values; drop them first.")
        ids = given.drop_duplicates().to_numpy()
        # score in chunks so that a large catalogue never needs a huge dense matrix
        size = max(1, 2_000_000 // max(len(self.items_), 1))
        parts = [self._recommend_chunk(ids[i:i + size], k, exclude_purchased)
                 for i in range(0, len(ids), size)] or [self._recommend_chunk(ids, k, exclude_purchased)]
        return pd.concat(parts, ignore_index=True)

    def _recommend_chunk(self, ids: np.ndarray, k: int, exclude_purchased: bool) -> pd.DataFrame:
        pos = pd.Index(self.customers_).get_indexer(ids)
        known = pos >= 0
        n_items = len(self.items_)
        scores = np.zeros((len(ids), n_items))
        if known.any():
            scores[known] = self._scores(pos[known])
        bought = np.zeros((len(ids), n_items), dtype=bool)
        if exclude_purchased and known.any():
            bought[known] = self.user_items_[pos[known]].toarray() > 0
        pop = self.popularity_.to_numpy(dtype=float)
        # rank by model score, break ties (and fill) by popularity, then by item order
        pop_rank = np.argsort(np.argsort(-pop, kind="stable"), kind="stable")
        s = np.where(bought, -np.inf, scores)
        order = np.lexsort((np.broadcast_to(pop_rank, s.shape), -s), axis=-1)
        n_keep = np.minimum(k, n_items - bought.sum(axis=1))  # bought items sort last
        take = np.arange(n_items)[None, :] < n_keep[:, None]
        row = np.broadcast_to(np.arange(len(ids))[:, None], order.shape)[take]
        col = order[take]
        best = s[row, col]
        res = pd.DataFrame({
            self.customer_col: ids[row],
            "rank": np.broadcast_to(np.arange(1, n_items + 1), order.shape)[take],
            self.item_col: self.items_[col],
            "score": best,
            "source": pd.Series(np.where(best > 0, self._source, "popular"), dtype="str"),
        })
        return res

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        # parameters in the order of the signature (get_params sorts them alphabetically)
        names = [n for n in inspect.signature(type(self).__init__).parameters if n != "self"]
        params = ", ".join(f"{n}={getattr(self, n)!r}" for n in names)
        fitted = (f"; fitted on {len(self.customers_)} customers x {len(self.items_)} items"
                  if getattr(self, "user_items_", None) is not None else "")
        return f"{type(self).__name__}({params}){fitted}"


class PopularityRecommender(_BaseRecommender):
    """Recommend the best sellers (most distinct buyers) to everyone: the baseline.

    Parameters
    ----------
    customer_col, item_col : column names in the purchase lines.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_id": [1, 2, 2, 3], "product_id": [10, 10, 11, 12]})
    >>> PopularityRecommender().fit(lines).recommend([3], k=2)["product_id"].tolist()
    [10, 11]
    """

    _source = "popular"

    def __init__(self, *, customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT):
        self.customer_col = customer_col
        self.item_col = item_col

    def fit(self, lines: pd.DataFrame, y: object = None) -> PopularityRecommender:
        """Count distinct buyers per item in ``lines`` (one row per purchase line; ``y`` is ignored)."""
        self._fit_matrix(lines)
        return self

    def _scores(self, rows):
        return np.tile(self.popularity_.to_numpy(dtype=float), (len(rows), 1))


class SegmentPopularityRecommender(_BaseRecommender):
    """Recommend the best sellers of each customer's segment (定制化: one list per segment).

    Personalisation at the level most companies start with: a segment (from RFM,
    clustering or a persona) gets its own best-seller list. Customers without a
    segment, or unseen in ``fit``, get the overall best sellers.

    Parameters
    ----------
    customer_col, item_col : column names in the purchase lines.
    segment_col : column of ``segments`` holding the segment label.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_id": [1, 2, 3, 4], "product_id": [10, 10, 11, 11]})
    >>> seg = pd.DataFrame({"customer_id": [1, 2, 3, 4], "segment": ["a", "a", "b", "b"]})
    >>> m = SegmentPopularityRecommender().fit(lines, segments=seg)
    >>> m.recommend([3], k=1, exclude_purchased=False)["product_id"].tolist()
    [11]
    """

    _source = "segment_popular"

    def __init__(self, *, customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT,
                 segment_col: str = "segment"):
        self.customer_col = customer_col
        self.item_col = item_col
        self.segment_col = segment_col

    def fit(self, lines: pd.DataFrame, y: object = None, *,
            segments: pd.DataFrame) -> SegmentPopularityRecommender:
        """Count distinct buyers per item within each segment.

        ``segments`` is a DataFrame with ``customer_col`` and ``segment_col`` (one row
        per customer).
        """
        seg = check_frame(segments, required=[self.customer_col, self.segment_col],
                          not_missing=[self.customer_col], unique=self.customer_col, name="segments")
        rows, _ = self._fit_matrix(lines)
        labels = seg.set_index(self.customer_col)[self.segment_col].reindex(self.customers_)
        self.segments_ = labels.to_numpy()
        table = {}
        for label in pd.unique(labels.dropna()):
            mask = (labels == label).to_numpy()
            table[label] = np.asarray(self.user_items_[mask].sum(axis=0)).ravel()
        self.segment_popularity_ = pd.DataFrame(table, index=pd.Index(self.items_, name=self.item_col))
        return self

    def _scores(self, rows):
        overall = self.popularity_.to_numpy(dtype=float)
        out = np.empty((len(rows), len(self.items_)))
        for r, row in enumerate(rows):
            label = self.segments_[row]
            out[r] = (self.segment_popularity_[label].to_numpy(dtype=float)
                      if not pd.isna(label) else overall)
        return out


class ItemKNNRecommender(_BaseRecommender):
    r"""Item-to-item collaborative filtering ("customers who bought this also bought").

    From the binary customer × item purchase matrix :math:`R`, the similarity of items
    :math:`i` and :math:`j` is the cosine of their buyer vectors

    .. math:: s_{ij} = \frac{r_i \cdot r_j}{\lVert r_i\rVert\,\lVert r_j\rVert},

    i.e. the number of common buyers divided by the geometric mean of their numbers of
    buyers. Each item keeps only its ``n_neighbors`` most similar items
    (:math:`N(i)`), and a customer's score for item :math:`j` is the sum of the
    similarities from the items the customer bought:
    :math:`\text{score}_{uj} = \sum_{i \in R_u,\, j \in N(i)} s_{ij}`
    (Deshpande & Karypis 2004).

    Parameters
    ----------
    n_neighbors : similar items kept per item (``None`` keeps all).
    customer_col, item_col : column names in the purchase lines.

    Attributes
    ----------
    similarity_ : sparse item × item matrix (zero diagonal, pruned to the neighbours).
    items_, customers_ : item and customer labels, in matrix order.
    user_items_ : sparse binary customer × item matrix seen in ``fit``.
    popularity_ : Series, distinct buyers per item (used to break ties and to fill lists).

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "product_id": [10, 11, 10, 11, 10]})
    >>> m = ItemKNNRecommender().fit(lines)
    >>> m.most_similar(10, k=1)
       product_id  similarity
    0          11    0.816497
    """

    _source = "item_knn"

    def __init__(self, *, n_neighbors: int | None = 50, customer_col: str = C.CUSTOMER,
                 item_col: str = C.PRODUCT):
        self.n_neighbors = n_neighbors
        self.customer_col = customer_col
        self.item_col = item_col

    def fit(self, lines: pd.DataFrame, y: object = None) -> ItemKNNRecommender:
        """Learn item-item cosine similarities from ``lines`` (one row per purchase line; ``y`` is ignored)."""
        if self.n_neighbors is not None:
            check_positive_int(self.n_neighbors, name="n_neighbors")
        self._fit_matrix(lines)
        sim = cosine_similarity(self.user_items_.T.tocsr(), dense_output=False).tolil()
        sim.setdiag(0)
        sim = sim.tocsr()
        if self.n_neighbors is not None and self.n_neighbors < sim.shape[0] - 1:
            sim = _keep_top_per_row(sim, self.n_neighbors)
        sim.eliminate_zeros()
        self.similarity_ = sim
        return self

    def _scores(self, rows):
        return np.asarray((self.user_items_[rows] @ self.similarity_).todense())

    def most_similar(self, item: Hashable, k: int = 10) -> pd.DataFrame:
        """The ``k`` items most similar to ``item`` with their cosine similarity."""
        check_is_fitted(self, "similarity_")
        k = check_positive_int(k, name="k")
        pos = pd.Index(self.items_).get_indexer([item])[0]
        if pos < 0:
            raise ValueError(f"item {item!r} was not seen in fit; "
                             f"known items include {self.items_[:5].tolist()}.")
        col = self.similarity_[pos].toarray().ravel()
        order = np.lexsort((np.arange(len(col)), -col))[:k]
        order = order[col[order] > 0]
        return pd.DataFrame({self.item_col: self.items_[order], "similarity": col[order]})


def _keep_top_per_row(sim: sparse.csr_matrix, n: int) -> sparse.csr_matrix:
    """Keep the ``n`` largest entries of each row: the neighbours an item votes for."""
    sim = sim.tocsr(copy=True)
    for j in range(sim.shape[0]):
        start, end = sim.indptr[j], sim.indptr[j + 1]
        if end - start > n:
            vals = sim.data[start:end]
            # ties broken by row index so the result does not depend on storage order
            order = np.lexsort((sim.indices[start:end], -vals))
            drop = order[n:]
            vals[drop] = 0.0
    return sim


# --------------------------------------------------------------------------- evaluation
def _list_hits(recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int, customer_col: str,
               item_col: str) -> pd.DataFrame:
    """Per customer in ``relevant``: relevant items, hits in the top ``k``, DCG and ideal DCG.

    The one home of the top-``k`` bookkeeping behind hit rate, precision, recall and NDCG.
    Positions are the ``rank`` column (1 = top of the list); a customer without a list has no
    hits.
    """
    k = check_positive_int(k, name="k")
    recs = check_frame(recommendations, required=[customer_col, "rank", item_col], numeric=["rank"],
                       not_missing=[customer_col, "rank", item_col], allow_empty=True, name="recommendations")
    rel = check_frame(relevant, required=[customer_col, item_col],
                      not_missing=[customer_col, item_col], name="relevant")
    rank = recs["rank"].to_numpy(dtype=float)
    bad = (rank < 1) | (rank != np.floor(rank))
    if bad.any():
        raise ValueError(f"recommendations has {int(bad.sum())} rank(s) that are not whole numbers >= 1 "
                         f"(e.g. {_scalar(recs['rank'].to_numpy()[bad][0])!r}); rank 1 is the top of a list, "
                         f"as returned by recommend().")
    if recs.duplicated([customer_col, "rank"]).any():
        dup = recs.loc[recs.duplicated([customer_col, "rank"]), customer_col].iloc[0]
        raise ValueError(f"recommendations gives two items the same rank for customer {_scalar(dup)!r}; "
                         f"each position of a list holds one item.")
    if recs.duplicated([customer_col, item_col]).any():
        dup = recs.loc[recs.duplicated([customer_col, item_col]), customer_col].iloc[0]
        raise ValueError(f"recommendations lists the same item twice for customer {_scalar(dup)!r}; "
                         f"drop the repeats (keep the best rank).")
    top = recs.loc[recs["rank"] <= k, [customer_col, item_col, "rank"]]
    truth = rel[[customer_col, item_col]].drop_duplicates()
    hit = truth.merge(top, on=[customer_col, item_col], how="inner")
    hit = hit.assign(gain=1.0 / np.log2(hit["rank"].to_numpy(dtype=float) + 1))
    out = pd.DataFrame({"relevant": truth.groupby(customer_col, sort=True).size()})
    per = hit.groupby(customer_col)
    out["hits"] = per.size().reindex(out.index, fill_value=0)
    out["dcg"] = per["gain"].sum().reindex(out.index, fill_value=0.0)
    # the ideal list puts min(k, |T_u|) relevant items in the first positions
    discount = np.cumsum(1.0 / np.log2(np.arange(1, k + 1) + 1))
    out["idcg"] = discount[np.minimum(out["relevant"].to_numpy(), k) - 1]
    return out


def _list_metrics(per: pd.DataFrame, k: int) -> dict[str, float]:
    """Hit rate, precision, recall and NDCG at ``k`` from :func:`_list_hits`' table."""
    return {"hit_rate": float((per["hits"] > 0).mean()),
            "precision": float((per["hits"] / k).mean()),
            "recall": float((per["hits"] / per["relevant"]).mean()),
            "ndcg": float((per["dcg"] / per["idcg"]).mean())}


def hit_rate_at_k(recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int = 10,
                  customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT) -> float:
    r"""Share of customers with at least one relevant item among their top ``k``.

    .. math:: \text{HR@}k = \frac{1}{|U|}\sum_{u\in U} \mathbf 1\big[\text{top}_k(u)\cap T_u \neq \emptyset\big]

    where :math:`U` are the customers in ``relevant`` and :math:`T_u` their relevant
    items (typically what they bought after the cutoff). Customers with no
    recommendation count as misses.

    See Also
    --------
    precision_at_k, recall_at_k, ndcg_at_k : how many hits, and how high in the list.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1, 2, 2], "rank": [1, 2, 1, 2],
    ...                      "product_id": [10, 11, 10, 12]})
    >>> test = pd.DataFrame({"customer_id": [1, 2], "product_id": [11, 13]})
    >>> hit_rate_at_k(recs, test, k=2)
    0.5
    """
    per = _list_hits(recommendations, relevant, k=k, customer_col=customer_col, item_col=item_col)
    return _list_metrics(per, k)["hit_rate"]


def precision_at_k(recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int = 10,
                   customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT) -> float:
    r"""Mean share of the ``k`` list positions that hold a relevant item.

    .. math:: \text{P@}k = \frac{1}{|U|}\sum_{u\in U} \frac{|\text{top}_k(u)\cap T_u|}{k}

    The denominator is always ``k``: an empty or short list wastes the slots it does not
    fill. A customer who bought only one new item can reach at most :math:`1/k`, so
    precision@k is small whenever customers buy few new items; compare models with it,
    not with an absolute target.

    Parameters
    ----------
    recommendations : DataFrame with ``customer_col``, ``rank`` (1 = top; whole numbers,
        one item per rank) and ``item_col``, e.g. from ``recommend()``.
    relevant : DataFrame with ``customer_col`` and ``item_col``: the items each customer
        bought afterwards (the customers evaluated are those in ``relevant``).
    k : list length evaluated (positions ``rank <= k``).
    customer_col, item_col : column names.

    Returns
    -------
    float in [0, 1].

    See Also
    --------
    recall_at_k, ndcg_at_k, hit_rate_at_k

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1, 2, 2], "rank": [1, 2, 1, 2],
    ...                      "product_id": [10, 11, 10, 12]})
    >>> test = pd.DataFrame({"customer_id": [1, 1, 2], "product_id": [10, 11, 13]})
    >>> precision_at_k(recs, test, k=2)  # (2/2 + 0/2) / 2
    0.5
    """
    per = _list_hits(recommendations, relevant, k=k, customer_col=customer_col, item_col=item_col)
    return _list_metrics(per, k)["precision"]


def recall_at_k(recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int = 10,
                customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT) -> float:
    r"""Mean share of each customer's relevant items that appear in the top ``k``.

    .. math:: \text{R@}k = \frac{1}{|U|}\sum_{u\in U} \frac{|\text{top}_k(u)\cap T_u|}{|T_u|}

    Recall rises with ``k`` and reaches 1 only when every item the customer went on to buy
    was in the list. Parameters are those of :func:`precision_at_k`.

    Returns
    -------
    float in [0, 1].

    See Also
    --------
    precision_at_k, ndcg_at_k, hit_rate_at_k

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1, 2, 2], "rank": [1, 2, 1, 2],
    ...                      "product_id": [10, 11, 10, 12]})
    >>> test = pd.DataFrame({"customer_id": [1, 1, 1, 2], "product_id": [10, 14, 15, 12]})
    >>> round(recall_at_k(recs, test, k=2), 4)  # (1/3 + 1/1) / 2
    0.6667
    """
    per = _list_hits(recommendations, relevant, k=k, customer_col=customer_col, item_col=item_col)
    return _list_metrics(per, k)["recall"]


def ndcg_at_k(recommendations: pd.DataFrame, relevant: pd.DataFrame, *, k: int = 10,
              customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT) -> float:
    r"""Normalised discounted cumulative gain: hits count more near the top of the list.

    With binary relevance (bought or not), a hit at position :math:`r` gains
    :math:`1/\log_2(r+1)` (1 at the top, 0.63 second, 0.5 third …). The customer's DCG is the
    sum over the hits in the top ``k``; the ideal DCG puts :math:`\min(k, |T_u|)` hits in the
    first positions; NDCG is their ratio, averaged over customers:

    .. math:: \text{NDCG@}k = \frac{1}{|U|}\sum_{u\in U}
              \frac{\sum_{r\le k,\ i_r\in T_u} 1/\log_2(r+1)}{\sum_{r=1}^{\min(k,|T_u|)} 1/\log_2(r+1)}

    This equals scikit-learn's ``ndcg_score(y_true, y_score, k=k)`` on the customer × item
    matrix of relevance and list scores (the test suite checks it). Parameters are those of
    :func:`precision_at_k`.

    Returns
    -------
    float in [0, 1].

    See Also
    --------
    precision_at_k, recall_at_k, hit_rate_at_k

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1, 2, 2], "rank": [1, 2, 1, 2],
    ...                      "product_id": [10, 11, 10, 12]})
    >>> test = pd.DataFrame({"customer_id": [1, 2], "product_id": [10, 12]})
    >>> round(ndcg_at_k(recs, test, k=2), 4)  # (1 + 1/log2(3)) / 2
    0.8155
    """
    per = _list_hits(recommendations, relevant, k=k, customer_col=customer_col, item_col=item_col)
    return _list_metrics(per, k)["ndcg"]


def catalogue_coverage(recommendations: pd.DataFrame, catalogue: ArrayLike | pd.DataFrame, *,
                       item_col: str = C.PRODUCT) -> float:
    """Share of the catalogue that appears in at least one recommendation list.

    A recommender that shows everyone the same 10 best sellers covers 10 items; a
    personal one spreads demand across the range (long tail).

    Parameters
    ----------
    catalogue : the items that could be recommended (list, array, Series or a
        products DataFrame with ``item_col``).

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"product_id": [1, 2, 2]})
    >>> catalogue_coverage(recs, [1, 2, 3, 4])
    0.5
    """
    recs = check_frame(recommendations, required=[item_col], allow_empty=True, name="recommendations")
    if isinstance(catalogue, pd.DataFrame):
        require_columns(catalogue, [item_col], name="catalogue")
        catalogue = catalogue[item_col]
    items = pd.unique(pd.Series(catalogue))
    if len(items) == 0:
        raise ValueError("catalogue is empty; pass the list of items that could be recommended.")
    unknown = set(recs[item_col]) - set(items)
    if unknown:
        raise ValueError(f"recommendations contain {len(unknown)} item(s) not in the catalogue "
                         f"(e.g. {_scalar(sorted(unknown, key=str)[0])!r}); pass the full catalogue.")
    return recs[item_col].nunique() / len(items)


def evaluate_recommenders(models: dict, train: pd.DataFrame, test: pd.DataFrame, *, k: int = 10,
                          customer_col: str = C.CUSTOMER, item_col: str = C.PRODUCT,
                          fit_params: dict | None = None) -> pd.DataFrame:
    """Fit each model on ``train`` and score its top-``k`` lists on ``test``.

    The test customers are those who bought before *and* after the cutoff something
    they had not bought before (recommendations exclude purchased items, so only new
    items can be hits). Each model recommends for exactly these customers.

    Parameters
    ----------
    models : ``{"name": recommender}``; each is cloned and fitted on ``train`` (the
        objects you pass are not changed).
    train, test : purchase lines before / after the cutoff (see :func:`split_by_time`).
    fit_params : optional ``{"name": {...}}`` extra keyword arguments for ``fit``
        (e.g. ``segments=`` for :class:`SegmentPopularityRecommender`).

    Returns
    -------
    DataFrame, one row per model: ``hit_rate``, ``precision``, ``recall``, ``ndcg`` (at
    ``k``: :func:`hit_rate_at_k`, :func:`precision_at_k`, :func:`recall_at_k`,
    :func:`ndcg_at_k`), ``coverage`` (share of the items seen in training that appear in
    some list), ``customers`` evaluated, ``k``.

    Examples
    --------
    >>> import crmlab as crm
    >>> data = crm.load_retail()
    >>> lines = crm.recommend.purchase_lines(data.transactions, data.order_lines)
    >>> train, test = crm.recommend.split_by_time(lines, "2024-06-30")
    >>> table = crm.recommend.evaluate_recommenders(
    ...     {"popular": crm.recommend.PopularityRecommender(),
    ...      "item_knn": crm.recommend.ItemKNNRecommender()}, train, test, k=10)
    >>> list(table.index)
    ['popular', 'item_knn']
    """
    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict such as {'popular': PopularityRecommender()}.")
    k = check_positive_int(k, name="k")
    fit_params = fit_params or {}
    tr = check_frame(train, required=[customer_col, item_col], not_missing=[customer_col, item_col],
                     name="train")
    te = check_frame(test, required=[customer_col, item_col], not_missing=[customer_col, item_col],
                     name="test")
    relevant = _new_purchases(tr, te, customer_col, item_col)
    if relevant.empty:
        raise ValueError("No customer bought a new item after the cutoff; move the cutoff earlier.")
    customers = np.sort(relevant[customer_col].unique())
    catalogue = pd.unique(tr[item_col])
    rows = {}
    for name, model in models.items():
        if getattr(model, "customer_col", customer_col) != customer_col or \
                getattr(model, "item_col", item_col) != item_col:
            raise ValueError(f"model {name!r} uses other column names than customer_col={customer_col!r}, "
                             f"item_col={item_col!r}; construct it with the same names.")
        model = clone(model)  # fit a copy: the caller's estimators stay untouched
        model.fit(tr, **fit_params.get(name, {}))
        recs = model.recommend(customers, k=k)
        per = _list_hits(recs, relevant, k=k, customer_col=customer_col, item_col=item_col)
        rows[name] = {**_list_metrics(per, k),
                      "coverage": catalogue_coverage(recs, catalogue, item_col=item_col),
                      "customers": len(customers), "k": k}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _new_purchases(train, test, customer_col, item_col) -> pd.DataFrame:
    """(customer, item) pairs bought in ``test`` by a ``train`` customer who had not bought the item."""
    seen = train[[customer_col, item_col]].drop_duplicates()
    later = test[[customer_col, item_col]].drop_duplicates()
    later = later[later[customer_col].isin(seen[customer_col])]
    merged = later.merge(seen, on=[customer_col, item_col], how="left", indicator=True)
    return merged.loc[merged["_merge"] == "left_only", [customer_col, item_col]].reset_index(drop=True)


# --------------------------------------------------------------------------- segments
def segment_affinity(lines: pd.DataFrame, segments: pd.DataFrame, *, item_col: str = C.CATEGORY,
                     segment_col: str = "segment", customer_col: str = C.CUSTOMER) -> pd.DataFrame:
    r"""How much more (or less) each segment buys each item or category than everyone.

    .. math:: \text{affinity}_{s,i} = \frac{\text{share of segment } s\text{'s lines that are } i}
                                        {\text{share of all lines that are } i}

    An affinity of 1.5 means the segment buys the category 50% more often than the
    average customer: a candidate for a segment-specific offer (定制化服务).

    Returns
    -------
    Tidy DataFrame: ``segment_col``, ``item_col``, ``lines``, ``share`` (within the
    segment), ``overall_share``, ``affinity``.

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_id": [1, 1, 2, 2], "category": ["tea", "tea", "tea", "pens"]})
    >>> seg = pd.DataFrame({"customer_id": [1, 2], "segment": ["A", "B"]})
    >>> segment_affinity(lines, seg).round(2)
      segment category  lines  share  overall_share  affinity
    0       A     pens      0    0.0           0.25      0.00
    1       A      tea      2    1.0           0.75      1.33
    2       B     pens      1    0.5           0.25      2.00
    3       B      tea      1    0.5           0.75      0.67
    """
    df = check_frame(lines, required=[customer_col, item_col], not_missing=[customer_col, item_col],
                     name="lines")
    seg = check_frame(segments, required=[customer_col, segment_col], not_missing=[customer_col, segment_col],
                      unique=customer_col, name="segments")
    merged = df[[customer_col, item_col]].merge(seg[[customer_col, segment_col]], on=customer_col, how="left")
    missing = merged[segment_col].isna()
    if missing.any():
        raise ValueError(f"{int(missing.sum())} line(s) belong to customers without a segment "
                         f"(e.g. customer {merged.loc[missing, customer_col].tolist()[0]!r}); "
                         f"give every customer a segment (e.g. 'unknown') first.")
    counts = pd.crosstab(merged[segment_col], merged[item_col])
    share = counts.div(counts.sum(axis=1), axis=0)
    overall = counts.sum(axis=0) / counts.to_numpy().sum()
    out = (counts.stack().rename("lines").to_frame()
           .join(share.stack().rename("share"))
           .reset_index())
    out["overall_share"] = out[item_col].map(overall)
    out["affinity"] = out["share"] / out["overall_share"]
    return out.sort_values([segment_col, item_col], kind="stable").reset_index(drop=True)
