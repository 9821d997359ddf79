"""Header and value aliases: the words French and English files use for each column.

A header is compared once *normalised*: accents removed, lowercase, every run of
punctuation or spaces turned into one space (``"Code postal (de la commune)"`` →
``"code postal de la commune"``). :data:`HEADER_ALIASES` lists, for each target
column, the normalised headers that mean it. Targets are the layer columns of
:mod:`geo.layers` plus a few *location* columns used to place a record and then
dropped: ``lon``, ``lat``, ``latlon`` (one "lat, lon" field), ``postcode``, ``city``
(commune name) and ``file_id`` (the file's own row identifier, stored as
``source_id = "<file name>:<id>"``). A ``source_id`` column (e.g. in a file exported
from the store) is kept as it is, so re-importing an export adds nothing twice.

:data:`KIND_ALIASES` maps French and English labels of the ``kind`` vocabularies
to their keys (``"Marché"`` → ``market``, ``"Tiers-lieu"`` → ``tiers_lieu``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from geo._errors import ImportFileError
from geo._text import strip_accents
from geo.layers import COLUMNS, COOPERATION_KINDS, EVENT_KINDS, PLACE_KINDS, PROVIDER_KINDS

#: Columns that only serve to place a record (or identify it) and are not stored as such.
LOCATION_COLUMNS = ("lon", "lat", "latlon", "postcode", "city", "file_id")

#: Normalised headers accepted for each target column (layer columns and location columns).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "nom",
        "libelle",
        "intitule",
        "titre",
        "title",
        "summary",
        "denomination",
        "raison sociale",
        "nom du festival",
        "nom du lieu",
        "nom de la structure",
        "nom de l evenement",
        "nom de l organisme",
        "evenement",
        "event",
        "structure",
    ),
    "kind": (
        "kind",
        "type",
        "category",
        "categorie",
        "nature",
        "type de lieu",
        "type d evenement",
        "type de structure",
        "categories",
    ),
    "file_id": ("id", "identifiant", "identifier", "uid", "ref", "reference"),
    "source_id": ("source_id", "source id", "osm id", "osm_id"),
    "lon": ("lon", "lng", "long", "longitude", "x", "coord x", "longitude wgs84", "wgs84 lon"),
    "lat": ("lat", "latitude", "y", "coord y", "latitude wgs84", "wgs84 lat"),
    "latlon": (
        "latlon",
        "lat lon",
        "geocodage xy",
        "geo point",
        "geo point 2d",
        "coordonnees",
        "coordonnees gps",
        "coordinates",
        "gps",
        "geolocalisation",
        "position",
    ),
    "postcode": (
        "postcode",
        "postal code",
        "zip",
        "zip code",
        "code postal",
        "cp",
        "code postal de la commune principale de deroulement",
    ),
    "city": (
        "city",
        "town",
        "commune",
        "ville",
        "localite",
        "nom de la commune",
        "libcom",
        "commune principale de deroulement",
        "nom commune",
    ),
    "commune_code": (
        "commune_code",
        "commune code",
        "insee",
        "code insee",
        "insee code",
        "code insee commune",
        "code commune",
        "code commune insee",
        "codgeo",
        "com",
        "depcom",
        "citycode",
    ),
    "address": (
        "address",
        "adresse",
        "adresse postale",
        "street address",
        "addr",
        "voie",
        "adresse complete",
        "location",
        "lieu",
    ),
    "website": ("website", "site", "site web", "site internet", "url", "web", "lien"),
    "url": (
        "url",
        "website",
        "site",
        "site web",
        "site internet",
        "site internet du festival",
        "lien",
        "web",
    ),
    "opening_notes": (
        "opening_notes",
        "opening notes",
        "opening hours",
        "horaires",
        "horaires d ouverture",
        "ouverture",
        "notes",
        "remarques",
    ),
    "start": (
        "start",
        "start date",
        "date",
        "date de debut",
        "debut",
        "date debut",
        "du",
        "dtstart",
        "begin",
    ),
    "end": ("end", "end date", "date de fin", "fin", "date fin", "au", "dtend"),
    "recurrence": ("recurrence", "rrule", "frequence", "periodicite", "repetition"),
    "season": (
        "season",
        "saison",
        "periode",
        "period",
        "periode principale de deroulement du festival",
        "periode de deroulement",
    ),
    "organiser": ("organiser", "organizer", "organisateur", "organisme", "porteur"),
    "expected_audience": (
        "expected_audience",
        "expected audience",
        "audience",
        "public attendu",
        "frequentation",
        "visiteurs",
        "participants",
    ),
    "expertise": ("expertise", "expertises", "domaines", "domaine", "competences", "thematiques"),
    "perimeter": ("perimeter", "perimetre", "territoire", "zone d intervention"),
    "reach_km": (
        "reach_km",
        "reach km",
        "reach",
        "rayon",
        "rayon km",
        "rayon d action km",
        "distance km",
    ),
    "reach_minutes": (
        "reach_minutes",
        "reach minutes",
        "rayon minutes",
        "temps de trajet",
        "minutes",
    ),
    "area_type": ("area_type", "area type", "type de territoire", "niveau"),
    "area_code": ("area_code", "area code", "code territoire", "code du territoire", "siren"),
    "year": ("year", "annee", "millesime"),
    "provider_id": ("provider_id", "provider", "structure id", "accompagnateur"),
    "note": ("note", "notes", "commentaire", "comment", "description", "remarque"),
    "source": ("source", "provenance", "origine"),
}

#: Labels (normalised) of ``kind`` values, per layer, mapped to the vocabulary keys.
KIND_ALIASES: dict[str, dict[str, str]] = {
    "places": {
        "tiers lieu": "tiers_lieu",
        "tiers lieux": "tiers_lieu",
        "third place": "tiers_lieu",
        "espace de coworking": "coworking",
        "coworking space": "coworking",
        "cafe associatif": "associative_cafe",
        "associative cafe": "associative_cafe",
        "bar associatif": "associative_cafe",
        "fab lab": "fablab",
        "atelier partage": "fablab",
        "makerspace": "fablab",
        "marche": "marketplace",
        "halle": "marketplace",
        "place de marche": "marketplace",
        "market": "marketplace",
        "salle des fetes": "community_hall",
        "salle polyvalente": "community_hall",
        "maison des associations": "community_hall",
        "community centre": "community_hall",
        "community center": "community_hall",
        "autre": "other",
    },
    "events": {
        "foire": "fair",
        "salon": "trade_show",
        "trade show": "trade_show",
        "salon professionnel": "trade_show",
        "marche": "market",
        "marche hebdomadaire": "market",
        "marche de producteurs": "market",
        "soiree reseau": "networking",
        "rencontre reseau": "networking",
        "afterwork": "networking",
        "rencontre": "networking",
        "residence": "residency",
        "atelier": "workshop",
        "formation": "workshop",
        "autre": "other",
    },
    "providers": {
        "incubateur": "incubator",
        "cooperative d activite et d emploi": "cae",
        "cooperative d activites et d emploi": "cae",
        "chambre consulaire": "consular_chamber",
        "cci": "consular_chamber",
        "cma": "consular_chamber",
        "chambre d agriculture": "consular_chamber",
        "chambre de commerce": "consular_chamber",
        "chambre de metiers": "consular_chamber",
        "reseau de financement": "financing_network",
        "financement": "financing_network",
        "agence publique": "public_agency",
        "organisme public": "public_agency",
        "cooperative": "cooperative",
        "scic": "cooperative",
        "scop": "cooperative",
        "autre": "other",
    },
    "cooperation": {
        "residence citoyenne": "citizen_residency",
        "collectif accompagne": "accompanied_collective",
        "convention de partenariat": "partnership_convention",
        "convention": "partnership_convention",
        "structuration de filiere": "sector_structuring",
        "cycle de rencontres": "networking_series",
        "cycle de formation": "training_cycle",
        "autre": "other",
    },
}

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_header(header: str) -> str:
    """Lowercase ASCII words of a header, single-spaced.

    Examples
    --------
    >>> normalise_header("\\ufeffCode postal (de la commune principale de déroulement)")
    'code postal de la commune principale de deroulement'
    >>> normalise_header("Géocodage xy")
    'geocodage xy'
    """
    return _NON_ALNUM.sub(" ", strip_accents(str(header)).lower()).strip()


def targets(kind: str) -> tuple[str, ...]:
    """Columns a file of layer ``kind`` may map to: the layer's columns and the location ones."""
    return (*COLUMNS[kind], *LOCATION_COLUMNS)


