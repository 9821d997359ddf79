"""Give every imported row a point, a location precision and a commune code.

In order of preference: the file's own geometry (GeoJSON, GeoPackage, iCalendar
``GEO``) or ``lon``/``lat`` columns or one ``"lat, lon"`` column → ``exact``; the
online address geocoder when configured and the row has an address → ``address``;
an INSEE code (former codes of merged communes are mapped to the current commune)
→ the town hall, ``townhall``; a postcode and/or commune name → the commune's town
hall, ``townhall``. Exact points without a commune code get the commune they fall
in (one spatial query for all rows).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import communes, geocoding
from geo.layers import RowProblem

_NUMBER = r"-?\d+(?:[.,]\d+)?"
_LATLON = rf"^\s*\(?\s*({_NUMBER})\s*[,; ]\s*({_NUMBER})\s*\)?\s*$"
_MAX_FILTERED_DEPARTMENTS = 20
_LOCATION_EXPECTED = (
    "lon/lat columns, a 'lat, lon' column, an INSEE commune code, or a postcode and commune name"
)


@dataclasses.dataclass
class Located:
    """Result of :func:`locate`, aligned with the input rows."""

    lon: np.ndarray
    lat: np.ndarray
    precision: np.ndarray
    commune_code: np.ndarray
    problems: list[RowProblem]

    def geometry(self) -> np.ndarray:
        """Points (None where the row could not be placed)."""
        points = shapely.points(self.lon, self.lat)
        points[np.isnan(self.lon) | np.isnan(self.lat)] = None
        return points


def _text(table: pd.DataFrame, name: str) -> pd.Series:
    """Stripped text of a column (pandas ``str`` dtype), missing where absent or blank."""
    if name not in table:
        return pd.Series(pd.NA, index=table.index, dtype="str")
    stripped = table[name].astype("str").str.strip()
    return stripped.mask(stripped == "")


def _numbers(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")


class _Work:
    """Mutable state while locating: coordinates, precision and problems so far."""

    def __init__(self, table: pd.DataFrame, lines: np.ndarray) -> None:
        n = len(table)
        self.table, self.lines = table, lines
        self.lon, self.lat = np.full(n, np.nan), np.full(n, np.nan)
        self.precision = np.full(n, None, dtype=object)
        self.code = np.full(n, None, dtype=object)
        self.failed = np.zeros(n, dtype=bool)
        self.problems: list[RowProblem] = []

    @property
    def placed(self) -> np.ndarray:
        return ~np.isnan(self.lon)

    def set_points(
        self, mask: np.ndarray, lon: np.ndarray, lat: np.ndarray, precision: str
    ) -> None:
        mask = mask & ~self.placed & np.isfinite(lon) & np.isfinite(lat)
        self.lon[mask], self.lat[mask] = lon[mask], lat[mask]
        self.precision[mask] = precision

    def report(
        self,
        mask: np.ndarray,
        field: str,
        values: pd.Series | np.ndarray,
        expected: str | list[str],
    ) -> None:
        values = np.asarray(values, dtype=object)
        for i in np.flatnonzero(mask):
            text = "" if values[i] is None else str(values[i])
            what = expected if isinstance(expected, str) else expected[i]
            self.problems.append(RowProblem(int(self.lines[i]), field, text, what))
        self.failed |= mask


def locate(
    table: pd.DataFrame,
    lines: np.ndarray,
    *,
    geometry: gpd.GeoSeries | None = None,
    geocoder: geocoding.AddressGeocoder | None = None,
    data_dir: Path | None = None,
    required: bool = True,
) -> Located:
    """Place each row of a mapped import table (see the module docstring for the order).

    Parameters
    ----------
    table
        Rows with target columns (``lon``, ``lat``, ``latlon``, ``commune_code``,
        ``postcode``, ``city``, ``address`` are used when present).
    lines
        Line (or feature) number of each row, for problems.
    geometry
        Geometries read from the file (EPSG:4326), aligned with ``table``.
    geocoder
        Online address geocoder, or None for offline only.
    data_dir
        Folder of the commune base.
    required
        Report rows that cannot be placed (false for non-spatial layers).

    Returns
    -------
    Located
        Coordinates, precision, commune code and the problems found.
    """
    work = _Work(table.reset_index(drop=True), np.asarray(lines))
    if geometry is not None:
        _from_geometry(work, geometry)
    _from_lonlat(work)
    _from_latlon(work)
    if geocoder is not None:
        _from_geocoder(work, geocoder, data_dir)
    _from_codes(work, data_dir)
    _from_postcodes(work, data_dir)
    if required:
        missing = ~work.placed & ~work.failed
        work.report(missing, "geometry", np.full(len(missing), None), _LOCATION_EXPECTED)
    _fill_codes(work, data_dir)
    return Located(work.lon, work.lat, work.precision, work.code, work.problems)


def _from_geometry(work: _Work, geometry: gpd.GeoSeries) -> None:
    values = geometry.to_numpy()
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    points = values.copy()
    points[~present] = None
    not_point = present & (shapely.get_type_id(values) != 0)
    if not_point.any():
        points[not_point] = shapely.point_on_surface(values[not_point])
    work.set_points(
        present, shapely.get_x(points).astype(float), shapely.get_y(points).astype(float), "exact"
    )


def _from_lonlat(work: _Work) -> None:
    if "lon" not in work.table or "lat" not in work.table:
        return
    lon_text, lat_text = _text(work.table, "lon"), _text(work.table, "lat")
    lon, lat = _numbers(lon_text), _numbers(lat_text)
    for name, text, value in (("lon", lon_text, lon), ("lat", lat_text, lat)):
        bad = (text.notna() & ~np.isfinite(value.fillna(np.nan))).to_numpy()
        work.report(
            bad,
            name,
            text,
            f"a finite decimal {'longitude' if name == 'lon' else 'latitude'}"
            " in degrees (WGS84), e.g. 5.6279",
        )
    projected = ((lon.abs() > 1000) & (lat.abs() > 1000)).to_numpy()
    shown = lon_text.fillna("") + ", " + lat_text.fillna("")
    work.report(
        projected,
        "lon",
        shown,
        "longitude/latitude in degrees (WGS84); these look like "
        "projected metres (Lambert-93?): convert them or import a GeoPackage",
    )
    ok = ~projected
    work.set_points(ok, lon.to_numpy(dtype=float), lat.to_numpy(dtype=float), "exact")


def _from_latlon(work: _Work) -> None:
    if "latlon" not in work.table:
        return
    text = _text(work.table, "latlon")
    parts = text.str.extract(_LATLON)
    lat, lon = _numbers(parts[0]), _numbers(parts[1])
    bad = (text.notna() & (lat.isna() | lon.isna())).to_numpy()
    work.report(bad, "latlon", text, "'latitude, longitude' in degrees, e.g. '46.8747, 5.6279'")
    work.set_points(~bad, lon.to_numpy(dtype=float), lat.to_numpy(dtype=float), "exact")


def _from_codes(work: _Work, data_dir: Path | None) -> None:
    if "commune_code" not in work.table:
        return
    text = _text(work.table, "commune_code")
    current = communes.to_current_codes(text, data_dir=data_dir)
    unknown = (text.notna() & current.isna()).to_numpy()
    work.report(
        unknown,
        "commune_code",
        text,
        "an INSEE commune code of the commune base (COG 2026, or a former code of a "
        "merged commune)",
    )
    known = current.notna().to_numpy()
    work.code[known] = current[known].to_numpy()
    points = geocoding.townhall_points(current.fillna(""), data_dir=data_dir)
    work.set_points(known, points["lon"].to_numpy(), points["lat"].to_numpy(), "townhall")


def _from_geocoder(work: _Work, geocoder: geocoding.AddressGeocoder, data_dir: Path | None) -> None:
    address = _text(work.table, "address")
    todo = address.notna().to_numpy() & ~work.placed & ~work.failed
    if not todo.any():
        return
    rows = pd.DataFrame(
        {
            "address": address,
            "postcode": _text(work.table, "postcode"),
            "city": _text(work.table, "city"),
        }
    )[todo]
    found = geocoder.geocode(rows)
    lon, lat = np.full(len(todo), np.nan), np.full(len(todo), np.nan)
    lon[todo], lat[todo] = found["lon"].to_numpy(dtype=float), found["lat"].to_numpy(dtype=float)
    work.set_points(todo, lon, lat, "address")
    codes = np.full(len(todo), None, dtype=object)
    # Only current INSEE codes of the base (not e.g. municipal arrondissements); the
    # others are found from the point like any exact point.
    codes[todo] = communes.to_current_codes(found["code"], data_dir=data_dir).to_numpy()
    fill = todo & work.placed & pd.notna(codes)
    work.code[fill] = codes[fill]


def _from_postcodes(work: _Work, data_dir: Path | None) -> None:
    postcode, city = _text(work.table, "postcode"), _text(work.table, "city")
    rows = np.flatnonzero(
        (postcode.notna() | city.notna()).to_numpy() & ~work.placed & ~work.failed
    )
    if len(rows) == 0:
        return
    found = geocoding.locate_communes(postcode.iloc[rows], city.iloc[rows], data_dir=data_dir)
    problem = found["problem"].to_numpy(dtype=object)
    bad = pd.notna(problem)
    shown = (postcode.fillna("") + " " + city.fillna("")).str.strip().to_numpy()
    for i, what in zip(rows[bad], problem[bad], strict=True):
        field = "postcode" if pd.notna(postcode.iloc[i]) else "city"
        work.problems.append(RowProblem(int(work.lines[i]), field, shown[i], str(what)))
    work.failed[rows[bad]] = True
    good = rows[~bad]
    lon, lat = np.full(len(work.lon), np.nan), np.full(len(work.lon), np.nan)
    lon[good] = found["lon"].to_numpy(dtype=float)[~bad]
    lat[good] = found["lat"].to_numpy(dtype=float)[~bad]
    work.code[good] = found["code"].to_numpy(dtype=object)[~bad]
    mask = np.zeros(len(work.lon), dtype=bool)
    mask[good] = True
    work.set_points(mask, lon, lat, "townhall")


def _fill_codes(work: _Work, data_dir: Path | None) -> None:
    todo = np.flatnonzero(work.placed & ~work.failed & (work.code == None))  # noqa: E711
    if len(todo) == 0:
        return
    points = shapely.points(work.lon[todo], work.lat[todo])
    polygons = _commune_polygons(work.lon[todo], work.lat[todo], data_dir)
    if polygons.empty:
        return
    shapes = polygons.geometry.to_numpy()
    shapely.prepare(shapes)
    # A tree of the points queried by the (prepared) polygons is the faster direction.
    poly_idx, point_idx = shapely.STRtree(points).query(shapes, predicate="contains")
    first = pd.Series(poly_idx, index=point_idx).groupby(level=0).first()
    work.code[todo[first.index.to_numpy()]] = polygons["code"].to_numpy()[first.to_numpy()]


def _load_polygons(departments: tuple[str, ...] | None, data_dir: Path | None) -> gpd.GeoDataFrame:
    """Commune polygons of some departments (all when None), from the shared cached table."""
    frame = communes.read_table(
        "communes", columns=("code", "department_code", "geometry"), data_dir=data_dir
    )  # shared: filtered into new frames, never modified
    if departments is None:
        return frame
    return frame[frame["department_code"].isin(departments).to_numpy()]


def _commune_polygons(lon: np.ndarray, lat: np.ndarray, data_dir: Path | None) -> gpd.GeoDataFrame:
    """Communes of the departments around the points (only those row groups are read)."""
    cells = np.unique(np.round(np.column_stack([lon, lat]), 2), axis=0)  # ~1 km cells
    probe = cells[:: max(1, len(cells) // 2000)]
    departments = geocoding.nearby_departments(probe[:, 0], probe[:, 1], data_dir=data_dir)
    if len(probe) < len(cells) and len(departments) <= _MAX_FILTERED_DEPARTMENTS:
        departments = geocoding.nearby_departments(cells[:, 0], cells[:, 1], data_dir=data_dir)
    # beyond _MAX_FILTERED_DEPARTMENTS, reading everything is faster
    few = len(departments) <= _MAX_FILTERED_DEPARTMENTS
    key = tuple(sorted(departments)) if few else None
    frame = _load_polygons(key, data_dir)
    return frame.cx[lon.min() : lon.max(), lat.min() : lat.max()]
