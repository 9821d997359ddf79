"""Third places, coworking spaces, community halls and marketplaces from OpenStreetMap.

Features are fetched with osmnx (:func:`osmnx.features_from_polygon`, Overpass API)
inside the polygon of a department or EPCI of the commune base, or read from a local
``.osm`` XML file (:func:`osmnx.features_from_xml`), then mapped to ``places``
records (:func:`features_to_places`).

Tags fetched (:data:`PLACE_TAGS`) and the place kind each gives (:data:`KIND_BY_TAG`):

=============================  ===============  ==============================================
tag                            kind             why
=============================  ===============  ==============================================
``amenity=coworking_space``    coworking        the established coworking tag
``office=coworking``           coworking        older tagging, still common in France
``amenity=community_centre``   community_hall   salles des fêtes, maisons des associations
``amenity=social_centre``      tiers_lieu       not-for-profit social and activity spaces,
                                                how many French tiers-lieux are tagged
``leisure=hackerspace``        fablab           fab-labs and makerspaces
``amenity=marketplace``        marketplace      market halls and market squares
=============================  ===============  ==============================================

Associative cafés have no tag of their own (``amenity=cafe`` would bring every café),
so they are left to curated data and file imports. Ways and relations become their
point on surface; features without a ``name`` are skipped (and counted), since a
place needs a name. Records get ``source="osm"`` and ``source_id`` ``"node/123"``,
``"way/45"``... so a second fetch adds nothing twice.

The Overpass endpoint is osmnx's setting ``osmnx.settings.overpass_url``.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo import communes
from geo._errors import DataSourceError, ImportFileError, InvalidParameterError
from geo.layers import conform
from geo.store import AddResult, Store

#: OSM tags fetched, in osmnx's ``tags`` form.
PLACE_TAGS: dict[str, list[str]] = {
    "amenity": ["coworking_space", "community_centre", "social_centre", "marketplace"],
    "office": ["coworking"],
    "leisure": ["hackerspace"],
}
#: Place kind of each ``(key, value)`` tag, in order of precedence.
KIND_BY_TAG: tuple[tuple[str, str, str], ...] = (
    ("amenity", "coworking_space", "coworking"),
    ("office", "coworking", "coworking"),
    ("leisure", "hackerspace", "fablab"),
    ("amenity", "social_centre", "tiers_lieu"),
    ("amenity", "marketplace", "marketplace"),
    ("amenity", "community_centre", "community_hall"),
)
#: Simplification tolerance of the area polygon sent to Overpass, in degrees (~100 m),
#: applied after a buffer of the same size so that nothing on the border is lost.
POLYGON_TOLERANCE_DEG = 0.001


@dataclasses.dataclass(frozen=True)
class OsmPlaces:
    """Places found in OpenStreetMap.

    Attributes
    ----------
    places
        Records of the ``places`` layer.
    features
        Matching OSM features found (named or not).
    unnamed
        Features skipped because they have no ``name`` tag.
    """

    places: gpd.GeoDataFrame
    features: int
    unnamed: int


_AREA_LAYERS = {"department": "departments", "epci": "epci"}


def area_polygon(level: str, code: str, *, data_dir: Path | None = None) -> BaseGeometry:
    """Polygon of a department or EPCI of the commune base, buffered and simplified for Overpass.

    Parameters
    ----------
    level
        ``"department"`` or ``"epci"``.
    code
        Department code (``"19"``, ``"2A"``) or EPCI SIREN code.

    Raises
    ------
    InvalidParameterError
        ``code`` is not a code of that level in the base.
    """
    layer = communes.load_boundaries(_AREA_LAYERS[level], data_dir=data_dir)
    key = str(code).strip().upper()
    if key not in layer.index:
        msg = (
            f"'{level}': {code!r} is not a {level} code of the commune base; e.g. "
            f"{', '.join(sorted(layer.index)[:5])}"
        )
        raise InvalidParameterError(msg)
    shape = layer.loc[key, "geometry"]
    return shapely.make_valid(shape.buffer(POLYGON_TOLERANCE_DEG).simplify(POLYGON_TOLERANCE_DEG))


def fetch_places(
    *,
    department: str | None = None,
    epci: str | None = None,
    polygon: BaseGeometry | None = None,
    data_dir: Path | None = None,
) -> OsmPlaces:
    """Fetch the places of :data:`PLACE_TAGS` in a department, an EPCI or a polygon (Overpass).

    Parameters
    ----------
    department
        Department code (``"19"``, ``"2A"``, ``"971"``).
    epci
        Or an EPCI SIREN code.
    polygon
        Or any (Multi)Polygon in EPSG:4326.
    data_dir
        Folder of the commune base.

    Returns
    -------
    OsmPlaces
        Places records and counts.

    Raises
    ------
    InvalidParameterError
        Not exactly one of ``department``, ``epci``, ``polygon`` given, or unknown code.
    DataSourceError
        The Overpass server could not be reached or answered with an error.
    """
    given = {
        k: v
        for k, v in (("department", department), ("epci", epci), ("polygon", polygon))
        if v is not None
    }
    if len(given) != 1:
        msg = "give exactly one of 'department' (e.g. '19'), 'epci' (SIREN) or 'polygon'"
        raise InvalidParameterError(msg)
    level, value = next(iter(given.items()))
    area = value if level == "polygon" else area_polygon(level, value, data_dir=data_dir)
    ox = _osmnx()
    try:
        features = ox.features_from_polygon(area, PLACE_TAGS)
    except ox._errors.InsufficientResponseError:
        features = _no_features()
    except (OSError, ValueError) as err:  # requests errors are OSErrors
        msg = f"OpenStreetMap (Overpass at {ox.settings.overpass_url}) failed: {err}"
        raise DataSourceError(msg) from err
    return features_to_places(features)


def places_from_xml(path: str | os.PathLike[str]) -> OsmPlaces:
    """Read the places of :data:`PLACE_TAGS` from a local OpenStreetMap XML file.

    Raises
    ------
    ImportFileError
        The file is missing or is not OSM XML.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"file not found: {str(path)!r}"
        raise ImportFileError(msg)
    _check_node_coordinates(path)
    ox = _osmnx()
    try:
        features = ox.features_from_xml(path, tags=PLACE_TAGS)
    except ox._errors.InsufficientResponseError:
        features = _no_features()
    except (ValueError, KeyError, OSError, ElementTree.ParseError) as err:
        msg = f"{path.name!r} cannot be read as OpenStreetMap XML: {err}"
        raise ImportFileError(msg) from err
    return features_to_places(features)


