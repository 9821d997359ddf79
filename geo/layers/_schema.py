"""Schema of the programme layers: providers, places, events and cooperation records.

Four layers sit on the map beside the communes. This module says what a record of
each looks like (:data:`COLUMNS`, the vocabularies and their French labels, the
accepted :data:`NUMBER_RANGES`), builds empty layers (:func:`empty_layer`) and
brings any frame to the schema (:func:`conform`).

Examples
--------
>>> empty_layer("events").columns[:4].tolist()
['id', 'source', 'source_id', 'location_precision']
>>> check_kind("parks")
Traceback (most recent call last):
    ...
geo._errors.UnknownLayerError: unknown layer 'parks'; expected one of providers, places, events, \
cooperation
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from geo._errors import UnknownLayerError

__all__ = [
    "AREA_TYPES",
    "COLUMNS",
    "COOPERATION_KINDS",
    "CRS",
    "DATE_YEAR_RANGE",
    "EVENT_KINDS",
    "EXPERTISE",
    "FRANCE_BOXES",
    "LABELS_FR",
    "LAYER_KINDS",
    "LOCATION_PRECISIONS",
    "NUMBER_RANGES",
    "PERIMETER_LEVELS",
    "PLACE_KINDS",
    "PROVIDER_KINDS",
    "REQUIRED",
    "SPATIAL_KINDS",
    "YEAR_RANGE",
    "check_kind",
    "conform",
    "empty_layer",
    "layer_columns",
]

#: The four programme layers, in the order they are listed everywhere.
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


#: Up to this many values, :func:`_as_text` formats them one by one (pandas' per-call
#: overhead, not the values, is then the cost); above, column-wise.
_FEW_VALUES = 64


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text (pandas ``str`` dtype), missing when blank, dates in ISO form."""
    if len(values) <= _FEW_VALUES:
        stripped = (None if _missing(v) else _plain_text(v).strip() for v in values)
        return pd.Series([v or None for v in stripped], index=values.index, dtype="str")
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


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or value != value  # noqa: PLR0124


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


#: Accepted range of each number field: (lowest, highest, lowest included).
NUMBER_RANGES: dict[str, tuple[float, float, bool]] = {
    "reach_km": (0, 2_000, False),
    "reach_minutes": (0, 1_440, False),
    "expected_audience": (0, 100_000_000, True),
    "year": (YEAR_RANGE[0], YEAR_RANGE[1], True),
}
#: Years accepted in event dates.
DATE_YEAR_RANGE = (1900, 2100)
