"""Per-area summary of coverage gaps (communes and population), by EPCI or department."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo._errors import InvalidParameterError

__all__ = ["area_summary"]

_SUMMARY_BY = {
    "epci": ("epci_code", "epci_name"),
    "department": ("department_code", "department_name"),
}


def area_summary(communes: pd.DataFrame, states: pd.DataFrame, *, by: str = "epci") -> pd.DataFrame:
    """Communes and population uncovered or covered on paper only, per EPCI or department.

    Parameters
    ----------
    communes
        Communes with ``population`` and ``epci_code``/``epci_name`` or
        ``department_code``/``department_name``.
    states
        Output of :func:`commune_states`, indexed like ``communes``.
    by
        ``epci`` or ``department``. An EPCI is summed over all its communes given,
        whatever their department.

    Returns
    -------
    pandas.DataFrame
        One row per area, ranked by uncovered population (``rank`` 1 = most),
        with ``code``, ``name``, ``communes``, ``population``,
        ``uncovered_communes``, ``uncovered_population``, ``paper_only_communes``,
        ``paper_only_population`` (for the ``state`` column), then the same four
        with a ``_any`` suffix and with a ``_<expertise>`` suffix per key.

    Examples
    --------
    >>> towns = pd.DataFrame({"epci_code": ["e1", "e1", "e2"], "epci_name": ["E1", "E1", "E2"],
    ...                       "population": [100, 200, 300]}, index=["a", "b", "c"])
    >>> states = pd.DataFrame({"state": ["covered", "uncovered", "paper_only"]}, index=towns.index)
    >>> area_summary(towns, states)[["code", "uncovered_population", "paper_only_population"]]
      code  uncovered_population  paper_only_population
    0   e1                   200                      0
    1   e2                     0                    300
    """
    if by not in _SUMMARY_BY:
        msg = f"'by' is {by!r}, expected one of {', '.join(_SUMMARY_BY)}"
        raise InvalidParameterError(msg)
    code_column, name_column = _SUMMARY_BY[by]
    population = pd.to_numeric(communes["population"], errors="coerce").fillna(0)
    frame = pd.DataFrame(
        {"code": communes[code_column], "population": population}, index=communes.index
    )
    suffixes = {"": "state"} | {
        f"_{c.removeprefix('state_')}": c for c in states.columns if c.startswith("state_")
    }
    parts = {}
    for suffix, column in suffixes.items():
        if column not in states:
            continue
        state = states[column].reindex(communes.index)
        for name in ("uncovered", "paper_only"):
            hit = (state == name).to_numpy()
            parts[f"{name}_communes{suffix}"] = hit.astype(np.int64)
            parts[f"{name}_population{suffix}"] = np.where(hit, population, 0).astype(np.int64)
    frame = frame.assign(**parts, communes=1)
    grouped = frame.groupby("code", sort=True).sum(numeric_only=True).astype(np.int64)
    names = communes.groupby(code_column)[name_column].first() if name_column in communes else None
    grouped.insert(0, "name", names.reindex(grouped.index) if names is not None else None)
    grouped = grouped[["name", "communes", "population", *parts]]
    grouped = grouped.sort_values(
        ["uncovered_population", "paper_only_population"], ascending=False, kind="stable"
    )
    grouped.insert(0, "rank", np.arange(1, len(grouped) + 1))
    return grouped.reset_index(names="code").pipe(lambda t: t[["code", *t.columns.drop("code")]])
