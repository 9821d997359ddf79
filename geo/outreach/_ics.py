"""The plan as an iCalendar file advisers can import."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.outreach._candidates import ANY_DAY, DATED, UNKNOWN_DAY

__all__ = ["day_note", "to_ics"]

_DAY_NOTES = {
    DATED: "date de l'événement",
    ANY_DAY: "jour suggéré (lieu ouvert)",
    UNKNOWN_DAY: "date inconnue (saison)",
}


def day_note(day_class: str) -> str:
    """French note on how a venue's date is known."""
    return _DAY_NOTES.get(day_class, "")


def to_ics(table: pd.DataFrame, *, title: str = "Plan d'aller-vers") -> bytes:
    """The plan as an iCalendar file advisers can import: one all-day event per dated venue.

    Venues whose date is unknown (events known only by a season) get no event; they
    are listed in the calendar's description. UIDs are stable: the same venue on the
    same day keeps its UID from one run to the next.

    Parameters
    ----------
    table
        Output of :func:`venue_table` (``date`` filled by :func:`assign_days`).
    title
        Calendar name.

    Returns
    -------
    bytes
        The ``.ics`` content.
    """
    import icalendar  # noqa: PLC0415

    calendar_ = icalendar.Calendar()
    calendar_.add("prodid", "-//ancrage//plan d'aller-vers//FR")
    calendar_.add("version", "2.0")
    calendar_.add("x-wr-calname", title)
    undated = []
    stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    for row in table.to_dict("records"):
        if pd.isna(row["date"]):
            undated.append(f"{row['order']}. {row['name']} ({row['commune_code']})")
            continue
        day = pd.Timestamp(row["date"]).date()
        event = icalendar.Event()
        event.add("uid", f"{row['venue_id']}-{day:%Y%m%d}@ancrage")
        event.add("dtstamp", stamp)
        event.add("summary", f"Aller-vers n°{row['order']} : {row['name']}")
        event.add("dtstart", day)
        event.add("dtend", day + dt.timedelta(days=1))
        event.add("location", f"{row.get('commune_name') or ''} ({row['commune_code']})".strip())
        event.add("description", _ics_description(row))
        calendar_.add_component(event)
    note = f"{title}."
    if undated:
        note += " Date à confirmer (connue seulement par la saison) : " + "; ".join(undated)
    calendar_.add("x-wr-caldesc", note)
    calendar_.add("description", note)
    return calendar_.to_ical()


def _kind_label(kind: object) -> str:
    from geo.layers import LABELS_FR  # noqa: PLC0415

    labels = {**LABELS_FR["places.kind"], **LABELS_FR["events.kind"], "townhall": "mairie"}
    return labels.get(str(kind), str(kind))


def _ics_description(row: Mapping[str, Any]) -> str:
    lines = [
        f"Type : {_kind_label(row['kind'])} ({day_note(row['day_class'])})",
        f"Demande atteinte ajoutée : {row['demand_added']:.0f}",
        f"Communes atteintes : {row['communes_reached']}",
    ]
    if row.get("commune_names"):
        lines.append("Communes : " + str(row["commune_names"]).replace(";", ", "))
    if not pd.isna(row.get("round_trip_km", np.nan)):
        lines.append(f"Aller-retour depuis la base : {row['round_trip_km']:.0f} km")
    return "\n".join(lines)
