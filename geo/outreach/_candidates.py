"""Candidate venues of an area in a window: event occurrences, places, town halls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dateutil.rrule
import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError
from geo.layers import _day_of, events_in_window, parse_date_bound

__all__ = [
    "ANY_DAY",
    "CANDIDATE_KINDS",
    "DATED",
    "MAX_WINDOW_DAYS",
    "UNKNOWN_DAY",
    "candidate_venues",
    "check_window",
    "expand_occurrences",
]

CANDIDATE_KINDS = ("events", "places", "townhalls")
#: Day class of venues that can be attended on any day of the window (places, town halls)
#: or whose day is not known yet (events known by a season only).
ANY_DAY = "any_day"
UNKNOWN_DAY = "unknown"
DATED = "dated"
MAX_WINDOW_DAYS = 366


def check_window(start: str | dt.date, end: str | dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Parse the planning window; both days are included.

    Examples
    --------
    >>> check_window("2026-04-01", "2026-04-30")[1].day
    30
    """
    first = parse_date_bound(start, name="from")
    last = parse_date_bound(end, name="to")
    if first is None or last is None:
        msg = "'from' and 'to' are both needed (YYYY-MM-DD)"
        raise InvalidParameterError(msg)
    if last < first:
        msg = f"'to' ({last.date()}) is before 'from' ({first.date()}); give an end after the start"
        raise InvalidParameterError(msg)
    if (last - first).days >= MAX_WINDOW_DAYS:
        msg = f"the window from {first.date()} to {last.date()} is longer than one year"
        raise InvalidParameterError(msg)
    return first, last


def expand_occurrences(events: pd.DataFrame, *, start: str, end: str) -> pd.DataFrame:
    """One row per occurrence of each event inside the window.

    A dated event gives one row (on its first day in the window); a recurring
    event one row per occurrence of its RRULE in the window; an event known only
    by a season (or a date text without a day) one row whose ``date`` is NaT and
    ``day_class`` is ``unknown``.

    Parameters
    ----------
    events
        Layer rows (``start``, ``end``, ``recurrence``, ``season``...).
    start, end
        Window bounds (ISO days, both included).

    Returns
    -------
    pandas.DataFrame
        The event columns plus ``date``, ``day_class`` and ``occurrence_id``.

    Examples
    --------
    >>> ev = pd.DataFrame({"id": ["m"], "start": ["2026-01-06"], "end": [None],
    ...     "recurrence": ["FREQ=WEEKLY;BYDAY=TU"], "season": [None]})
    >>> expand_occurrences(ev, start="2026-03-01", end="2026-03-15")["date"].dt.day.tolist()
    [3, 10]
    """
    first, last = check_window(start, end)
    if events.empty:
        return events.assign(date=pd.Series(dtype="datetime64[ns]"), day_class="", occurrence_id="")
    kept = events[events_in_window(events, start=start, end=end).to_numpy()]
    begins = _day_of(kept["start"])
    ends = _day_of(kept["end"]).fillna(begins)
    rows: list[dict[str, Any]] = []
    for (_, record), begin, finish in zip(kept.iterrows(), begins, ends, strict=True):
        for day in _occurrence_days(record, begin, finish, first, last):
            rows.append(
                record.to_dict()
                | {"date": day, "day_class": UNKNOWN_DAY if pd.isna(day) else DATED}
            )
    out = pd.DataFrame(rows, columns=[*events.columns, "date", "day_class"])
    out["date"] = pd.to_datetime(out["date"])
    suffix = out["date"].dt.strftime("%Y%m%d").fillna("date-inconnue")
    out["occurrence_id"] = out["id"].astype(str) + "@" + suffix
    return out


def _occurrence_days(
    record: pd.Series,
    begin: pd.Timestamp,
    finish: pd.Timestamp,
    first: pd.Timestamp,
    last: pd.Timestamp,
) -> list[pd.Timestamp]:
    rule = record.get("recurrence")
    if isinstance(rule, str) and rule.strip():
        origin = begin if not pd.isna(begin) else first
        length = (finish - begin) if not pd.isna(begin) else pd.Timedelta(0)
        try:
            occurrences = dateutil.rrule.rrulestr(
                rule.strip().removeprefix("RRULE:"), dtstart=origin.to_pydatetime()
            )
        except (ValueError, TypeError):
            return [pd.NaT]
        found = occurrences.between(
            (first - length).to_pydatetime(), last.to_pydatetime(), inc=True
        )
        return [max(pd.Timestamp(day), first) for day in found]
    if not pd.isna(begin):
        return [max(begin, first)]
    return [pd.NaT]


