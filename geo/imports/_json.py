"""JSON records from the web service, read exactly like the rows of a CSV file.

:func:`records_from_json` maps the fields through the same alias table, places and
validates every record as :func:`geo.imports.read_records` does for a file;
:func:`create_records` stores them all or nothing; :func:`fields_from_json` turns the
body of an update into the fields :meth:`geo.store.Store.update` takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from geo import geocoding
from geo._errors import InvalidParameterError, LayerValidationError, RecordConflictError
from geo.imports import _aliases
from geo.imports._common import Parsed
from geo.imports._import import _store
from geo.imports._read import FileRows, ParsedRecords, gather
from geo.imports._rows import check_columns, mapped, repeated_ids
from geo.layers import COLUMNS, SPATIAL_KINDS, RowProblem, check_kind

if TYPE_CHECKING:
    from geo.store import Store

__all__ = ["MAX_JSON_RECORDS", "create_records", "fields_from_json", "records_from_json"]

#: Most records one JSON call may carry.
MAX_JSON_RECORDS = 1000


def records_from_json(
    kind: str,
    items: object,
    *,
    source_label: str = "api",
    geocoder: geocoding.AddressGeocoder | None = None,
) -> ParsedRecords:
    """Read JSON records (objects of ``field: value``) like the rows of a CSV file.

    The fields are the headers a CSV file may have (the same alias table: ``name`` or
    ``nom``, ``lon``/``lat``, ``commune_code``, ``postcode``, ``city``, ``id`` as the
    record's own identifier...), the values text, numbers or null; every record is
    placed and validated as a CSV row would be. Problems give the record's position
    (from 1) as their ``line``.

    Parameters
    ----------
    kind
        ``providers``, ``places``, ``events`` or ``cooperation``.
    items
        One JSON object or a list of them (at most :data:`MAX_JSON_RECORDS`).
    source_label
        ``source`` of the records that give none; also prefixes their own ``id`` into
        ``source_id`` (``"api:<id>"``), so sending a record twice adds it once.
    geocoder
        Address geocoder (default: the one of ``ANCRAGE_GEOCODER_URL``, else offline).

    Returns
    -------
    ParsedRecords
        Records and every problem, nothing stored.

    Raises
    ------
    InvalidParameterError
        ``items`` is not an object or a list of objects, or a value is a list or an
        object (the message names the record and field).
    ImportFileError
        A required field is missing from every record (the message lists the names
        accepted for it).

    Examples
    --------
    >>> parsed = records_from_json("events", {"nom": "Marché", "type": "Marché",
    ...                                       "date": "2026-06-01", "code_insee": "19148"})
    >>> parsed.records.loc[0, ["name", "kind", "start", "commune_code", "source"]].tolist()
    ['Marché', 'market', '2026-06-01', '19148', 'api']
    >>> parsed.problems
    []
    """
    check_kind(kind)
    rows = [items] if isinstance(items, Mapping) else items
    if not isinstance(rows, list) or not rows or len(rows) > MAX_JSON_RECORDS:
        msg = (
            f"the body should be a JSON object of field: value, or a list of 1 to "
            f"{MAX_JSON_RECORDS} of them; got {_json_type(items)}"
            + (f" of {len(rows)} items" if isinstance(rows, list) else "")
        )
        raise InvalidParameterError(msg)
    raw = pd.DataFrame([_json_row(i, row) for i, row in enumerate(rows, start=1)], dtype=object)
    parsed = Parsed(
        raw=raw.where(raw.notna(), None),
        lines=np.arange(1, len(rows) + 1),
        details={"format": "json"},
    )
    mapping = _aliases.map_headers(parsed.raw.columns, kind)
    defaults = {"source": source_label}
    what = "the JSON record" + ("s" if len(rows) > 1 else "")
    check_columns(kind, mapped(parsed.raw.iloc[:0], mapping, kind, defaults), parsed, what)
    opened = FileRows(
        kind=kind,
        parsed=parsed,
        mapping=mapping,
        problems=repeated_ids(parsed.raw, mapping, parsed.lines),
        details={"format": "json"},
        defaults=defaults,
        geocoder=geocoder if geocoder is not None else geocoding.geocoder_from_env(),
        origin=f"{source_label} record ",
        file_name=source_label,
    )
    return gather(opened)


def create_records(
    kind: str, items: object, *, store: Store | None = None, source_label: str = "api"
) -> tuple[str, ...]:
    """Validate JSON records (see :func:`records_from_json`) and add them, all or nothing.

    Returns
    -------
    tuple of str
        The ids of the records added.

    Raises
    ------
    LayerValidationError
        Some record is invalid; ``.problems`` lists every one; nothing was stored.
    RecordConflictError
        A record repeats a stored one (same ``source_id``, or same name within 100 m) or
        uses the id of another record; nothing was stored.
    """
    parsed = records_from_json(kind, items, source_label=source_label)
    what = "the JSON record" + ("s" if len(parsed.lines) > 1 else "")
    if parsed.problems:
        raise LayerValidationError(parsed.problems, what=what)
    store = _store(store)
    try:
        result = store.add(kind, parsed.records, line_numbers=parsed.lines.tolist(), validated=True)
    except LayerValidationError as err:
        if all(p.field == "id" for p in err.problems):
            raise RecordConflictError(err.problems, what=what) from None
        raise
    if result.duplicates:
        ids = ", ".join(result.ids) or "none"
        problem = RowProblem(
            None,
            "name",
            str(parsed.records["name"].iloc[0]) if "name" in parsed.records else "",
            "a record not already stored (the store has one with the same source id, or "
            f"the same name within 100 m); {result.duplicates} repeated, ids added: {ids}",
        )
        if result.ids:  # the new ones are stored: only say so when none was
            return result.ids
        raise RecordConflictError([problem], what=what)
    return result.ids


def fields_from_json(kind: str, fields: object) -> dict[str, object]:
    """Fields of a JSON update as :meth:`geo.store.Store.update` takes them.

    Keys are layer columns (``name``, ``kind``, ``start``...) plus ``lon`` and ``lat``
    (given together: the new point); values are text, numbers or null.

    Raises
    ------
    InvalidParameterError
        Not an object, an empty one, a list or object as a value, an unknown field, or
        ``lon`` without ``lat`` (the message names the field and what is expected).

    Examples
    --------
    >>> fields = fields_from_json("events", {"name": "Foire", "lon": 2.27, "lat": 45.38})
    >>> fields["name"], fields["geometry"].wkt
    ('Foire', 'POINT (2.27 45.38)')
    """
    check_kind(kind)
    if not isinstance(fields, Mapping) or not fields:
        got = _json_type(fields)
        msg = f"the body should be a non-empty JSON object of field: value; got {got}"
        raise InvalidParameterError(msg)
    values = _json_row(1, fields)
    updatable = [c for c in COLUMNS[kind] if c not in ("id", "geometry")]
    point = [c for c in ("lon", "lat") if c in values]
    unknown = sorted(set(values) - set(updatable) - {"lon", "lat"})
    if unknown:
        msg = (
            f"body field {unknown[0]!r}: not a field of {kind}; expected one of "
            f"{', '.join(updatable)}, or 'lon' and 'lat' together"
        )
        raise InvalidParameterError(msg)
    if point and kind not in SPATIAL_KINDS:
        msg = f"body field {point[0]!r}: {kind} records have no point"
        raise InvalidParameterError(msg)
    out: dict[str, object] = {k: v for k, v in values.items() if k not in ("lon", "lat")}
    if point:
        out["geometry"] = _json_point(values.get("lon"), values.get("lat"))
    return out


def _json_point(lon: object, lat: object) -> shapely.Point:
    try:
        x, y = float(str(lon).replace(",", ".")), float(str(lat).replace(",", "."))
    except ValueError:
        x = y = float("nan")
    if not (np.isfinite(x) and np.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        msg = (
            f"body fields 'lon', 'lat': got {lon!r}, {lat!r}, expected both, as numbers "
            "(longitude -180 to 180, latitude -90 to 90, WGS84)"
        )
        raise InvalidParameterError(msg)
    return shapely.Point(x, y)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _json_row(position: int, row: object) -> dict[str, str | None]:
    """One JSON object as a CSV row: every value as text (null and blank as missing)."""
    if not isinstance(row, Mapping):
        msg = f"record {position}: expected a JSON object of field: value, got {_json_type(row)}"
        raise InvalidParameterError(msg)
    out: dict[str, str | None] = {}
    for key, value in row.items():
        if isinstance(value, dict | list):
            msg = (
                f"record {position}, field {str(key)!r}: got {_json_type(value)}, "
                "expected text, a number or null"
            )
            raise InvalidParameterError(msg)
        text = None if value is None else str(value).strip()
        if isinstance(value, bool):
            text = "true" if value else "false"
        out[str(key)] = text or None
    return out
