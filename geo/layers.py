"""Schema of the programme layers: providers, places, events and cooperation records.

Four layers sit on the map beside the communes. This module says what a record of
each looks like (:data:`COLUMNS`, the vocabularies and their French labels), builds
empty layers (:func:`empty_layer`), brings any frame to the schema
(:func:`conform`) and checks records before they are stored
(:func:`validate_records`). Checks are vectorised so that a 100,000-row import is
validated in well under a second.

Examples
--------
>>> empty_layer("events").columns[:4].tolist()
['id', 'source', 'source_id', 'location_precision']
>>> str(RowProblem(7, "start", "2024-13-01", "an ISO date (YYYY-MM-DD)"))
"line 7, field 'start': got '2024-13-01', expected an ISO date (YYYY-MM-DD)"
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Collection, Sequence

import dateutil.rrule
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely

from geo import communes
from geo._config import get_options
from geo._errors import InvalidParameterError, LayerValidationError, UnknownLayerError
from geo._text import normalise_place

LAYER_KINDS = ("providers", "places", "events", "cooperation")
CRS = "EPSG:4326"

LOCATION_PRECISIONS = ("exact", "address", "townhall", "centroid")
PROVIDER_KINDS = (
    "incubator",
    "cae",
    "association",
    "consular_chamber",
    "financing_network",
    "public_agency",
    "cooperative",
    "other",
)
EXPERTISE = (
    "social_economy",
    "collective_projects",
    "citizen_mobilisation",
    "food_resilience",
    "town_centre_revitalisation",
    "third_places",
    "financing",
    "business_creation",
    "sector_structuring",
    "housing",
    "culture",
    "other",
)
PERIMETER_LEVELS = ("commune", "epci", "department", "region")
PLACE_KINDS = (
    "coworking",
    "tiers_lieu",
    "associative_cafe",
    "fablab",
    "marketplace",
    "community_hall",
    "other",
)
EVENT_KINDS = (
    "fair",
    "trade_show",
    "market",
    "festival",
    "networking",
    "residency",
    "workshop",
    "other",
)
AREA_TYPES = ("commune", "epci")
COOPERATION_KINDS = (
    "citizen_residency",
    "accompanied_collective",
    "partnership_convention",
    "sector_structuring",
    "networking_series",
    "training_cycle",
    "other",
)

#: French labels of every vocabulary value, for the user interface.
LABELS_FR: dict[str, dict[str, str]] = {
    "layers": {
        "providers": "Structures d'accompagnement",
        "places": "Lieux",
        "events": "Événements",
        "cooperation": "Historique de coopération",
    },
    "location_precision": {
        "exact": "point exact",
        "address": "adresse",
        "townhall": "mairie de la commune",
        "centroid": "centre de la commune",
    },
    "providers.kind": {
        "incubator": "incubateur",
        "cae": "coopérative d'activité et d'emploi (CAE)",
        "association": "association",
        "consular_chamber": "chambre consulaire",
        "financing_network": "réseau de financement",
        "public_agency": "organisme public",
        "cooperative": "coopérative",
        "other": "autre",
    },
    "expertise": {
        "social_economy": "économie sociale et solidaire (ESS)",
        "collective_projects": "projets collectifs",
        "citizen_mobilisation": "mobilisation citoyenne",
        "food_resilience": "résilience alimentaire",
        "town_centre_revitalisation": "revitalisation des centres-bourgs",
        "third_places": "lien social et tiers-lieux",
        "financing": "financement",
        "business_creation": "création d'entreprise",
        "sector_structuring": "structuration de filière",
        "housing": "habitat",
        "culture": "culture",
        "other": "autre",
    },
    "perimeter": {
        "commune": "commune",
        "epci": "intercommunalité (EPCI)",
        "department": "département",
        "region": "région",
    },
    "places.kind": {
        "coworking": "espace de coworking",
        "tiers_lieu": "tiers-lieu",
        "associative_cafe": "café associatif",
        "fablab": "fab-lab",
        "marketplace": "halle ou place de marché",
        "community_hall": "salle des fêtes ou maison des associations",
        "other": "autre",
    },
    "events.kind": {
        "fair": "foire",
        "trade_show": "salon",
        "market": "marché",
        "festival": "festival",
        "networking": "rencontre réseau",
        "residency": "résidence",
        "workshop": "atelier",
        "other": "autre",
    },
    "area_type": {"commune": "commune", "epci": "intercommunalité (EPCI)"},
    "cooperation.kind": {
        "citizen_residency": "résidence citoyenne",
        "accompanied_collective": "collectif accompagné",
        "partnership_convention": "convention de partenariat",
        "sector_structuring": "structuration de filière",
        "networking_series": "cycle de rencontres",
        "training_cycle": "cycle de formation",
        "other": "autre",
    },
}

_COMMON = {
    "id": "str",
    "source": "str",
    "source_id": "str",
    "location_precision": "str",
    "commune_code": "str",
}
#: Columns of each layer (without ``geometry``) and their type: str, float or int.
COLUMNS: dict[str, dict[str, str]] = {
    "providers": _COMMON
    | {
        "name": "str",
        "kind": "str",
        "expertise": "str",
        "address": "str",
        "perimeter": "str",
        "reach_km": "float",
        "reach_minutes": "float",
        "website": "str",
    },
    "places": _COMMON
    | {"name": "str", "kind": "str", "address": "str", "opening_notes": "str", "website": "str"},
    "events": _COMMON
    | {
        "name": "str",
        "kind": "str",
        "start": "str",
        "end": "str",
        "recurrence": "str",
        "season": "str",
        "organiser": "str",
        "url": "str",
        "expected_audience": "int",
        "address": "str",
    },
    "cooperation": _COMMON
    | {
        "area_type": "str",
        "area_code": "str",
        "year": "int",
        "kind": "str",
        "provider_id": "str",
        "note": "str",
    },
}
#: Fields every record must fill (``id`` is generated when absent).
REQUIRED: dict[str, tuple[str, ...]] = {
    "providers": ("source", "name", "kind"),  # no reach: covers its whole perimeter
    "places": ("source", "name", "kind"),
    "events": ("source", "name", "kind"),
    "cooperation": ("source", "area_type", "area_code", "year", "kind"),
}
#: Layers whose records must have a point.
SPATIAL_KINDS = ("providers", "places", "events")
_VOCABULARIES = {
    "providers": PROVIDER_KINDS,
    "places": PLACE_KINDS,
    "events": EVENT_KINDS,
    "cooperation": COOPERATION_KINDS,
}

#: Boxes (lon_min, lat_min, lon_max, lat_max) around metropolitan France and each DROM.
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "metropolitan France and Corsica": (-5.3, 41.3, 9.7, 51.2),
    "Guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "Martinique": (-61.3, 14.3, -60.7, 14.95),
    "Guyane": (-54.7, 2.0, -51.5, 5.9),
    "La Réunion": (55.1, -21.5, 55.9, -20.8),
    "Mayotte": (44.9, -13.1, 45.4, -12.5),
}
YEAR_RANGE = (1950, 2100)
_MAX_SHOWN = 20


@dataclasses.dataclass(frozen=True)
class RowProblem:
    """One invalid value: where it is, what it was and what was expected.

    ``line`` is the line number as the user sees it in the file (header = line 1),
    or ``None`` for a problem of the whole file (a missing column).
    """

    line: int | None
    field: str
    value: str
    expected: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        return f"{where}field '{self.field}': got '{self.value}', expected {self.expected}"


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a layer name, else raise :class:`UnknownLayerError`."""
    if kind not in LAYER_KINDS:
        msg = f"unknown layer {kind!r}; expected one of {', '.join(LAYER_KINDS)}"
        raise UnknownLayerError(msg)
    return kind


