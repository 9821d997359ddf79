"""Scores per EPCI (see :mod:`geo.scoring`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["aggregate_epci", "whole_epcis"]

# ---------------------------------------------------------------------------------------------
# EPCI level
# ---------------------------------------------------------------------------------------------


def aggregate_epci(
    scored: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    outlines: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Population-weighted means of indicators and scores per EPCI.

    Each mean ignores communes lacking the value and renormalises the population weights over
    the others; communes with no EPCI (a handful of islands) are left out. Only the communes
    given are aggregated: score the area widened by :func:`whole_epcis` so that an EPCI
    straddling the area is summarised whole; with an ``in_area`` column, the communes of
    each EPCI outside the area are named.

    Parameters
    ----------
    scored
        Commune rows with ``epci_code``, ``epci_name``, ``population`` and the columns to
        aggregate (e.g. the output of :func:`score`).
    columns
        Columns to average (default: ``score``, the indicator value columns named in
        ``scored.attrs["value_columns"]`` and the ``contrib_*`` columns that exist).
    outlines
        EPCI outlines indexed by SIREN code (``geo.communes.load_boundaries("epci")``); when given
        the result is a GeoDataFrame with their geometry.

    Returns
    -------
    pandas.DataFrame
        One row per EPCI: ``epci_code``, ``epci_name``, ``population`` (sum), ``communes``
        (count), the weighted means and, when ``score`` is averaged, ``rank`` (1 = best);
        sorted by rank, else by code. With ``in_area`` in ``scored``: ``communes_outside``
        (count) and ``outside`` (« Nom (code) » of those communes, ``;``-separated).

    Examples
    --------
    >>> rows = pd.DataFrame({"epci_code": ["e1", "e1", "e2"], "epci_name": ["A", "A", "B"],
    ...                      "population": [100, 300, 50], "score": [0.2, 0.6, 0.9]})
    >>> aggregate_epci(rows)[["epci_code", "score", "rank"]].to_dict("list")
    {'epci_code': ['e2', 'e1'], 'score': [0.9, 0.5], 'rank': [1, 2]}
    """
    missing = [c for c in ("epci_code", "epci_name", "population") if c not in scored.columns]
    if missing:
        msg = f"'scored' lacks the column(s) {missing} needed to aggregate per EPCI"
        raise InvalidParameterError(msg)
    if columns is None:
        named = scored.attrs.get("value_columns", [])
        columns = [
            c for c in scored.columns if c == "score" or c in named or c.startswith("contrib_")
        ]
    rows = scored[scored["epci_code"].notna()]
    weight = rows["population"].astype(float).fillna(0.0).to_numpy()
    numbers = rows[list(columns)].apply(pd.to_numeric, errors="coerce").astype(float)
    present = numbers.notna().to_numpy()
    sums = pd.DataFrame(
        np.where(present, numbers.to_numpy(), 0.0) * weight[:, None],
        index=rows.index,
        columns=columns,
    )
    weights = pd.DataFrame(present * weight[:, None], index=rows.index, columns=columns)
    keys = rows["epci_code"].to_numpy()
    means = sums.groupby(keys).sum() / weights.groupby(keys).sum().replace(0.0, np.nan)
    groups = rows.groupby("epci_code")
    out = pd.DataFrame(
        {
            "epci_name": groups["epci_name"].first(),
            "population": groups["population"].sum().astype("Int64"),
            "communes": groups.size(),
        }
    ).join(means)
    if "in_area" in rows.columns:
        away = rows[~rows["in_area"].fillna(True).astype(bool)]
        named = away["name"].astype(str) + " (" + away.index.astype(str) + ")"
        listed = named.groupby(away["epci_code"].to_numpy()).agg(" ; ".join)
        out["communes_outside"] = away.groupby("epci_code").size().reindex(out.index)
        out["communes_outside"] = out["communes_outside"].fillna(0).astype("Int64")
        out["outside"] = listed.reindex(out.index).fillna("")
    out.index.name = "epci_code"
    out = out.reset_index()
    if "score" in out.columns:
        out["rank"] = out["score"].rank(ascending=False, method="min").astype("Int64")
        out = out.sort_values(["rank", "epci_code"], na_position="last").reset_index(drop=True)
    else:
        out = out.sort_values("epci_code").reset_index(drop=True)
    attrs = {
        **scored.attrs,
        "value_columns": [c for c in scored.attrs.get("value_columns", []) if c in out.columns],
    }
    if outlines is not None:
        import geopandas as gpd  # noqa: PLC0415

        shapes = outlines.geometry.reindex(out["epci_code"]).to_numpy()
        out = gpd.GeoDataFrame(out, geometry=shapes, crs=outlines.crs)
    out.attrs = attrs
    return out


def whole_epcis(area: gpd.GeoDataFrame, **options: object) -> gpd.GeoDataFrame:
    """The area plus every commune of the EPCIs it touches, so EPCI results are whole.

    A department cuts some EPCIs (e.g. one spanning Haute-Vienne and Dordogne); scoring
    their EPCI on the department's part alone misstates it. The communes added are marked
    ``in_area`` False (the area's own communes True).

    Parameters
    ----------
    area
        Communes of the area (``epci_code`` column), as from
        :func:`geo.communes.load_communes`.
    **options
        Passed to :func:`geo.communes.load_communes` (e.g. ``data_dir``).

    Returns
    -------
    geopandas.GeoDataFrame
        The area's communes, then the others of its EPCIs, with an ``in_area`` column.
    """
    from geo.communes import load_communes  # noqa: PLC0415 - reads the base on use

    epcis = sorted(area["epci_code"].dropna().unique().tolist())
    out = area.assign(in_area=True)
    if not epcis:
        return out
    full = load_communes(epci=epcis, **options)  # type: ignore[arg-type]
    extra = full[~full.index.isin(area.index)]
    if extra.empty:
        return out
    extra = extra.reindex(columns=area.columns).assign(in_area=False)
    joined = pd.concat([out, extra])
    joined.attrs = area.attrs
    return joined
