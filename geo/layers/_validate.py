"""Checks of programme-layer records before they are stored.

:func:`validate_records` lists every :class:`RowProblem` of a frame (required
values, vocabularies, numbers, dates, points inside France, INSEE codes, repeated
ids) with the line the user sees in their file. Checks are vectorised so that a
100,000-row import is validated in well under a second.

Examples
--------
>>> str(RowProblem(7, "start", "2024-13-01", "an ISO date (YYYY-MM-DD)"))
"line 7, field 'start': got '2024-13-01', expected an ISO date (YYYY-MM-DD)"
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geo import communes
from geo._config import get_settings
from geo._errors import LayerValidationError
from geo.layers._calendar import _parse_dates
from geo.layers._problems import RowProblem, _Context
from geo.layers._schema import (
    _VOCABULARIES,
    AREA_TYPES,
    COLUMNS,
    DATE_YEAR_RANGE,
    EXPERTISE,
    FRANCE_BOXES,
    LOCATION_PRECISIONS,
    NUMBER_RANGES,
    PERIMETER_LEVELS,
    REQUIRED,
    SPATIAL_KINDS,
    _geometry_of,
    check_kind,
)

__all__ = ["RowProblem", "raise_for_problems", "validate_records"]


def _isin(text: pd.Series, allowed: Collection[str]) -> pd.Series:
    """Vectorised membership of a ``str`` Series in a (possibly large) set of strings."""
    value_set = allowed if isinstance(allowed, pa.Array) else pa.array(list(allowed), pa.string())
    data = pa.array(text.to_numpy(dtype=object, na_value=None), pa.string())
    found = pc.is_in(data, value_set=value_set).to_numpy(zero_copy_only=False)
    return pd.Series(found, index=text.index)


def validate_records(
    kind: str,
    frame: pd.DataFrame,
    *,
    line_numbers: Sequence[int] | np.ndarray | None = None,
    known_codes: Collection[str] | None = None,
) -> list[RowProblem]:
    """Check records against the schema of a layer and list every problem found.

    Checks required columns and values, vocabularies (``kind``, ``expertise``,
    ``perimeter``, ``location_precision``, ``area_type``), numbers (finite, in the
    ranges of :data:`NUMBER_RANGES`: ``reach_km`` > 0, ``year`` a plausible whole
    year, ``expected_audience`` a whole number ≥ 0), dates (ISO text, years in
    :data:`DATE_YEAR_RANGE`, ``end`` not before ``start``; an event needs dates, a season or a
    recurrence), points inside France (metropolitan or overseas, with a hint when
    lat/lon look swapped), INSEE commune codes present in the commune base, empty
    names and duplicate ids.

    Parameters
    ----------
    kind
        One of :data:`LAYER_KINDS`.
    frame
        Records as a DataFrame or GeoDataFrame (points in EPSG:4326, or any CRS set
        on the GeoDataFrame). Columns not in the schema are ignored.
    line_numbers
        Line of each row in the user's file (header = line 1). Default: row
        position + 2, as in a CSV file with one header line.
    known_codes
        Current INSEE commune codes (default: read from the commune base when a
        record names a commune). Pass them when validating many frames.

    Returns
    -------
    list of RowProblem
        Sorted by line; empty when every record is valid.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"source": ["test"], "name": [" "], "kind": ["bar"]})
    >>> for problem in validate_records("places", rows):
    ...     print(problem)
    field 'geometry': got '', expected a column named 'geometry' (required for places)
    line 2, field 'name': got '', expected a non-empty name
    line 2, field 'kind': got 'bar', expected one of coworking, tiers_lieu, associative_cafe, \
fablab, marketplace, community_hall, other
    """
    check_kind(kind)
    lines = (
        np.arange(len(frame)) + 2
        if line_numbers is None
        else np.asarray(list(line_numbers), dtype=int)
    )
    if len(lines) != len(frame):
        msg = f"'line_numbers' has {len(lines)} values for {len(frame)} rows; give one per row"
        raise ValueError(msg)
    ctx = _Context(frame, lines, known_codes)
    problems = _missing_columns(kind, frame)
    for check in _CHECKS[kind]:
        problems += check(ctx, kind)
    return sorted(problems, key=lambda p: -1 if p.line is None else p.line)


def raise_for_problems(problems: Sequence[RowProblem], *, what: str = "records") -> None:
    """Raise :class:`LayerValidationError` listing ``problems`` (if there are any)."""
    if problems:
        raise LayerValidationError(list(problems), what=what)


def _missing_columns(kind: str, frame: pd.DataFrame) -> list[RowProblem]:
    missing = [name for name in REQUIRED[kind] if name not in frame]
    if kind in SPATIAL_KINDS and not _has_location(frame):
        missing.append("geometry")
    return [
        RowProblem(None, name, "", f"a column named '{name}' (required for {kind})")
        for name in missing
    ]


def _has_location(frame: pd.DataFrame) -> bool:
    return "geometry" in frame or isinstance(frame, gpd.GeoDataFrame)


def _check_required(ctx: _Context, kind: str) -> list[RowProblem]:
    problems = []
    for name in REQUIRED[kind]:
        if name in ctx.frame:
            empty = ctx.text(name).isna()
            expected = "a non-empty name" if name == "name" else "a value (required)"
            problems += ctx.problems(empty, name, ctx.text(name), expected)
    return problems


def _check_vocabularies(ctx: _Context, kind: str) -> list[RowProblem]:
    checks = [("kind", _VOCABULARIES[kind]), ("location_precision", LOCATION_PRECISIONS)]
    if kind == "cooperation":
        checks.append(("area_type", AREA_TYPES))
    problems = []
    for name, allowed in checks:
        values = ctx.text(name)
        bad = values.notna() & ~values.isin(allowed)
        problems += ctx.problems(bad, name, values, f"one of {', '.join(allowed)}")
    return problems


def _bad_list_items(values: pd.Series, is_valid: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Rows of a ';'-separated list column with at least one invalid item."""
    items = values.dropna().str.split(";").explode().str.strip()
    items = items[items != ""]
    bad_rows = items[~is_valid(items)].index.unique()
    return pd.Series(values.index.isin(bad_rows), index=values.index)