def _check_node_coordinates(path: Path) -> None:
    """Raise naming the first node whose ``lat``/``lon`` is not a finite number in range."""
    limits = {"lat": 90.0, "lon": 180.0}
    try:
        for _event, element in ElementTree.iterparse(path):
            if element.tag == "node":
                for name, limit in limits.items():
                    text = element.get(name, "")
                    try:
                        value = float(text)
                    except ValueError:
                        value = math.nan
                    if not (math.isfinite(value) and abs(value) <= limit):
                        msg = (
                            f"{path.name!r}: node {element.get('id')} has {name}={text!r}, "
                            f"expected a finite number between -{limit:g} and {limit:g}; "
                            "nothing was imported"
                        )
                        raise ImportFileError(msg)
            element.clear()
    except ElementTree.ParseError as err:
        msg = f"{path.name!r} cannot be read as OpenStreetMap XML: {err}"
        raise ImportFileError(msg) from err


def _osmnx() -> ModuleType:
    """osmnx, imported on first use: it takes over a second to import (scikit-learn)."""
    import osmnx  # noqa: PLC0415
    import osmnx._errors  # noqa: PLC0415

    return osmnx


def _no_features() -> gpd.GeoDataFrame:
    index = pd.MultiIndex.from_arrays([[], []], names=["element", "id"])
    return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs="EPSG:4326", index=index)


def _tag(features: gpd.GeoDataFrame, key: str) -> pd.Series:
    if key not in features:
        return pd.Series([None] * len(features), index=features.index, dtype=object)
    values = features[key].astype(object)
    return values.where(values.notna(), None)


def place_kinds(features: gpd.GeoDataFrame) -> pd.Series:
    """Place kind of each feature from its tags (first match of :data:`KIND_BY_TAG`)."""
    kinds = pd.Series([None] * len(features), index=features.index, dtype=object)
    for key, value, kind in reversed(KIND_BY_TAG):
        kinds = kinds.where(_tag(features, key) != value, kind)
    return kinds.fillna("other")


def _addresses(features: gpd.GeoDataFrame) -> pd.Series:
    parts = [
        _tag(features, f"addr:{k}").fillna("")
        for k in ("housenumber", "street", "postcode", "city")
    ]
    street = (parts[0] + " " + parts[1]).str.strip()
    town = (parts[2] + " " + parts[3]).str.strip()
    text = (street + ", " + town).str.strip(", ")
    return text.where(text != "", None)


def features_to_places(features: gpd.GeoDataFrame) -> OsmPlaces:
    """Map osmnx features (indexed by ``element, id``) to ``places`` records.

    Returns
    -------
    OsmPlaces
        Records with ``source="osm"``, ``source_id="<element>/<id>"``, ``kind`` from
        the tags, ``name``, ``address``, ``opening_notes`` (``opening_hours``),
        ``website``, points (point on surface for ways and relations), precision
        ``exact``; unnamed features are counted, not kept.
    """
    # A polygon split into several Overpass queries returns border features more than once.
    features = features[~features.index.duplicated(keep="first")]
    names = _tag(features, "name")
    named = names.notna().to_numpy() & (names.fillna("").str.strip() != "").to_numpy()
    kept = features[named]
    ids = [f"{element}/{osm_id}" for element, osm_id in kept.index]
    geometry = kept.geometry.to_numpy()
    points = shapely.point_on_surface(geometry) if len(geometry) else geometry
    website = _tag(kept, "website")
    website = website.where(website.notna(), _tag(kept, "contact:website"))
    frame = pd.DataFrame(
        {
            "source": "osm",
            "source_id": ids,
            "name": names[named].to_numpy(),
            "kind": place_kinds(kept).to_numpy(),
            "address": _addresses(kept).to_numpy(),
            "opening_notes": _tag(kept, "opening_hours").to_numpy(),
            "website": website.to_numpy(),
            "location_precision": "exact",
        }
    )
    records = conform("places", gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326"))
    return OsmPlaces(places=records, features=len(features), unnamed=int((~named).sum()))


def store_places(found: OsmPlaces, *, store: Store | None = None) -> AddResult:
    """Add OSM places to the store (features already stored are skipped).

    Parameters
    ----------
    found
        Result of :func:`fetch_places` or :func:`places_from_xml`.
    store
        The store (default: the ``store`` option).

    Returns
    -------
    AddResult
        Counts of added and duplicate records.
    """
    store = store if store is not None else Store()
    if found.places.empty:
        return AddResult(0, 0)
    return store.add("places", found.places, source_label="osm")
