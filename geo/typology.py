"""Territory types (KMeans) and "communes like this one" (nearest neighbours).

Both work on standardised indicators: each indicator's value column is centred and scaled
to unit variance within the area (scikit-learn ``StandardScaler``) after replacing missing
values by the area median, so a commune lacking one indicator sits at the middle of the area
on that axis instead of being dropped or pushed to zero. Indicators missing everywhere in the
area are left out (their key is listed in ``dropped``).

* :func:`typology` groups communes with KMeans (fixed ``random_state`` and ``n_init``; ``k``
  chosen by the silhouette score in a range unless given) and names each group with French
  adjectives read from its centroid, e.g. ``"éloignée des pôles, stable, en croissance"``.
  Rows are sorted by INSEE code before fitting and clusters numbered by decreasing size, so the
  same communes give the same clusters whatever the input order.
* :func:`nearest` and :func:`similar` (in :mod:`geo.similarity`, importable from here too)
  find the communes closest to one or several reference communes and name the indicators
  that make them close.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.scoring import IndicatorLike

TYPOLOGY_KEYS: tuple[str, ...] = (
    "cooperation",
    "neo_rural",
    "stability",
    "hub_distance",
    "rurality",
)
"""Indicators used by default: the four booklet criteria and the rurality class."""

VOCABULARY: dict[str, tuple[str, str]] = {
    "hub_distance": ("proche d'un pôle urbain", "éloignée des pôles"),
    "hub_distance_10k": ("proche d'une ville", "loin des villes"),
    "travel_time": ("vite reliée à un pôle", "loin en temps des pôles"),
    "stability": ("conseil renouvelé", "stable"),
    "neo_rural": ("peu d'arrivées", "en croissance"),
    "cooperation": ("peu de coopération", "coopérative"),
    "rurality": ("moins rurale", "très rurale"),
}
"""Adjectives (low value, high value) per indicator key; others get "<label> faible/fort"."""

LABEL_THRESHOLD = 0.5
"""A centroid |z-score| at or above this names the indicator in the cluster label."""

NEUTRAL = 0.05
"""Below this |z-score| an indicator is never named, even to tell two labels apart."""

LABEL_TERMS = 3
SILHOUETTE_SAMPLE = 4000


@dataclass(frozen=True)
class Typology:
    """Result of :func:`typology`.

    Attributes
    ----------
    assignments : pandas.DataFrame
        Indexed by INSEE code (input order): ``cluster`` (int, 0 = largest) and ``label``.
    clusters : pandas.DataFrame
        One row per cluster: ``cluster``, ``label``, ``communes``, the mean of each indicator
        value column and the centroid z-score of each indicator as ``z_<key>``.
    k : int
        Number of clusters.
    silhouettes : dict of int to float
        Silhouette score of each ``k`` tried (empty when ``k`` was given).
    dropped : list of str
        Indicator keys left out because missing everywhere.
    """

    assignments: pd.DataFrame
    clusters: pd.DataFrame
    k: int
    silhouettes: dict[int, float] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def standardise(
    values: pd.DataFrame, specs: Mapping[str, IndicatorLike]
) -> tuple[pd.DataFrame, list[str]]:
    """Z-scores of each indicator within the rows given, missing values set to the median.

    Parameters
    ----------
    values
        Indicator frame indexed by INSEE code.
    specs
        Indicator key → metadata (``column``).

    Returns
    -------
    tuple
        The z-score frame (one column per usable key) and the keys dropped because they are
        missing in every row.

    Examples
    --------
    >>> from types import SimpleNamespace as I
    >>> frame = pd.DataFrame({"v": [1.0, 3.0, None]}, index=["a", "b", "c"])
    >>> z, dropped = standardise(frame, {"k": I(column="v")})
    >>> z["k"].round(3).tolist(), dropped
    ([-1.225, 1.225, 0.0], [])
    """
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415 - slow import

    missing = [k for k, spec in specs.items() if spec.column not in values.columns]
    if missing:
        msg = f"'indicators': no value column for {missing}; columns are {list(values.columns)}"
        raise InvalidParameterError(msg)
    raw = pd.DataFrame(
        {k: pd.to_numeric(values[spec.column], errors="coerce") for k, spec in specs.items()},
        index=values.index,
    ).astype(float)
    dropped = [k for k in raw.columns if raw[k].isna().all()]
    raw = raw.drop(columns=dropped)
    if raw.shape[1] == 0:
        msg = f"'indicators': every indicator is missing in this area ({list(specs)})"
        raise InvalidParameterError(msg)
    filled = raw.fillna(raw.median())
    z = StandardScaler().fit_transform(filled.to_numpy())
    return pd.DataFrame(z, index=values.index, columns=raw.columns), dropped


# ---------------------------------------------------------------------------------------------
# Typology
# ---------------------------------------------------------------------------------------------


def _fit(z: np.ndarray, k: int, *, random_state: int, n_init: int) -> np.ndarray:
    from sklearn.cluster import KMeans  # noqa: PLC0415
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    model = KMeans(n_clusters=k, random_state=random_state, n_init=n_init)
    with threadpool_limits(limits=1):  # OpenMP threads are 10x slower on a busy machine
        return model.fit_predict(z)


def _check_k_range(k_range: tuple[int, int], distinct: int) -> range:
    low, high = k_range
    if low < 2 or high < low:
        msg = f"'k_range' is {k_range}, expected (low, high) with 2 <= low <= high"
        raise InvalidParameterError(msg)
    top = min(high, distinct - 1)
    if top < low:
        msg = (
            f"'k_range' {k_range}: the area has only {distinct} distinct indicator profiles; "
            f"give a smaller range or a larger area"
        )
        raise InvalidParameterError(msg)
    return range(low, top + 1)


def _check_k(k: int, distinct: int) -> None:
    if k < 2 or k >= distinct:
        msg = (
            f"'k' is {k}, expected 2 <= k < {distinct} (the number of distinct indicator "
            "profiles in the area)"
        )
        raise InvalidParameterError(msg)


def choose_k(
    z: np.ndarray, *, k_range: tuple[int, int] = (3, 8), random_state: int = 0, n_init: int = 10
) -> tuple[int, dict[int, float]]:
    """Pick the number of clusters with the best silhouette score (smallest k on ties).

    The silhouette is measured on at most 4,000 rows drawn with ``random_state`` so that all
    of France stays fast.

    Returns
    -------
    tuple
        The chosen ``k`` and the silhouette of every ``k`` tried.
    """
    from sklearn.metrics import silhouette_score  # noqa: PLC0415

    distinct = len(np.unique(z, axis=0))
    scores: dict[int, float] = {}
    for k in _check_k_range(k_range, distinct):
        labels = _fit(z, k, random_state=random_state, n_init=n_init)
        sample = min(len(z), SILHOUETTE_SAMPLE)
        scores[k] = float(
            silhouette_score(z, labels, sample_size=sample, random_state=random_state)
        )
    best = max(scores, key=lambda k: (scores[k], -k))
    return best, scores


def _terms(centroid: pd.Series, specs: Mapping[str, IndicatorLike]) -> list[tuple[str, bool]]:
    """Adjectives of one centroid, strongest first, flagged when above the threshold."""
    terms = []
    for key in centroid.abs().sort_values(ascending=False, kind="stable").index:
        low, high = VOCABULARY.get(
            key, (f"{specs[key].label.lower()} faible", f"{specs[key].label.lower()} fort")
        )
        value = centroid[key]
        if abs(value) < NEUTRAL:
            continue
        word = high if value >= 0 else low
        strong = abs(value) >= LABEL_THRESHOLD
        terms.append((word if strong else f"plutôt {word}", strong))
    return terms


def cluster_labels(centroids: pd.DataFrame, specs: Mapping[str, IndicatorLike]) -> list[str]:
    """Readable, unique French labels of clusters from their centroid z-scores.

    Each label names up to three indicators whose centroid |z| ≥ 0.5, strongest first, with
    the adjective of their side (e.g. ``"éloignée des pôles, stable"``); a cluster with none
    is ``"dans la moyenne"``. Labels that would repeat are lengthened with the next indicator
    (prefixed "plutôt" when its |z| is below 0.5; never one below 0.05), then numbered.

    Parameters
    ----------
    centroids
        One row per cluster, one z-score column per indicator key.
    specs
        Indicator key → metadata (``label`` for keys without a vocabulary entry).
    """
    terms = [_terms(row, specs) for _, row in centroids.iterrows()]
    lengths = [min(sum(strong for _, strong in t), LABEL_TERMS) for t in terms]
    labels = _join(terms, lengths)
    for _ in range(centroids.shape[1]):
        repeated = {lab for lab in labels if labels.count(lab) > 1}
        if not repeated:
            return labels
        lengths = [
            n + (lab in repeated and n < len(t))
            for n, lab, t in zip(lengths, labels, terms, strict=True)
        ]
        labels = _join(terms, lengths)
    seen: dict[str, int] = {}
    numbered = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        numbered.append(lab if labels.count(lab) == 1 else f"{lab} ({seen[lab]})")
    return numbered


def _join(terms: list[list[tuple[str, bool]]], lengths: list[int]) -> list[str]:
    return [
        ", ".join(word for word, _ in t[:n]) or "dans la moyenne"
        for t, n in zip(terms, lengths, strict=True)
    ]


def typology(
    values: pd.DataFrame,
    specs: Mapping[str, IndicatorLike],
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (3, 8),
    random_state: int = 0,
    n_init: int = 10,
) -> Typology:
    """Group communes into territory types with KMeans on standardised indicators.

    Parameters
    ----------
    values
        Indicator frame of the area, indexed by INSEE code.
    specs
        Indicator key → metadata (``column``, ``label``).
    k
        Number of clusters; default: chosen by silhouette in ``k_range``.
    k_range
        Inclusive range of ``k`` tried (capped by the number of distinct profiles minus one).
    random_state, n_init
        KMeans options, fixed for reproducible results.

    Returns
    -------
    Typology

    Raises
    ------
    InvalidParameterError
        Too few communes or distinct profiles for ``k``, a bad range, no usable indicator.
    """
    ordered = values.sort_index(kind="stable")
    z, dropped = standardise(ordered, specs)
    matrix = z.to_numpy()
    silhouettes: dict[int, float] = {}
    if k is None:
        k, silhouettes = choose_k(matrix, k_range=k_range, random_state=random_state, n_init=n_init)
    else:
        _check_k(k, len(np.unique(matrix, axis=0)))
    raw = _fit(matrix, k, random_state=random_state, n_init=n_init)
    cluster = _renumber(raw, ordered.index)
    used = {key: specs[key] for key in z.columns}
    centroids = z.groupby(cluster).mean().sort_index()
    labels = cluster_labels(centroids, used)
    columns = list(dict.fromkeys(spec.column for spec in used.values()))
    means = ordered[columns].apply(pd.to_numeric, errors="coerce").groupby(cluster).mean()
    clusters = pd.concat(
        [
            pd.Series(labels, index=centroids.index, name="label"),
            pd.Series(cluster).value_counts().sort_index().rename("communes"),
            means,
            centroids.add_prefix("z_"),
        ],
        axis=1,
    )
    clusters.index.name = "cluster"
    assignments = pd.DataFrame(
        {"cluster": cluster, "label": np.array(labels)[cluster]}, index=ordered.index
    ).reindex(values.index)
    return Typology(
        assignments=assignments,
        clusters=clusters.reset_index(),
        k=int(k),
        silhouettes=silhouettes,
        dropped=dropped,
    )


def _renumber(raw: np.ndarray, codes: pd.Index) -> np.ndarray:
    """Number clusters by decreasing size, ties by their smallest INSEE code."""
    frame = pd.DataFrame({"raw": raw, "code": codes.astype(str)})
    summary = frame.groupby("raw").agg(size=("code", "size"), first=("code", "min"))
    order = summary.sort_values(["size", "first"], ascending=[False, True]).index
    mapping = {old: new for new, old in enumerate(order)}
    return pd.Series(raw).map(mapping).to_numpy(dtype=int)


# ---------------------------------------------------------------------------------------------
# From the commune base
# ---------------------------------------------------------------------------------------------


def _specs_and_values(
    communes: gpd.GeoDataFrame,
    keys: Sequence[str] | None,
    indicators: pd.DataFrame | None,
    store: str | os.PathLike[str] | None = None,
) -> tuple[dict, pd.DataFrame]:
    from geo.indicators import compute_indicators, get_indicator  # noqa: PLC0415
    from geo.store import load_layers  # noqa: PLC0415

    keys = list(TYPOLOGY_KEYS if keys is None else keys)
    if not keys:
        msg = "'keys' is empty; give at least one indicator key"
        raise InvalidParameterError(msg)
    specs = {key: get_indicator(key) for key in keys}
    if indicators is None:
        indicators = compute_indicators(communes, keys=keys, layers=load_layers(store))
    return specs, indicators.reindex(communes.index)


def area_typology(
    communes: gpd.GeoDataFrame,
    *,
    keys: Sequence[str] | None = None,
    k: int | None = None,
    k_range: tuple[int, int] = (3, 8),
    indicators: pd.DataFrame | None = None,
    store: str | os.PathLike[str] | None = None,
) -> Typology:
    """Territory types of the communes of an area (see :func:`typology`).

    Parameters
    ----------
    communes
        Communes of the area (:func:`geo.communes.load_communes`).
    keys
        Indicators used (default :data:`TYPOLOGY_KEYS`).
    k, k_range
        Number of clusters, or the range searched by silhouette.
    indicators
        Indicator frame already computed (default: computed now).
    store
        Layer store read when the indicators are computed here (default: the setting).

    Returns
    -------
    Typology
        With ``code``, ``name`` and ``population`` joined to the assignments (a GeoDataFrame
        with the commune outlines when ``communes`` has them).
    """
    specs, values = _specs_and_values(communes, keys, indicators, store)
    result = typology(values, specs, k=k, k_range=k_range)
    context = communes[[c for c in ("name", "population") if c in communes.columns]]
    assignments = context.join(result.assignments)
    assignments.insert(0, "code", assignments.index)
    if "geometry" in communes.columns:
        import geopandas as gpd  # noqa: PLC0415

        assignments = gpd.GeoDataFrame(
            assignments, geometry=communes.geometry.to_numpy(), crs=communes.crs
        )
    return Typology(
        assignments=assignments,
        clusters=result.clusters,
        k=result.k,
        silhouettes=result.silhouettes,
        dropped=result.dropped,
    )


_SIMILARITY_NAMES = frozenset({"nearest", "similar"})


def __getattr__(name: str) -> Any:
    """``nearest`` and ``similar``, moved to :mod:`geo.similarity`, stay importable here."""
    if name in _SIMILARITY_NAMES:
        from geo import similarity  # noqa: PLC0415 - it imports this module

        return getattr(similarity, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