def layer_columns(kind: str) -> list[str]:
    """Column names of a layer, ``geometry`` last."""
    return [*COLUMNS[check_kind(kind)], "geometry"]


def _dtype(type_name: str) -> str:
    return {"str": "object", "float": "float64", "int": "Int64"}[type_name]


def empty_layer(kind: str) -> gpd.GeoDataFrame:
    """An empty layer with the schema's columns and dtypes, in EPSG:4326.

    Parameters
    ----------
    kind
        One of :data:`LAYER_KINDS`.

    Raises
    ------
    UnknownLayerError
        ``kind`` is not a layer name.

    Examples
    --------
    >>> layer = empty_layer("providers")
    >>> layer["reach_km"].dtype, layer.crs.to_epsg()
    (dtype('float64'), 4326)
    """
    data = {name: pd.Series([], dtype=_dtype(t)) for name, t in COLUMNS[check_kind(kind)].items()}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=CRS), crs=CRS)


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text (pandas ``str`` dtype), missing when blank, dates in ISO form."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred == "floating":
        numbers = values.astype("float64")
        whole = numbers.notna() & (numbers == np.floor(numbers.fillna(0)))
        integers = numbers.where(whole).astype("Int64").astype("str")
        text = numbers.astype("str").where(~whole, integers)
        text = text.where(numbers.notna())
    elif inferred in ("string", "empty", "integer", "boolean"):
        text = values.astype("str").where(values.notna())
    else:
        text = values.map(_plain_text, na_action="ignore").astype("str")
    stripped = text.astype("str").str.strip()
    return stripped.where(stripped != "")