def _townhall_points(area: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "venue_id": "mairie-" + area.index.astype(str),
            "name": "Mairie de " + area["name"].astype(str),
            "category": "townhall",
            "kind": "townhall",
            "date": pd.NaT,
            "end": pd.NaT,
            "day_class": ANY_DAY,
            "commune_code": area.index.astype(str),
            "lon": area["townhall_lon"].to_numpy(float),
            "lat": area["townhall_lat"].to_numpy(float),
            "record_id": None,
        }
    )


def candidate_venues(
    area: pd.DataFrame,
    layers: Mapping[str, pd.DataFrame],
    *,
    start: str,
    end: str,
    candidates: Sequence[str] = ("events", "places"),
    event_kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Candidate venues of an area within a window.

    Parameters
    ----------
    area
        Communes of the area (commune base rows indexed by INSEE code).
    layers
        ``events`` and ``places`` records (e.g. ``Store.read_area(area)``).
    start, end
        The window (ISO days, both included).
    candidates
        Any of ``events``, ``places`` and ``townhalls``.
    event_kinds
        Keep only events of these kinds.

    Returns
    -------
    pandas.DataFrame
        ``venue_id, name, category, kind, date, end, day_class, commune_code, lon,
        lat, record_id``, indexed by ``venue_id``; only venues inside the area.
    """
    unknown = sorted(set(candidates) - set(CANDIDATE_KINDS))
    if unknown or not candidates:
        msg = f"'candidates' has {unknown or 'nothing'}, expected some of {list(CANDIDATE_KINDS)}"
        raise InvalidParameterError(msg)
    check_window(start, end)
    parts = []
    if "events" in candidates:
        parts.append(_event_venues(layers.get("events"), start, end, event_kinds))
    if "places" in candidates:
        parts.append(_place_venues(layers.get("places")))
    if "townhalls" in candidates:
        parts.append(_townhall_points(area))
    parts = [p for p in parts if p is not None and not p.empty]
    if not parts:
        return _townhall_points(area.iloc[:0]).set_index("venue_id", drop=False)
    venues = pd.concat(parts, ignore_index=True)
    venues = venues[venues["commune_code"].isin(area.index) & venues["lon"].notna()]
    venues = venues.drop_duplicates("venue_id")
    return venues.set_index("venue_id", drop=False)


def _point_columns(records: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    geometry = records.geometry if hasattr(records, "geometry") else None
    if geometry is None:
        return records["lon"].to_numpy(float), records["lat"].to_numpy(float)
    located = geometry.notna() & ~geometry.is_empty
    lon = np.where(located, geometry.x.where(located), np.nan)
    lat = np.where(located, geometry.y.where(located), np.nan)
    return lon.astype(float), lat.astype(float)


def _event_venues(
    events: pd.DataFrame | None, start: str, end: str, kinds: Iterable[str] | None
) -> pd.DataFrame | None:
    if events is None or events.empty:
        return None
    if kinds is not None:
        events = events[events["kind"].isin(list(kinds))]
    lon, lat = _point_columns(events)
    frame = pd.DataFrame(events.drop(columns="geometry", errors="ignore")).assign(lon=lon, lat=lat)
    occurrences = expand_occurrences(frame, start=start, end=end)
    if occurrences.empty:
        return None
    ends = _day_of(occurrences["end"])
    length = (ends - _day_of(occurrences["start"])).fillna(pd.Timedelta(0))
    return pd.DataFrame(
        {
            "venue_id": occurrences["occurrence_id"].to_numpy(),
            "name": occurrences["name"].to_numpy(),
            "category": "event",
            "kind": occurrences["kind"].to_numpy(),
            "date": occurrences["date"].to_numpy(),
            "end": (occurrences["date"] + length.clip(lower=pd.Timedelta(0))).to_numpy(),
            "day_class": occurrences["day_class"].to_numpy(),
            "commune_code": occurrences["commune_code"].to_numpy(),
            "lon": occurrences["lon"].to_numpy(float),
            "lat": occurrences["lat"].to_numpy(float),
            "record_id": occurrences["id"].to_numpy(),
            "season": occurrences["season"].to_numpy(),
        }
    )


def _place_venues(places: pd.DataFrame | None) -> pd.DataFrame | None:
    if places is None or places.empty:
        return None
    lon, lat = _point_columns(places)
    return pd.DataFrame(
        {
            "venue_id": places["id"].astype(str).to_numpy(),
            "name": places["name"].to_numpy(),
            "category": "place",
            "kind": places["kind"].to_numpy(),
            "date": pd.NaT,
            "end": pd.NaT,
            "day_class": ANY_DAY,
            "commune_code": places["commune_code"].to_numpy(),
            "lon": lon,
            "lat": lat,
            "record_id": places["id"].astype(str).to_numpy(),
        }
    )