def accepted_headers(target: str) -> str:
    """The accepted headers of a target column, for error messages."""
    return ", ".join(repr(a) for a in HEADER_ALIASES.get(target, (target,)))


def map_headers(
    headers: Iterable[str], kind: str, *, columns: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Map a file's headers to target columns.

    Parameters
    ----------
    headers
        Headers as written in the file.
    kind
        The layer imported into (decides which targets exist, e.g. ``url`` for
        events but ``website`` for places).
    columns
        Overrides ``{file header: target}``; the file header may be given as written
        or normalised.

    Returns
    -------
    dict
        ``{file header: target}`` for mapped headers; each target is used once, by
        the first header that names it (overrides first).

    Raises
    ------
    ImportFileError
        An override names a header absent from the file or an unknown target.

    Examples
    --------
    >>> map_headers(["Nom", "Code INSEE", "Remarques"], "places")
    {'Nom': 'name', 'Code INSEE': 'commune_code', 'Remarques': 'opening_notes'}
    """
    headers = list(headers)
    allowed = targets(kind)
    mapping = _overrides(headers, allowed, columns or {})
    used = set(mapping.values())
    lookup = {
        alias: target for target in allowed for alias in (target, *HEADER_ALIASES.get(target, ()))
    }
    for header in headers:
        target = lookup.get(normalise_header(header))
        if header not in mapping and target is not None and target not in used:
            mapping[header] = target
            used.add(target)
    return {h: mapping[h] for h in headers if h in mapping}


def _overrides(
    headers: list[str], allowed: tuple[str, ...], columns: Mapping[str, str]
) -> dict[str, str]:
    by_norm = {normalise_header(h): h for h in headers}
    mapping: dict[str, str] = {}
    for old, new in columns.items():
        header = old if old in headers else by_norm.get(normalise_header(old))
        if header is None:
            msg = (
                f"'columns': the file has no column {old!r}; its columns are "
                f"{', '.join(repr(h) for h in headers)}"
            )
            raise ImportFileError(msg)
        if new not in allowed:
            msg = f"'columns': {new!r} is not a column of this layer; use one of {allowed}"
            raise ImportFileError(msg)
        mapping[header] = new
    return mapping


def parse_columns_option(text: str | None) -> dict[str, str]:
    """Parse ``"old=new,old2=new2"`` (the ``--columns`` option) into a mapping.

    Examples
    --------
    >>> parse_columns_option("Nom de la salle=name, Code=commune_code")
    {'Nom de la salle': 'name', 'Code': 'commune_code'}
    """
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            msg = f"'columns': expected items like 'old=new' separated by commas, got {item!r}"
            raise ImportFileError(msg)
        mapping[old.strip()] = new.strip()
    return mapping


def map_kind_values(kind: str, values: pd.Series) -> pd.Series:
    """Turn French/English labels of ``kind`` into vocabulary keys; others stay as written.

    Examples
    --------
    >>> map_kind_values("places", pd.Series(["Tiers-lieu", "coworking", "Bar"])).tolist()
    ['tiers_lieu', 'coworking', 'Bar']
    """
    vocabulary = set(_vocabulary(kind))
    aliases = KIND_ALIASES.get(kind, {})
    table: dict[str, str] = {}
    for value in values.dropna().unique().tolist():
        norm = normalise_header(value)
        key = norm.replace(" ", "_")
        table[value] = key if key in vocabulary else aliases.get(norm, value)
    mapped = values.map(table)
    return mapped.astype(object).where(mapped.notna(), None)


def _vocabulary(kind: str) -> tuple[str, ...]:
    return {
        "providers": PROVIDER_KINDS,
        "places": PLACE_KINDS,
        "events": EVENT_KINDS,
        "cooperation": COOPERATION_KINDS,
    }[kind]
