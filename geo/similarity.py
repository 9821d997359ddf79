"""Communes like this one: nearest neighbours on standardised indicators.

:func:`nearest` finds the communes closest to one or several reference communes (to the
nearest of them) and names the indicators that make them close; :func:`similar` does it
from the commune base. Indicators are standardised as for the territory types
(:func:`geo.typology.standardise`). Both stay importable from :mod:`geo.typology`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo._errors import CommuneNotFoundError, InvalidParameterError
from geo.typology import _specs_and_values, standardise

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.scoring import IndicatorLike

__all__ = ["nearest", "similar"]


def nearest(
    values: pd.DataFrame,
    specs: Mapping[str, IndicatorLike],
    references: Sequence[str],
    *,
    top: int = 10,
    reasons: int = 3,
) -> pd.DataFrame:
    """Communes closest to the reference communes on standardised indicators.

    Each commune's distance is its Euclidean distance, in z-score units, to the nearest
    reference (scikit-learn ``NearestNeighbors``), so several past hosts that differ give the
    communes like any one of them rather than like an average profile that may fit none.
    The references themselves are excluded from the result.

    Parameters
    ----------
    values
        Indicator frame of the search area, indexed by INSEE code, including the references.
    specs
        Indicator key → metadata (``column``, ``label``).
    references
        INSEE codes of the reference communes.
    top
        Number of communes returned.
    reasons
        How many indicators to name in ``close_on``.

    Returns
    -------
    pandas.DataFrame
        Indexed by INSEE code, closest first: ``distance``, ``reference`` (the nearest
        reference), ``close_on`` (labels of the indicators with the smallest standardised gaps
        to that reference, with the gap in standard deviations) and each indicator's value
        column.

    Raises
    ------
    CommuneNotFoundError
        A reference is not in ``values``.
    InvalidParameterError
        ``top`` below 1 or no reference given.
    """
    refs = _check_references(values, references, top=top)
    z, _ = standardise(values, specs)
    distance, index = _neighbours(
        z.to_numpy(), z.loc[refs].to_numpy(), min(len(z), top + len(refs))
    )
    found = pd.DataFrame(
        {
            "position": index.ravel(),
            "distance": distance.ravel(),
            "reference": np.repeat(refs, index.shape[1]),
        }
    )
    found = found[~z.index[found["position"]].isin(refs)]
    found = found.sort_values(["distance", "position"], kind="stable")
    found = found.drop_duplicates("position").head(top)
    codes = z.index[found["position"]]
    gaps = pd.DataFrame(
        np.abs(z.loc[codes].to_numpy() - z.loc[found["reference"]].to_numpy()),
        index=codes,
        columns=z.columns,
    )
    out = pd.DataFrame(
        {"distance": found["distance"].to_numpy(), "reference": found["reference"].to_numpy()},
        index=codes,
    )
    out["close_on"] = _close_on(gaps, specs, reasons)
    columns = list(dict.fromkeys(specs[k].column for k in z.columns))
    return out.join(values[columns])


def _check_references(values: pd.DataFrame, references: Sequence[str], *, top: int) -> list[str]:
    refs = list(dict.fromkeys(str(r) for r in references))
    if not refs:
        msg = "'references' is empty; give at least one INSEE code, e.g. 24269"
        raise InvalidParameterError(msg)
    if top < 1:
        msg = f"'top' is {top}, expected a positive number of communes"
        raise InvalidParameterError(msg)
    unknown = [r for r in refs if r not in values.index]
    if unknown:
        msg = f"'references': {unknown} not among the {len(values)} communes of the search area"
        raise CommuneNotFoundError(msg)
    return refs


def _neighbours(z: np.ndarray, target: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors  # noqa: PLC0415

    return NearestNeighbors(n_neighbors=count).fit(z).kneighbors(target)


def _close_on(gaps: pd.DataFrame, specs: Mapping[str, IndicatorLike], count: int) -> list[str]:
    """Labels of the ``count`` smallest gaps per row, e.g. "Stabilité (0,05 σ)"."""
    order = np.argsort(gaps.to_numpy(), axis=1, kind="stable")[:, :count]
    keys = np.array(gaps.columns)
    texts = []
    for row, picks in zip(gaps.to_numpy(), order, strict=True):  # at most `top` rows
        parts = [f"{specs[keys[j]].label} ({row[j]:.2f} σ)".replace(".", ",") for j in picks]
        texts.append(", ".join(parts))
    return texts


def similar(
    references: Sequence[str],
    *,
    communes: gpd.GeoDataFrame | None = None,
    keys: Sequence[str] | None = None,
    top: int = 10,
    indicators: pd.DataFrame | None = None,
    store: str | os.PathLike[str] | None = None,
    data_dir: Path | None = None,
) -> pd.DataFrame:
    """Communes like the reference communes, e.g. like past host Mialet (24269).

    Parameters
    ----------
    references
        INSEE codes of the reference communes.
    communes
        Search area; default: the region(s) of the references. References outside the area
        are added to it (they are never returned).
    keys
        Indicators compared (default :data:`TYPOLOGY_KEYS`).
    top
        Number of communes returned.
    indicators
        Indicator frame already computed for the area and the references.
    store
        Layer store read when the indicators are computed here (default: the setting).
    data_dir
        Folder of the commune base the references and default area are read from
        (default: the ``data_dir`` setting).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``department_code``, ``population``, ``distance``, ``reference``,
        ``close_on`` and the indicator values, closest first.

    Examples
    --------
    >>> similar(["24269"], top=5)[["code", "name", "distance"]]  # doctest: +SKIP
    """
    from geo.communes import load_communes  # noqa: PLC0415

    refs = load_communes(codes=list(references), data_dir=data_dir)
    area = (
        load_communes(region=sorted(refs["region_code"].unique()), data_dir=data_dir)
        if communes is None
        else pd.concat([communes, refs[~refs.index.isin(communes.index)]])
    )
    specs, values = _specs_and_values(area, keys, indicators, store)
    found = nearest(values, specs, list(refs.index), top=top)
    context = area.loc[found.index, ["code", "name", "department_code", "population"]]
    return context.join(found)
