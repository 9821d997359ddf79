"""Read events from an iCalendar (``.ics``) file with the ``icalendar`` package.

Each ``VEVENT`` becomes one row: ``SUMMARY`` → name, ``CATEGORIES`` → kind,
``DTSTART``/``DTEND`` (or ``DURATION``) → start/end in ISO form, ``RRULE`` → recurrence
(RRULE text), ``LOCATION`` → address plus the postcode and commune parsed from it,
``GEO`` → exact point, ``UID`` → source id, ``URL`` → url, ``ORGANIZER`` → organiser
(its ``CN`` or address). All-day events end the day *before* ``DTEND`` (which
iCalendar makes exclusive), so a one-day market on Saturday ends on Saturday.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import geopandas as gpd
import icalendar
import icalendar.error
import numpy as np
import pandas as pd
import shapely

from geo._errors import ImportFileError
from geo.geocoding import split_location
from geo.imports._common import Parsed
from geo.layers import RowProblem

_BEGIN_EVENT = re.compile(r"^BEGIN:VEVENT\s*$", re.IGNORECASE | re.MULTILINE)


def read_ics(data: bytes, *, name: str) -> Parsed:
    """Parse the events of an iCalendar file.

    Parameters
    ----------
    data
        The file content.
    name
        File name, for messages.

    Returns
    -------
    Parsed
        One row per VEVENT with columns ``name, kind, start, end, recurrence, address,
        postcode, city, source_id, url, organiser``; ``lines`` is the line of each
        ``BEGIN:VEVENT``; ``geometry`` holds GEO points.

    Raises
    ------
    ImportFileError
        The file is not valid iCalendar or holds no event.
    """
    text = data.decode("utf-8-sig", errors="replace")
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as err:
        msg = f"{name!r} is not a valid iCalendar file: {err}"
        raise ImportFileError(msg) from err
    events = list(calendar.walk("VEVENT"))
    if not events:
        msg = f"{name!r} holds no event (no BEGIN:VEVENT)"
        raise ImportFileError(msg)
    starts = [text.count("\n", 0, m.start()) + 1 for m in _BEGIN_EVENT.finditer(text)]
    lines = np.asarray(starts if len(starts) == len(events) else range(1, len(events) + 1))
    problems: list[RowProblem] = []
    rows = [_row(event, int(line), problems) for event, line in zip(events, lines, strict=True)]
    raw = pd.DataFrame(rows).drop(columns=["geo"])
    geo = [
        shapely.Point(lon, lat) if lat is not None else None
        for lat, lon in (r["geo"] for r in rows)
    ]
    return Parsed(
        raw=raw,
        lines=lines.astype(int),
        problems=problems,
        details={"format": "ics"},
        geometry=gpd.GeoSeries(geo, crs="EPSG:4326"),
    )


_EXPECTED = {
    "DTSTART": ("start", "a date YYYYMMDD or date-time YYYYMMDDTHHMMSS[Z]"),
    "DTEND": ("end", "a date YYYYMMDD or date-time YYYYMMDDTHHMMSS[Z]"),
    "DURATION": ("end", "an iCalendar duration such as PT2H or P1D"),
    "GEO": ("geometry", "'latitude;longitude' as two finite decimal numbers"),
}


class _BrokenPropertyError(Exception):
    """A property of an event that the icalendar package could not parse."""


def _value(event: icalendar.Component, name: str) -> Any:
    """The parsed value of a date or GEO property (None when absent)."""
    prop = event.get(name)
    if prop is None:
        return None
    try:
        value = (prop.latitude, prop.longitude) if name == "GEO" else prop.dt
    except (icalendar.error.BrokenCalendarProperty, AttributeError, ValueError) as err:
        raise _BrokenPropertyError(name, str(prop)) from err
    if name == "GEO" and not all(math.isfinite(float(v)) for v in value):
        raise _BrokenPropertyError(name, f"{value[0]};{value[1]}")
    return value


def _row(event: icalendar.Component, line: int, problems: list[RowProblem]) -> dict[str, Any]:
    """One event as a row; unreadable properties are added to ``problems`` and left empty."""
    values: dict[str, Any] = {}
    for name in _EXPECTED:
        try:
            values[name] = _value(event, name)
        except _BrokenPropertyError as broken:
            prop, text = broken.args
            field, expected = _EXPECTED[prop]
            uid = _text(event.get("UID"))
            where = f", event UID {uid}" if uid else ""
            problems.append(RowProblem(line, f"{field} ({prop}{where})", text, expected))
            values[name] = None
    start, end = _dates(values["DTSTART"], values["DTEND"], values["DURATION"])
    location = _text(event.get("LOCATION"))
    postcode, city = split_location(location) if location else (None, None)
    return {
        "name": _text(event.get("SUMMARY")),
        "kind": _categories(event),
        "start": start,
        "end": end,
        "recurrence": _rrule(event),
        "address": location,
        "postcode": postcode,
        "city": city,
        "source_id": _text(event.get("UID")),
        "url": _text(event.get("URL")),
        "organiser": _organiser(event.get("ORGANIZER")),
        "geo": values["GEO"] or (None, None),
    }


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _categories(event: icalendar.Component) -> str | None:
    value = event.get("CATEGORIES")
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    cats = [str(c) for item in items for c in getattr(item, "cats", [item])]
    return cats[0].strip() if cats else None


def _iso(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes") if value.second == 0 else value.isoformat()
    return value.isoformat()


def _dates(start: Any, end: Any, duration: Any) -> tuple[str | None, str | None]:
    """ISO start and end; an end before the start is kept so that validation reports it."""
    if start is None:
        return None, None
    if end is None and duration is not None:
        end = start + duration
    if end is not None and not isinstance(end, dt.datetime) and end > start:
        end = end - dt.timedelta(days=1)  # DTEND of an all-day event is exclusive
    return _iso(start), (_iso(end) if end is not None else None)


def _rrule(event: icalendar.Component) -> str | None:
    rule = event.get("RRULE")
    if rule is None:
        return None
    rules = rule if isinstance(rule, list) else [rule]
    return rules[0].to_ical().decode()


def _organiser(value: object) -> str | None:
    if value is None:
        return None
    name = getattr(value, "params", {}).get("CN")
    if name:
        return str(name)
    return str(value).removeprefix("mailto:").removeprefix("MAILTO:") or None
