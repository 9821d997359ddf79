"""Duplicates: which new records repeat a stored record or an earlier one of the batch.

A record repeats another when both have the same ``source_id``, or (providers,
places, events) the same name, compared with :func:`geo._text.normalise_places`,
within :data:`DUPLICATE_DISTANCE_M`; cooperation records without a source id
repeat one with the same area, year, kind and provider.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._geodesy import haversine_km
from geo._text import normalise_places
from geo.layers import SPATIAL_KINDS

__all__ = ["DUPLICATE_DISTANCE_M", "IDENTITY_COLUMNS", "duplicate_mask", "name_keys"]

#: Two records with the same name closer than this are the same record.
DUPLICATE_DISTANCE_M = 100.0
#: Columns read back to find duplicates and taken ids when adding records.
IDENTITY_COLUMNS = {kind: ["id", "source_id", "name"] for kind in SPATIAL_KINDS} | {
    "cooperation": ["id", "source_id", "area_type", "area_code", "year", "kind", "provider_id"]
}


def duplicate_mask(kind: str, records: pd.DataFrame, stored: pd.DataFrame) -> pd.Series:
    """Which ``records`` repeat a stored record or an earlier record of the same batch.

    Parameters
    ----------
    kind
        Layer of the records.
    records, stored
        Conformed records (see :func:`geo.layers.conform`).

    Returns
    -------
    pandas.Series
        Booleans aligned on ``records.index``.
    """
    both = pd.concat([stored.assign(_new=False), records.assign(_new=True)], ignore_index=True)
    source = both["source_id"]
    repeated = source.notna() & source.duplicated(keep="first")
    keys = _identity_keys(kind, both)
    if kind in SPATIAL_KINDS:
        repeated |= _near_same_name(keys, both.geometry)
    else:
        repeated |= keys.notna() & keys.duplicated(keep="first")
    new = both["_new"].to_numpy()
    return pd.Series(repeated.to_numpy()[new], index=records.index)


def name_keys(names: pd.Series) -> pd.Series:
    """Names as compared for duplicates: :func:`geo._text.normalise_places`, ``None`` when empty.

    Examples
    --------
    >>> name_keys(pd.Series(["Tiers-Lieu  Sainte-Cœur", " ", None])).tolist()
    ['tiers lieu ste coeur', None, None]
    """
    keys = normalise_places(names)
    return keys.where(keys != "", None)


def _identity_keys(kind: str, frame: pd.DataFrame) -> pd.Series:
    if kind in SPATIAL_KINDS:
        return name_keys(frame["name"])
    parts = [
        frame[c].astype(object).fillna("").astype(str)
        for c in ("area_type", "area_code", "year", "kind", "provider_id")
    ]
    keys = parts[0].str.cat(parts[1:], sep="|")
    return keys.where(frame["source_id"].isna(), None)


def _near_same_name(keys: pd.Series, geometry: gpd.GeoSeries) -> pd.Series:
    """Rows whose name repeats an earlier row's name within the duplicate distance."""
    table = pd.DataFrame(
        {
            "key": keys.to_numpy(),
            "lon": geometry.x.to_numpy(),
            "lat": geometry.y.to_numpy(),
            "row": np.arange(len(keys)),
        }
    )
    table = table[table["key"].notna()]
    repeated_keys = table["key"].duplicated(keep=False)
    table = table[repeated_keys]
    pairs = table.merge(table, on="key", suffixes=("", "_earlier"))
    pairs = pairs[pairs["row_earlier"] < pairs["row"]]
    distance_km = haversine_km(
        pairs["lon"], pairs["lat"], pairs["lon_earlier"], pairs["lat_earlier"]
    )
    close = pairs.loc[distance_km * 1000 <= DUPLICATE_DISTANCE_M, "row"].unique()
    return pd.Series(np.isin(np.arange(len(keys)), close), index=keys.index)
