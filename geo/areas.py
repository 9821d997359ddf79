"""Areas of the service: find a department, region or EPCI by name, load one, describe it.

The web pages and the API name an area by its code (``department=19``, ``region=75``,
``epci=241900133``); a user who types a name instead gets candidates from
:func:`find_areas`, tolerant of case, accents and typos like the commune search.
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo import communes
from geo._errors import InvalidParameterError, UnknownAreaError
from geo._text import normalise_place

__all__ = ["AREA_LEVELS", "area_label", "epci_summary", "find_areas", "select_area"]

#: Area levels, the base layer holding their outlines and their French name.
AREA_LEVELS: dict[str, tuple[str, str]] = {
    "department": ("departments", "département"),
    "region": ("regions", "région"),
    "epci": ("epci", "intercommunalité"),
}


#: The generic start of EPCI names, left out when comparing ("ventadour" finds the CC).
_EPCI_PREFIX = (
    r"^(communaute (de communes|d agglomeration|urbaine)|metropole|etablissement public "
    r"territorial)( (de la|de l|des|du|de|d))? "
)
MIN_SCORE = 40.0


@functools.lru_cache(maxsize=4)
def _names(folder: str, mtime: float) -> pd.DataFrame:
    del mtime  # part of the cache key only: a rebuilt base is read again
    frames = []
    for level, (layer, _) in AREA_LEVELS.items():
        columns = ["code", f"{level}_name"]
        table = communes.read_table(layer, columns=columns, data_dir=Path(folder))
        names = table[f"{level}_name"].to_numpy(dtype=object)
        frames.append(pd.DataFrame({"level": level, "code": table["code"], "name": names}))
    names = pd.concat(frames, ignore_index=True)
    names["key"] = names["name"].map(normalise_place).str.replace(_EPCI_PREFIX, "", regex=True)
    return names


def find_areas(text: str, *, limit: int = 8, data_dir: Path | None = None) -> pd.DataFrame:
    """Departments, regions and EPCIs whose name or code looks like ``text``, best first.

    Parameters
    ----------
    text
        What the user typed: a name (``"correze"``, ``"ventadour"``) or a code (``"19"``).
    limit
        Number of candidates (1 to 50).
    data_dir
        Folder of the commune base (default: the ``data_dir`` setting).

    Returns
    -------
    pandas.DataFrame
        ``level`` (department, region, epci), ``code``, ``name``, ``score`` (0-100;
        candidates under :data:`MIN_SCORE` are left out, so the frame may be empty).

    Raises
    ------
    InvalidParameterError
        ``text`` holds no letter or digit, or ``limit`` is out of range.

    Examples
    --------
    >>> find_areas("correze").iloc[0][["level", "code"]].tolist()  # doctest: +SKIP
    ['department', '19']
    """
    key = normalise_place(text or "")
    if not key:
        msg = f"'q' should contain at least one letter or digit, got {text!r}"
        raise InvalidParameterError(msg)
    if not 1 <= limit <= 50:
        msg = f"'limit' should be between 1 and 50, got {limit}"
        raise InvalidParameterError(msg)
    path = communes.base_file("epci", data_dir)
    names = _names(str(path.parent), path.stat().st_mtime)
    score = pd.Series(communes.name_similarity(key, names["key"].tolist()), index=names.index)
    score[names["code"].str.upper() == text.strip().upper()] = 100.0
    ranked = names.assign(score=score).sort_values(["score", "level"], ascending=[False, True])
    ranked = ranked[ranked["score"] >= MIN_SCORE]
    return ranked.head(limit)[["level", "code", "name", "score"]].reset_index(drop=True)


def select_area(
    *,
    department: str | None = None,
    region: str | None = None,
    epci: str | None = None,
    data_dir: Path | None = None,
) -> gpd.GeoDataFrame:
    """The communes of one area given by department, region and/or EPCI codes.

    Unlike :func:`geo.communes.load_communes`, an area is required: scoring all of
    France is a batch job for the command line, not a web request.

    Raises
    ------
    InvalidParameterError
        No area is given.
    UnknownAreaError
        A code matches no commune.
    """
    if not any((department, region, epci)):
        msg = "no area given: set 'department' (e.g. 19), 'region' (e.g. 75) or 'epci'"
        raise InvalidParameterError(msg)
    return communes.load_communes(
        department=department, region=region, epci=epci, data_dir=data_dir
    )


def area_label(
    *,
    department: str | None = None,
    region: str | None = None,
    epci: str | None = None,
    data_dir: Path | None = None,
) -> str:
    """French name of an area for titles, e.g. ``"Corrèze (19)"``; codes when unknown."""
    parts = []
    for level, value in (("department", department), ("region", region), ("epci", epci)):
        if not value:
            continue
        layer = communes.load_boundaries(AREA_LEVELS[level][0], data_dir=data_dir)
        for code in (c.strip() for c in value.split(",") if c.strip()):
            name = layer[f"{level}_name"].get(code)
            parts.append(f"{name} ({code})" if name is not None else code)
    return ", ".join(parts)


def epci_summary(code: str, *, data_dir: Path | None = None) -> dict[str, object]:
    """One EPCI: its name, type, population, outline bounds and member communes.

    Raises
    ------
    UnknownAreaError
        ``code`` is not the SIREN code of an EPCI of the base.
    """
    layer = communes.load_boundaries("epci", data_dir=data_dir)
    code = str(code).strip()
    if code not in layer.index:
        msg = f"'code': {code!r} is not the SIREN code of an EPCI of the base (COG 2026)"
        raise UnknownAreaError(msg)
    row = layer.loc[code]
    members = communes.load_communes(
        epci=code, columns=["name", "population", "department_code"], data_dir=data_dir
    )
    info = {k: _plain(v) for k, v in row.drop(labels="geometry").items()}
    info["bounds"] = [float(v) for v in gpd.GeoSeries([row.geometry]).total_bounds]
    shown = members[["code", "name", "department_code", "population"]].sort_values("name")
    info["members"] = [{k: _plain(v) for k, v in r.items()} for r in shown.to_dict("records")]
    return info


def _plain(value: object) -> object:
    """A JSON-friendly Python value (numpy scalars unwrapped, missing as ``None``)."""
    if value is None or (not isinstance(value, (str, list, dict)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
