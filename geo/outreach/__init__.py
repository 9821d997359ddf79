"""Outreach planning: which venues advisers should attend to reach under-served communes.

The choice is a *maximal covering location problem*: pick at most ``k`` venues
(events on their dates, third places and town halls on any day) so that the
demand of the communes within reach of a chosen venue, each counted once, is as
large as possible, under an optional per-day limit (``advisers`` venues a day)
and an optional travel budget (round-trip km from the adviser's base).

It is solved exactly as an integer programme with :func:`scipy.optimize.milp`
(HiGHS), after two reductions that keep the optimum: communes reached by the same
set of venues are merged into one demand group, and a venue whose reach is a
subset of another's, on the same day class and at no lower cost, is dropped. A
time limit returns the best plan found with its proven optimality gap; a plan is
called optimal only when HiGHS proved it.

Modules: ``_demand`` (population, under-served and score-weighted demand),
``_candidates`` (venues and event occurrences in a window), ``_reach`` (radius or
road minutes), ``_solve`` (the integer programme, its reductions and the greedy
fallback), ``_plan`` (one area's plan and venue table), ``_ics`` (calendar file),
``_meet`` (halfway meeting places).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from scipy import sparse
>>> demand = pd.Series([100.0, 50.0, 30.0], index=["a", "b", "c"])
>>> venues = pd.DataFrame({"date": pd.NaT}, index=["v1", "v2", "v3"])
>>> reach = sparse.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=bool))
>>> plan = plan_outreach(demand, venues, reach, k=1)
>>> plan.chosen, plan.demand_reached, plan.optimal
(['v1'], 150.0, True)
"""

from geo.outreach._candidates import (
    ANY_DAY,
    CANDIDATE_KINDS,
    DATED,
    MAX_WINDOW_DAYS,
    UNKNOWN_DAY,
    candidate_venues,
    check_window,
    expand_occurrences,
)
from geo.outreach._demand import (
    DEFAULT_WEIGHTS,
    area_demand,
    parse_weights,
    population_demand,
    score_weighted,
    underserved_demand,
)
from geo.outreach._ics import day_note, to_ics
from geo.outreach._meet import MEET_PRESELECT, meet, meeting_places
from geo.outreach._output import (
    PLAN_CSV_COLUMNS,
    PLAN_FORMATS,
    plan_json,
    plan_to_text,
    venue_records,
)
from geo.outreach._plan import (
    AreaPlan,
    PlanRequest,
    area_inputs,
    assign_days,
    plan_area,
    venue_table,
)
from geo.outreach._reach import great_circle_km, reach_matrix
from geo.outreach._solve import OutreachPlan, plan_outreach

__all__ = [
    "ANY_DAY",
    "CANDIDATE_KINDS",
    "DATED",
    "DEFAULT_WEIGHTS",
    "MAX_WINDOW_DAYS",
    "MEET_PRESELECT",
    "PLAN_CSV_COLUMNS",
    "PLAN_FORMATS",
    "UNKNOWN_DAY",
    "AreaPlan",
    "OutreachPlan",
    "PlanRequest",
    "area_demand",
    "area_inputs",
    "assign_days",
    "candidate_venues",
    "check_window",
    "day_note",
    "expand_occurrences",
    "great_circle_km",
    "meet",
    "meeting_places",
    "parse_weights",
    "plan_area",
    "plan_json",
    "plan_outreach",
    "plan_to_text",
    "population_demand",
    "reach_matrix",
    "score_weighted",
    "to_ics",
    "underserved_demand",
    "venue_records",
    "venue_table",
]
