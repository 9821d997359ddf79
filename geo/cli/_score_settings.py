"""What one ``ancrage score`` run uses: its options, or a saved scenario's with them on top.

The scenario replay, the weights of ``--weights``/``--only`` and the parsing of code lists
shared by ``score``, ``similar`` and ``typology``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from geo import scoring
from geo._errors import InvalidParameterError, UnknownIndicatorError
from geo.cli._common import err_console, friendly_errors

__all__ = ["parse_codes", "parse_hubs", "parse_keys", "provenance", "replay", "scenario_weights"]


def provenance() -> dict[str, object]:
    """Vintages of the commune base and fingerprint of the layer store, saved in a scenario."""
    return scoring.data_provenance()


def replay(path: Path, given: dict[str, Any]) -> dict[str, Any]:
    """A saved scenario's settings with the options given on the command line on top."""
    with friendly_errors():
        document = scoring.load_scenario(path)
        changes = scoring.data_changes(document.get("data") or {}, provenance())
    saved = document["settings"]
    out = {**saved}
    if any(given["area"].values()):
        out["area"] = given["area"]
    out["filters"] = {
        k: v if v is not None else (saved.get("filters") or {}).get(k)
        for k, v in given["filters"].items()
    }
    for key in ("level", "top", "hubs", "hub_population"):
        if given[key] is not None:
            out[key] = given[key]
    if given["weights"] is not None or given["only"] is not None:
        out["weights"], out["only"] = given["weights"], given["only"]
    err_console.print(f"scenario {path} (saved {document.get('saved_at')})", highlight=False)
    if changes:
        err_console.print(
            "warning: the data changed since the scenario was saved, results may differ: "
            + "; ".join(changes),
            highlight=False,
        )
    return out


def scenario_weights(settings: dict) -> dict[str, float]:
    """Weights of the run: a saved scenario's resolved weights, else --weights/--only."""
    saved = settings["weights"]
    if isinstance(saved, dict):
        try:
            return scoring.check_weights({k: float(v) for k, v in saved.items()})
        except (InvalidParameterError, UnknownIndicatorError, TypeError, ValueError) as err:
            raise typer.BadParameter(str(err), param_hint="--scenario") from err
    return _weights(saved, settings["only"])


def _weights(text: str | None, only: str | None) -> dict[str, float]:
    """The weights of ``--weights``/``--only`` over the defaults; a usage error when wrong."""
    from geo.indicators import get_indicator  # noqa: PLC0415 - heavy module, load on use

    try:
        changes = scoring.parse_weights(text) if text is not None else {}
        kept = None if only is None else parse_keys(only)
        resolved = scoring.resolve_weights(changes, only=kept)
    except InvalidParameterError as err:
        hint = "--only" if str(err).startswith("'only'") else "--weights"
        raise typer.BadParameter(str(err), param_hint=hint) from err
    for key in [*changes, *(kept or [])]:
        try:
            get_indicator(key)
        except UnknownIndicatorError as err:
            hint = "--weights" if key in changes else "--only"
            raise typer.BadParameter(str(err), param_hint=hint) from err
    return resolved


def parse_hubs(text: str) -> str | list[str]:
    """``aav:N`` / ``commune:N`` as given, else a list of INSEE codes."""
    return text.strip() if ":" in text else parse_codes(text, "hubs")


def parse_codes(text: str, name: str) -> list[str]:
    """The comma-separated codes of option ``name``; an error naming it when there are none."""
    codes = [c.strip() for c in text.split(",") if c.strip()]
    if not codes:
        msg = f"'{name}' is {text!r}; give INSEE codes, e.g. 24269"
        raise InvalidParameterError(msg)
    return codes


def parse_keys(text: str | None) -> list[str] | None:
    """The comma-separated indicator keys of ``--keys``/``--only``, or None when not given."""
    return None if text is None else [k.strip() for k in text.split(",") if k.strip()]
