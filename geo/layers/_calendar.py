"""When events take place: dates, yearly seasons and recurrences.

:func:`events_in_window` tells which events overlap a window of days, whether
they are dated, recurring (an iCalendar RRULE) or seasonal ("21 juin - 5
septembre"); :func:`season_days` reads a season text.

Examples
--------
>>> import pandas as pd
>>> events = pd.DataFrame({
...     "start": ["2026-07-14", None], "end": [None, None],
...     "recurrence": [None, None], "season": [None, "juillet-août"],
... })
>>> events_in_window(events, start="2026-07-01", end="2026-07-31").tolist()
[True, True]
>>> events_in_window(events, start="2026-10-01", end="2026-10-31").tolist()
[False, False]
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

import dateutil.rrule
import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError
from geo._text import normalise_place
from geo.layers._schema import _as_text

__all__ = ["events_in_window", "parse_date_bound", "season_days"]

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


def _parse_dates(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