def _check_expertise(ctx: _Context, kind: str) -> list[RowProblem]:
    values = ctx.text("expertise")
    bad = _bad_list_items(values, lambda items: items.isin(EXPERTISE))
    expected = f"';'-separated keys among {', '.join(EXPERTISE)}"
    return ctx.problems(bad, "expertise", values, expected)


def _check_perimeter(ctx: _Context, kind: str) -> list[RowProblem]:
    values = ctx.text("perimeter")
    pattern = rf"^(?:{'|'.join(PERIMETER_LEVELS)}):[0-9A-Za-z]+$"
    bad = _bad_list_items(values, lambda items: items.str.fullmatch(pattern))
    expected = (
        "';'-separated 'level:code' items with level in "
        f"{', '.join(PERIMETER_LEVELS)} (e.g. 'region:75;department:24')"
    )
    problems = ctx.problems(bad, "perimeter", values, expected)
    unknown = _bad_list_items(values.where(~bad), _known_perimeter_items)
    problems += ctx.problems(
        unknown, "perimeter", values, "codes present in the commune base (COG 2026)"
    )
    return problems


def _known_perimeter_items(items: pd.Series) -> pd.Series:
    level = items.str.split(":").str[0]
    code = items.str.split(":").str[1]
    known = pd.Series(False, index=items.index)
    for name in PERIMETER_LEVELS:
        here = level == name
        if here.any():
            known |= here & _isin(code, _base_codes(name))
    former = (level == "commune") & ~known  # a former code counts for its current commune
    if former.any():
        known |= former & _isin(code, _base_codes("former_commune"))
    return known


@functools.cache
def _base_codes_cached(level: str, data_dir: str, mtime: float) -> pa.Array:
    name = {
        "commune": "communes",
        "epci": "epci",
        "department": "departments",
        "region": "regions",
        "former_commune": "former_codes",
    }[level]
    column = "former_code" if level == "former_commune" else "code"
    table = communes.read_table(name, columns=[column], data_dir=Path(data_dir))
    codes = table[column].dropna().astype(str)
    return pa.array(sorted(set(codes)), pa.string())


def _base_codes(level: str) -> pa.Array:
    data_dir = get_settings().data_dir
    mtime = communes.base_file("communes", data_dir).stat().st_mtime
    return _base_codes_cached(level, str(data_dir), mtime)


def _number_expected(name: str, whole: bool) -> str:
    low, high, low_included = NUMBER_RANGES[name]
    if name == "year":
        return f"a whole year between {low} and {high}"
    unit = {"reach_km": " of kilometres", "reach_minutes": " of minutes"}.get(name, "")
    what = "a whole number" if whole else "a finite number"
    bounds = f"from {low} to {high}" if low_included else f"above {low} and at most {high}"
    return f"{what}{unit} {bounds}"


def _check_numbers(ctx: _Context, kind: str) -> list[RowProblem]:
    problems = []
    for name, type_name in COLUMNS[kind].items():
        if type_name == "str" or name not in ctx.frame:
            continue
        whole = type_name == "int"
        low, high, low_included = NUMBER_RANGES[name]
        text = ctx.text(name)
        numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
        values = numbers.fillna(0).to_numpy(dtype=float)
        ok = numbers.notna().to_numpy() & np.isfinite(values) & (values <= high)
        ok &= (values >= low) if low_included else (values > low)
        if whole:
            ok &= values == np.floor(values)
        expected = _number_expected(name, whole)
        problems += ctx.problems(text.notna().to_numpy() & ~ok, name, text, expected)
    return problems


