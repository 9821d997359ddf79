"""Weights and filters of a score: defaults, parsing and checks (see :mod:`geo.scoring`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from geo._errors import InvalidParameterError, UnknownIndicatorError
from geo.indicators._registry import DIRECTIONS

__all__ = [
    "CONTEXT_COLUMNS",
    "DEFAULT_WEIGHTS",
    "DIRECTIONS",
    "MAX_WEIGHT",
    "IndicatorLike",
    "ScoreFilters",
    "check_weights",
    "describe_weights",
    "parse_classes",
    "parse_weights",
    "resolve_weights",
]

DEFAULT_WEIGHTS: dict[str, float] = {
    "cooperation": 1.0,
    "neo_rural": 1.0,
    "stability": 1.0,
    "hub_distance": 1.0,
    "programme_history": 0.0,
}
"""Default weight of each criterion: the four criteria of the booklet, weighing the same,
and ``programme_history`` (the programme's own records) with weight 0, so that what the
store holds never moves the default ranking.

This is the one declaration of the defaults: :func:`resolve_weights` starts from it, and a
criterion added here with weight 0 is known to ``--weights``/``--only`` but left out of
the score until a user gives it a weight.
"""
MAX_WEIGHT = 100.0
"""Largest weight accepted: weights are relative, so 0–100 says everything a ratio can."""

CONTEXT_COLUMNS = (
    "code",
    "name",
    "department_code",
    "epci_code",
    "epci_name",
    "population",
    "in_area",
)


class IndicatorLike(Protocol):
    """What scoring needs to know about an indicator (``geo.indicators.Indicator`` fits)."""

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def direction(self) -> str: ...
    @property
    def column(self) -> str: ...


@dataclass(frozen=True)
class ScoreFilters:
    """Which communes of the area are candidates.

    Percentiles are computed over the whole area, so a filter changes the ranks but never the
    score of a commune that stays in.

    Parameters
    ----------
    min_population, max_population
        Inclusive bounds on the latest legal population.
    rurality
        Rurality classes to keep (values of the ``rurality`` indicator, e.g. ``(5, 6, 7)``).
    exclude
        INSEE codes to leave out, e.g. past hosts.
    """

    min_population: int | None = None
    max_population: int | None = None
    rurality: tuple[int, ...] | None = None
    exclude: tuple[str, ...] = ()

    def describe(self) -> str:
        """The filters set, as ``name=value`` pairs (for messages).

        Examples
        --------
        >>> ScoreFilters(min_population=500, rurality=(6, 7)).describe()
        'min_population=500, rurality=6,7'
        """
        parts = []
        for name in ("min_population", "max_population", "rurality", "exclude"):
            value = getattr(self, name)
            if value is None or value == ():
                continue
            shown = ",".join(map(str, value)) if isinstance(value, tuple) else value
            parts.append(f"{name}={shown}")
        return ", ".join(parts) or "none"


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def check_weights(
    weights: Mapping[str, object] | None, known: Iterable[str] | None = None
) -> dict[str, float]:
    """Validate weights: known keys, finite numbers from 0 to :data:`MAX_WEIGHT`, not all zero.

    Parameters
    ----------
    weights
        Indicator key → weight; ``None`` gives the non-zero :data:`DEFAULT_WEIGHTS`.
    known
        Keys allowed (default: no check of the keys).

    Returns
    -------
    dict
        The weights as floats, in the order given.

    Raises
    ------
    UnknownIndicatorError
        A key is not among ``known``; the message lists the known keys.
    InvalidParameterError
        A weight is negative, above :data:`MAX_WEIGHT`, not a finite number, or every
        weight is zero.

    Examples
    --------
    >>> check_weights({"cooperation": 2, "stability": "1"})
    {'cooperation': 2.0, 'stability': 1.0}
    """
    if weights is None:
        return {key: value for key, value in DEFAULT_WEIGHTS.items() if value > 0}
    if not weights:
        msg = "'weights' is empty; give at least one indicator with a positive weight"
        raise InvalidParameterError(msg)
    allowed = None if known is None else list(known)
    clean: dict[str, float] = {}
    for key, raw in weights.items():
        if allowed is not None and key not in allowed:
            msg = f"'weights': unknown indicator {key!r}; known indicators: {', '.join(allowed)}"
            raise UnknownIndicatorError(msg)
        clean[key] = _weight_value(key, raw)
    if not any(clean.values()):
        msg = f"'weights': every weight is zero ({clean}); give at least one positive weight"
        raise InvalidParameterError(msg)
    return clean


def _weight_value(key: str, raw: object) -> float:
    expected = f"expected a finite number between 0 and {MAX_WEIGHT:g}"
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        msg = f"'weights' has {key}={raw!r}, {expected}"
        raise InvalidParameterError(msg) from err
    if not math.isfinite(value) or not 0 <= value <= MAX_WEIGHT:
        msg = f"'weights' has {key}={raw!r}, {expected}"
        raise InvalidParameterError(msg)
    return value


def resolve_weights(
    changes: Mapping[str, object] | None = None,
    *,
    only: Iterable[str] | None = None,
    known: Iterable[str] | None = None,
) -> dict[str, float]:
    """The weights of a run: the defaults, with ``changes`` on top, restricted to ``only``.

    Parameters
    ----------
    changes
        Indicator key → new weight (e.g. from :func:`parse_weights`); the criteria not
        named keep their default weight.
    only
        Keep just these criteria (at their default weight, or the one in ``changes``;
        1 for an indicator without a default).
    known
        Keys allowed (default: no check of the keys).

    Returns
    -------
    dict
        The weights used, zero weights left out.

    Raises
    ------
    UnknownIndicatorError
        A key is not among ``known``.
    InvalidParameterError
        A bad weight, a weight for a criterion that ``only`` leaves out, or nothing left
        with a positive weight.

    Examples
    --------
    >>> resolve_weights({"cooperation": "2"})
    {'cooperation': 2.0, 'neo_rural': 1.0, 'stability': 1.0, 'hub_distance': 1.0}
    >>> resolve_weights(only=["stability", "rurality"])
    {'stability': 1.0, 'rurality': 1.0}
    """
    changes = dict(changes or {})
    if only is None:
        weights: dict[str, object] = {**DEFAULT_WEIGHTS, **changes}
    else:
        kept = list(dict.fromkeys(only))
        if not kept:
            msg = "'only' names no criterion; give keys, e.g. cooperation,stability"
            raise InvalidParameterError(msg)
        outside = [key for key in changes if key not in kept]
        if outside:
            msg = (
                f"'weights' names {', '.join(outside)}, which 'only' ({', '.join(kept)}) "
                "leaves out; add it to 'only' or drop its weight"
            )
            raise InvalidParameterError(msg)
        weights = {key: changes.get(key, DEFAULT_WEIGHTS.get(key, 1.0)) for key in kept}
    clean = check_weights(weights, known=known)
    return {key: value for key, value in clean.items() if value > 0}


def describe_weights(weights: Mapping[str, float]) -> str:
    """``"cooperation=2, stability=1"``: the weights as a user would type them.

    Examples
    --------
    >>> describe_weights({"cooperation": 2.0, "stability": 0.5})
    'cooperation=2, stability=0.5'
    """
    return ", ".join(f"{key}={value:g}" for key, value in weights.items())


def parse_weights(text: str) -> dict[str, str]:
    """Parse ``"cooperation=2,neo_rural=1"`` into a weights dict (values checked later).

    Raises
    ------
    InvalidParameterError
        An item is not ``key=number``, or a key appears twice.

    Examples
    --------
    >>> parse_weights("cooperation=2, neo_rural=0.5")
    {'cooperation': '2', 'neo_rural': '0.5'}
    """
    weights: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or "=" in value:
            msg = f"'weights': cannot read {item!r}, expected key=number, e.g. cooperation=2"
            raise InvalidParameterError(msg)
        if key in weights:
            msg = f"'weights': indicator {key!r} is given twice"
            raise InvalidParameterError(msg)
        weights[key] = value
    if not weights:
        msg = f"'weights': {text!r} holds no key=number item, e.g. cooperation=2,stability=1"
        raise InvalidParameterError(msg)
    return weights


def parse_classes(text: str | None) -> tuple[int, ...] | None:
    """Parse rurality classes such as ``"5,6,7"`` (INSEE density grid levels 1–7).

    Raises
    ------
    InvalidParameterError
        An item is not an integer between 1 and 7.

    Examples
    --------
    >>> parse_classes("5, 6,7")
    (5, 6, 7)
    """
    if text is None:
        return None
    classes = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        if not item.isdigit() or not 1 <= int(item) <= 7:
            msg = f"'rurality': got {item!r}, expected density classes 1 to 7, e.g. 5,6,7"
            raise InvalidParameterError(msg)
        classes.append(int(item))
    if not classes:
        msg = f"'rurality': {text!r} holds no class, expected e.g. 5,6,7"
        raise InvalidParameterError(msg)
    return tuple(dict.fromkeys(classes))
