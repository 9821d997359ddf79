"""Perimeter membership: which communes lie in each provider's declared perimeter.

A perimeter is a ``;``-separated list of ``level:code`` items (``commune``, ``epci``,
``department``, ``region``); a ``commune`` item naming a former code (a commune since
merged) counts for the current commune that absorbed it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from geo import communes as base

__all__ = ["perimeter_membership", "providers_for_area"]

_LEVEL_COLUMNS = {"epci": "epci_code", "department": "department_code", "region": "region_code"}


def _perimeter_items(providers: pd.DataFrame) -> pd.DataFrame:
    """One row per (provider position, level, code) of the ``;``-separated perimeters."""
    text = providers["perimeter"] if "perimeter" in providers else pd.Series("", providers.index)
    items = pd.Series(text.fillna("").astype(str).to_numpy()).str.split(";").explode().str.strip()
    items = items[items.str.contains(":", regex=False)]
    parts = items.str.split(":", n=1, expand=True)
    if parts.empty:
        return pd.DataFrame({"provider": [], "level": [], "code": []})
    return pd.DataFrame(
        {
            "provider": items.index.to_numpy(dtype=np.int64),
            "level": parts[0].str.strip().str.lower().to_numpy(),
            "code": parts[1].str.strip().to_numpy(),
        }
    )


def perimeter_membership(
    communes: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    former: pd.DataFrame | None = None,
) -> sparse.csr_matrix:
    """Which communes lie in each provider's declared perimeter.

    Parameters
    ----------
    communes
        Communes indexed by INSEE code, with ``epci_code``, ``department_code`` and
        ``region_code``.
    providers
        Records with a ``perimeter`` column (``;``-separated ``level:code`` items).
    former
        Former commune codes (:func:`geo.communes.former_codes`: indexed by former
        code, ``code`` = current commune); default: read from the base when a
        commune item names a code absent from ``communes``, if the base exists.

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, providers × communes, in the order of the inputs.
    """
    items = _perimeter_items(providers)
    codes = pd.Index(communes.index.astype(str))
    shape = (len(providers), len(codes))
    matrix = sparse.csr_matrix(shape, dtype=np.int32)
    on_commune = items[items["level"] == "commune"]
    if len(on_commune):
        current = _current_codes(on_commune["code"], codes, former)
        where = codes.get_indexer(current)
        found = where >= 0
        rows = on_commune["provider"].to_numpy()[found]
        matrix = matrix + _incidence(rows, where[found], shape)
    for level, column in _LEVEL_COLUMNS.items():
        wanted = items[items["level"] == level]
        if wanted.empty or column not in communes:
            continue
        # provider × unit (EPCI, department, region) @ unit × commune
        inverse, units = pd.factorize(communes[column].astype("string"))
        has = inverse >= 0
        unit_commune = _incidence(inverse[has], np.flatnonzero(has), (len(units), len(codes)))
        unit = pd.Index(units).get_indexer(wanted["code"])
        ok = unit >= 0
        provider_unit = _incidence(
            wanted["provider"].to_numpy()[ok], unit[ok], (len(providers), len(units))
        )
        matrix = matrix + provider_unit @ unit_commune
    return (matrix > 0).tocsr()


def _incidence(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sparse.csr_matrix:
    data = np.ones(len(rows), dtype=np.int32)
    return sparse.csr_matrix((data, (rows, cols)), shape=shape)


def _current_codes(codes: pd.Series, known: pd.Index, former: pd.DataFrame | None) -> np.ndarray:
    """Replace former commune codes by the current code that absorbed them."""
    values = codes.to_numpy(dtype=object)
    unknown = ~codes.isin(known).to_numpy()
    if not unknown.any():
        return values
    if former is None:
        try:
            former = base.former_codes()
        except FileNotFoundError:
            return values
    mapped = pd.Series(values[unknown]).map(former["code"]).to_numpy(dtype=object)
    values = values.copy()
    values[unknown] = np.where(pd.isna(mapped), values[unknown], mapped)
    return values


def providers_for_area(
    providers: pd.DataFrame,
    communes: pd.DataFrame,
    *,
    former: pd.DataFrame | None = None,
) -> np.ndarray:
    """Which providers declare a perimeter holding at least one of ``communes``.

    Matches every item level, and ``commune`` items naming a former code (see
    :func:`perimeter_membership`), so a perimeter written before a merger still
    counts for the area of the current commune.

    Parameters
    ----------
    providers
        Records with a ``perimeter`` column; any index.
    communes
        Communes of the area, indexed by INSEE code, with ``epci_code``,
        ``department_code`` and ``region_code``.
    former
        Former commune codes (:func:`geo.communes.former_codes`); default: read from
        the base when needed and present.

    Returns
    -------
    numpy.ndarray
        Boolean, one entry per provider row, in order.

    Examples
    --------
    >>> towns = pd.DataFrame({"epci_code": ["e1"], "department_code": ["19"],
    ...                       "region_code": ["75"]}, index=["19001"])
    >>> former = pd.DataFrame({"code": ["19001"]}, index=pd.Index(["19999"]))
    >>> pros = pd.DataFrame({"perimeter": ["commune:19999", "epci:e2", "region:75"]})
    >>> providers_for_area(pros, towns, former=former).tolist()
    [True, False, True]
    """
    member = perimeter_membership(communes, providers.reset_index(drop=True), former=former)
    return np.asarray(member.sum(axis=1)).ravel() > 0