def _plain_text(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_objects(text: pd.Series) -> pd.Series:
    return pd.Series(text.to_numpy(dtype=object, na_value=None), index=text.index, dtype=object)


def conform(kind: str, frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Bring a frame to the layer's schema: every column, typed, unknown columns dropped.

    Text columns become stripped strings (``None`` when blank; dates in ISO form),
    numbers become floats or nullable integers (unparsable values become missing:
    run :func:`validate_records` first to report them). A frame without geometry
    gets empty points.

    Parameters
    ----------
    kind
        One of :data:`LAYER_KINDS`.
    frame
        Records, a DataFrame or GeoDataFrame (reprojected to EPSG:4326 if needed).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :func:`layer_columns`, with a fresh RangeIndex.
    """
    columns = COLUMNS[check_kind(kind)]
    geometry = _geometry_of(frame)
    data = {}
    for name, type_name in columns.items():
        values = frame[name] if name in frame else pd.Series([None] * len(frame), dtype=object)
        data[name] = _convert(values.reset_index(drop=True), type_name)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=CRS)


def _geometry_of(frame: pd.DataFrame) -> gpd.GeoSeries:
    if isinstance(frame, gpd.GeoDataFrame) and frame.active_geometry_name is not None:
        geometry = frame.geometry
        if geometry.crs is not None and geometry.crs != CRS:
            geometry = geometry.to_crs(CRS)
        return gpd.GeoSeries(geometry.to_numpy(), crs=CRS)
    if "geometry" in frame:
        return gpd.GeoSeries(frame["geometry"].to_numpy(), crs=CRS)
    return gpd.GeoSeries([None] * len(frame), crs=CRS)


def _convert(values: pd.Series, type_name: str) -> pd.Series:
    if type_name == "str":
        return _to_objects(_as_text(values))
    numbers = pd.to_numeric(_as_text(values), errors="coerce")
    if type_name == "float":
        return numbers.astype("float64")
    whole = numbers.where(numbers.isna() | (numbers == np.floor(numbers)))
    return whole.astype("Float64").astype("Int64")


# --- validation -------------------------------------------------------------------------


@dataclasses.dataclass
class _Context:
    """What the checks share: the text of each column and the line of each row."""

    frame: pd.DataFrame
    lines: np.ndarray
    known_codes: Collection[str] | None

    cache: dict[str, pd.Series] = dataclasses.field(default_factory=dict)

    def text(self, name: str) -> pd.Series:
        if name not in self.cache:
            values = (
                self.frame[name].reset_index(drop=True)
                if name in self.frame
                else pd.Series([None] * len(self.frame), dtype=object)
            )
            self.cache[name] = _as_text(values)
        return self.cache[name]

    def problems(
        self, mask: pd.Series | np.ndarray, field: str, values: _Values, expected: str | _Values
    ) -> list[RowProblem]:
        """One problem per row where ``mask`` is true; values are only built for those rows."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(rows):
            return []
        shown = _pick(values, rows)
        wanted = [expected] * len(rows) if isinstance(expected, str) else _pick(expected, rows)
        return [
            RowProblem(int(self.lines[i]), field, _shown(value), want)
            for i, value, want in zip(rows, shown, wanted, strict=True)
        ]


_Values = pd.Series | np.ndarray | Callable[[np.ndarray], Sequence[object]]


def _pick(values: _Values, rows: np.ndarray) -> list[object]:
    if callable(values):
        return list(values(rows))
    if isinstance(values, pd.Series):
        return values.iloc[rows].to_list()
    return list(values[rows])


def _isin(text: pd.Series, allowed: Collection[str]) -> pd.Series:
    """Vectorised membership of a ``str`` Series in a (possibly large) set of strings."""
    value_set = allowed if isinstance(allowed, pa.Array) else pa.array(list(allowed), pa.string())
    data = pa.array(text.to_numpy(dtype=object, na_value=None), pa.string())
    found = pc.is_in(data, value_set=value_set).to_numpy(zero_copy_only=False)
    return pd.Series(found, index=text.index)


def _shown(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return _plain_text(value)


def validate_records(
    kind: str,
    frame: pd.DataFrame,
    *,
    line_numbers: Sequence[int] | None = None,
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
        raise LayerValidationError(problems, what=what)


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
    table = pq.read_table(communes.base_file(name, data_dir), columns=[column])
    codes = table.column(column).to_pandas().dropna().astype(str)
    return pa.array(sorted(set(codes)), pa.string())


def _base_codes(level: str) -> pa.Array:
    data_dir = get_options().data_dir
    mtime = communes.base_file("communes", data_dir).stat().st_mtime
    return _base_codes_cached(level, str(data_dir), mtime)


#: Accepted range of each number field: (lowest, highest, lowest included).
NUMBER_RANGES: dict[str, tuple[float, float, bool]] = {
    "reach_km": (0, 2_000, False),
    "reach_minutes": (0, 1_440, False),
    "expected_audience": (0, 100_000_000, True),
    "year": (YEAR_RANGE[0], YEAR_RANGE[1], True),
}
#: Years accepted in event dates.
DATE_YEAR_RANGE = (1900, 2100)


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


def _parse_dates(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)


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


# --- event dates ------------------------------------------------------------------------

_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
}
_DAY_MONTH = re.compile(rf"(?:\b(\d{{1,2}})(?:er)?\s+)?\b({'|'.join(_MONTHS)})\b")


def parse_date_bound(value: str | dt.date | None, *, name: str) -> pd.Timestamp | None:
    """Parse a window bound (ISO text, date or datetime) to a day, or raise naming ``name``."""
    if value is None or value == "":
        return None
    stamp = pd.to_datetime(pd.Series([value]).astype(str), format="ISO8601", errors="coerce")[0]
    if pd.isna(stamp):
        msg = f"'{name}' should be an ISO date (YYYY-MM-DD), got {value!r}"
        raise InvalidParameterError(msg)
    return stamp.tz_localize(None).normalize() if stamp.tzinfo else stamp.normalize()


def season_days(season: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Yearly (month, day) span named in a season text, or ``None`` when none is found.

    Examples
    --------
    >>> season_days("Saison (21 juin - 5 septembre)")
    ((6, 21), (9, 5))
    >>> season_days("juillet-août")
    ((7, 1), (8, 31))
    >>> season_days("printemps") is None
    True
    """
    found = _DAY_MONTH.findall(normalise_place(season))
    if not found:
        return None
    (first_day, first_month), (last_day, last_month) = found[0], found[-1]
    month_1, month_2 = _MONTHS[first_month], _MONTHS[last_month]
    day_2 = int(last_day) if last_day else calendar.monthrange(2001, month_2)[1]
    return (month_1, int(first_day) if first_day else 1), (month_2, day_2)


def _day(year: int, month_day: tuple[int, int]) -> pd.Timestamp:
    month, day = month_day
    return pd.Timestamp(year, month, min(day, calendar.monthrange(year, month)[1]))


def _season_overlaps(season: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> bool:
    span = season_days(season)
    if span is None or start is None or end is None or (end - start).days >= 366:
        return True
    for year in range(start.year - 1, end.year + 1):
        first = _day(year, span[0])
        last = _day(year + (span[1] < span[0]), span[1])
        if first <= end and last >= start:
            return True
    return False


def _recurrence_overlaps(
    rule: str,
    first: pd.Timestamp | None,
    length: pd.Timedelta,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> bool:
    origin = first if first is not None else (start or pd.Timestamp.now().normalize())
    try:
        occurrences = dateutil.rrule.rrulestr(
            rule.removeprefix("RRULE:"), dtstart=origin.to_pydatetime()
        )
    except (ValueError, TypeError):
        return True
    after = (start - length) if start is not None else origin
    following = occurrences.after(after.to_pydatetime(), inc=True)
    return following is not None and (end is None or following <= end.to_pydatetime())


def events_in_window(
    events: pd.DataFrame, *, start: str | dt.date | None = None, end: str | dt.date | None = None
) -> pd.Series:
    """Which events take place, at least partly, between two days (both included).

    Dated events overlap the window by their ``start``/``end`` days (``end``
    defaults to ``start``). Recurring events match when one occurrence of their
    RRULE (from ``start``, or from the window start when undated) falls inside.
    Seasonal events match when the yearly span named in ``season`` ("21 juin -
    5 septembre", "juillet-août") overlaps the window in some year; a season text
    without a recognisable month is kept, as nothing says it does not apply.

    Parameters
    ----------
    events
        Frame with ``start``, ``end``, ``recurrence`` and ``season`` columns.
    start, end
        Window bounds as ISO text or dates; ``None`` leaves that side open.

    Returns
    -------
    pandas.Series
        Booleans aligned on ``events.index``.
    """
    first, last = parse_date_bound(start, name="start"), parse_date_bound(end, name="end")
    begins = _day_of(events["start"])
    ends = _day_of(events["end"]).fillna(begins)
    dated = begins.notna()
    keep = dated.copy()
    if last is not None:
        keep &= begins <= last
    if first is not None:
        keep &= ends >= first
    rule = _as_text(events["recurrence"].reset_index(drop=True))
    season = _as_text(events["season"].reset_index(drop=True))
    result = pd.Series(np.asarray(keep & rule.isna().to_numpy(), dtype=bool), index=events.index)
    for i in np.flatnonzero(rule.notna().to_numpy()):
        origin = None if pd.isna(begins.iloc[i]) else begins.iloc[i]
        length = (ends.iloc[i] - begins.iloc[i]) if origin is not None else pd.Timedelta(0)
        result.iloc[i] = _recurrence_overlaps(rule.iloc[i], origin, length, first, last)
    for i in np.flatnonzero((season.notna() & rule.isna()).to_numpy() & ~dated.to_numpy()):
        result.iloc[i] = _season_overlaps(season.iloc[i], first, last)
    return result


def _day_of(values: pd.Series) -> pd.Series:
    stamps = _parse_dates(_as_text(values.reset_index(drop=True)))
    return pd.Series(stamps.dt.tz_localize(None).dt.normalize().to_numpy(), index=values.index)