def _check_dates(ctx: _Context, kind: str) -> list[RowProblem]:
    expected = "an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)"
    start_text, end_text = ctx.text("start"), ctx.text("end")
    start, end = _parse_dates(start_text), _parse_dates(end_text)
    first, last = DATE_YEAR_RANGE
    problems = []
    for name, text, stamps in (("start", start_text, start), ("end", end_text, end)):
        problems += ctx.problems(text.notna() & stamps.isna(), name, text, expected)
        outside = stamps.notna() & ~stamps.dt.year.between(first, last)
        problems += ctx.problems(outside, name, text, f"a date between {first} and {last}")
    start, end = (s.where(s.dt.year.between(first, last)) for s in (start, end))
    before = (end < start).fillna(False)
    problems += ctx.problems(
        before, "end", end_text, "a date not before start (" + start_text + ")"
    )
    undated = start_text.isna() & ctx.text("season").isna() & ctx.text("recurrence").isna()
    problems += ctx.problems(
        undated, "start", start_text, "a start date, a season or a recurrence (RRULE)"
    )
    return problems


def _check_recurrence(ctx: _Context, kind: str) -> list[RowProblem]:
    text = ctx.text("recurrence")
    rule = text.str.upper().str.removeprefix("RRULE:")
    ok = rule.str.fullmatch(r"(?:[A-Z]+=[^;=]+;)*[A-Z]+=[^;=]+") & rule.str.contains(
        r"(?:^|;)FREQ=(?:YEARLY|MONTHLY|WEEKLY|DAILY|HOURLY|MINUTELY|SECONDLY)(?:;|$)"
    )
    return ctx.problems(
        text.notna() & ~ok.fillna(False).astype(bool),
        "recurrence",
        text,
        "an iCalendar RRULE such as 'FREQ=WEEKLY;BYDAY=SA'",
    )


def _inside(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(lon), dtype=bool)
    for lon_min, lat_min, lon_max, lat_max in FRANCE_BOXES.values():
        inside |= (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)
    return inside


def _check_points(ctx: _Context, kind: str) -> list[RowProblem]:
    if not _has_location(ctx.frame):
        return []
    geometry = _geometry_of(ctx.frame).to_numpy()
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    problems = []
    if kind in SPATIAL_KINDS:
        problems += ctx.problems(
            missing,
            "geometry",
            np.full(len(geometry), None),
            "a point (lon/lat, an address or an INSEE code)",
        )
    points = np.asarray(shapely.get_type_id(geometry) == 0) & ~missing
    problems += ctx.problems(
        ~missing & ~points,
        "geometry",
        lambda rows: shapely.to_wkt(geometry[rows]),
        "a Point geometry",
    )
    lon, lat = shapely.get_x(geometry), shapely.get_y(geometry)
    outside = points & ~_inside(lon, lat)
    swapped = outside & _inside(lat, lon)
    base = "a point inside France (metropolitan or overseas departments)"
    expected = np.where(swapped, base + "; lat/lon look swapped", base)
    return problems + ctx.problems(
        outside,
        "geometry",
        lambda rows: [
            f"lon={x:.6g}, lat={y:.6g}" for x, y in zip(lon[rows], lat[rows], strict=True)
        ],
        expected,
    )


def _check_codes(ctx: _Context, kind: str) -> list[RowProblem]:
    expected = "a current INSEE commune code present in the commune base (COG 2026)"
    fields = [("commune_code", ctx.text("commune_code"))]
    if kind == "cooperation":
        code, area = ctx.text("area_code"), ctx.text("area_type")
        fields.append(("area_code", code.where(area == "commune")))
    problems = []
    for name, values in fields:
        if values.notna().any():
            known = ctx.known_codes if ctx.known_codes is not None else _base_codes("commune")
            bad = values.notna() & ~_isin(values, known)
            problems += ctx.problems(bad, name, values, expected)
    if kind == "cooperation":
        epci = ctx.text("area_code").where(ctx.text("area_type") == "epci")
        if epci.notna().any():
            bad = epci.notna() & ~_isin(epci, _base_codes("epci"))
            problems += ctx.problems(
                bad, "area_code", epci, "an EPCI SIREN code present in the commune base"
            )
    return problems


def _check_ids(ctx: _Context, kind: str) -> list[RowProblem]:
    ids = ctx.text("id")
    repeated = ids.notna() & ids.duplicated(keep="first")
    if not repeated.any():
        return []
    first_line = pd.Series(ctx.lines).groupby(ids).transform("min")

    def expected(rows: np.ndarray) -> list[str]:
        return [
            f"an id unique within the layer (already used on line {int(n)})"
            for n in first_line.iloc[rows]
        ]

    return ctx.problems(repeated, "id", ids, expected)


_COMMON_CHECKS = (
    _check_required,
    _check_vocabularies,
    _check_numbers,
    _check_points,
    _check_codes,
    _check_ids,
)
_CHECKS: dict[str, tuple[Callable[[_Context, str], list[RowProblem]], ...]] = {
    "providers": (*_COMMON_CHECKS, _check_expertise, _check_perimeter),
    "places": _COMMON_CHECKS,
    "events": (*_COMMON_CHECKS, _check_dates, _check_recurrence),
    "cooperation": _COMMON_CHECKS,
}
