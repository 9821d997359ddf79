"""Weighted, explained scores of communes from their indicators.

The score of a commune is a weighted mean of percentiles: each indicator is turned into a 0–1
percentile within the area (direction applied, so 1 is always the best for hosting), and the
weights say how much each indicator counts. Every commune also gets

* its rank (1 = best) among the candidate communes,
* the contribution of each indicator, ``contrib_<key>`` = weight share × percentile; the
  contributions of a commune add up to its score, so a map popup can say why it ranks there,
* a French ``reasons`` text naming its strongest contributions with their values and units,
* its rank stability: the share of random weight perturbations in which it stays in the top N.

Missing values are never turned into zeros: a missing indicator is left out of that commune's
weighted mean and the other weights are renormalised (``coverage`` tells how much of the total
weight was available), and the number of communes lacking each indicator is reported in
``frame.attrs["missing"]``.

The core functions (:func:`percentiles`, :func:`combine`, :func:`rank_stability`,
:func:`reasons`, :func:`score_values`) work on any indicator frame and metadata, so they can be
checked on small made-up frames; :func:`score` loads the indicators of an area from
:mod:`geo.indicators`.

The package is split along its jobs: :mod:`._weights` (defaults, parsing, checks),
:mod:`._score` (the score), :mod:`._reasons` (French texts), :mod:`._epci` (EPCI level) and
:mod:`._export` (files, xlsx, French CSV) and :mod:`._scenario` (saved
settings and data provenance); every public name is importable from ``geo.scoring``.
"""

from geo.scoring._epci import aggregate_epci, whole_epcis
from geo.scoring._export import (
    OUTPUT_FORMATS,
    french_headers,
    to_bytes,
    to_text,
    to_xlsx,
    write_table,
)
from geo.scoring._reasons import (
    SUMMARY_PHRASES,
    display_unit,
    explain,
    format_values,
    human_values,
    reasons,
)
from geo.scoring._scenario import (
    SCENARIO_VERSION,
    data_changes,
    data_provenance,
    load_scenario,
    save_scenario,
    store_fingerprint,
)
from geo.scoring._score import (
    candidate_mask,
    combine,
    missing_counts,
    percentiles,
    rank_stability,
    score,
    score_values,
)
from geo.scoring._weights import (
    CONTEXT_COLUMNS,
    DEFAULT_WEIGHTS,
    DIRECTIONS,
    MAX_WEIGHT,
    IndicatorLike,
    ScoreFilters,
    check_weights,
    describe_weights,
    parse_classes,
    parse_weights,
    resolve_weights,
)

__all__ = [
    "CONTEXT_COLUMNS",
    "DEFAULT_WEIGHTS",
    "DIRECTIONS",
    "MAX_WEIGHT",
    "OUTPUT_FORMATS",
    "SCENARIO_VERSION",
    "SUMMARY_PHRASES",
    "IndicatorLike",
    "ScoreFilters",
    "aggregate_epci",
    "candidate_mask",
    "check_weights",
    "combine",
    "data_changes",
    "data_provenance",
    "describe_weights",
    "display_unit",
    "explain",
    "format_values",
    "french_headers",
    "human_values",
    "load_scenario",
    "missing_counts",
    "parse_classes",
    "parse_weights",
    "percentiles",
    "rank_stability",
    "reasons",
    "resolve_weights",
    "save_scenario",
    "score",
    "score_values",
    "store_fingerprint",
    "to_bytes",
    "to_text",
    "to_xlsx",
    "whole_epcis",
    "write_table",
]
