"""Programme layers: providers, places, events and cooperation records.

Four layers sit on the map beside the communes. The package keeps one theme per
module and re-exports the public names:

- :mod:`geo.layers._schema`: what a record looks like (:data:`COLUMNS`, the
  vocabularies and their French labels, :data:`NUMBER_RANGES`), :func:`empty_layer`
  and :func:`conform`;
- :mod:`geo.layers._validate`: :func:`validate_records`, with :class:`RowProblem` from
  :mod:`geo.layers._problems`;
- :mod:`geo.layers._calendar`: event dates, seasons and recurrences
  (:func:`events_in_window`).

Examples
--------
>>> empty_layer("events").columns[:4].tolist()
['id', 'source', 'source_id', 'location_precision']
>>> str(RowProblem(7, "start", "2024-13-01", "an ISO date (YYYY-MM-DD)"))
"line 7, field 'start': got '2024-13-01', expected an ISO date (YYYY-MM-DD)"
"""

# _day_of is not public; geo.outreach uses it.
from geo.layers._calendar import _day_of as _day_of
from geo.layers._calendar import events_in_window, parse_date_bound, season_days
from geo.layers._schema import (
    AREA_TYPES,
    COLUMNS,
    COOPERATION_KINDS,
    CRS,
    DATE_YEAR_RANGE,
    EVENT_KINDS,
    EXPERTISE,
    FRANCE_BOXES,
    LABELS_FR,
    LAYER_KINDS,
    LOCATION_PRECISIONS,
    NUMBER_RANGES,
    PERIMETER_LEVELS,
    PLACE_KINDS,
    PROVIDER_KINDS,
    REQUIRED,
    SPATIAL_KINDS,
    YEAR_RANGE,
    check_kind,
    conform,
    empty_layer,
    layer_columns,
)
from geo.layers._validate import RowProblem, raise_for_problems, validate_records

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
    "RowProblem",
    "check_kind",
    "conform",
    "empty_layer",
    "events_in_window",
    "layer_columns",
    "parse_date_bound",
    "raise_for_problems",
    "season_days",
    "validate_records",
]
