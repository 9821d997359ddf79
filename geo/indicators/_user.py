"""User indicators: a CSV of INSEE code -> value, stored atomically and registered."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo import rurality
from geo._errors import (
    IndicatorFileError,
    InvalidParameterError,
    UnknownIndicatorError,
)
from geo._io import atomic_write_text
from geo.communes import to_current_codes
from geo.indicators._registry import (
    DIRECTIONS,
    REGISTRY,
    Indicator,
    IndicatorContext,
    register,
)

# ---------------------------------------------------------------- user indicators (§6)

_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MERGE_RULES = ("sum", "mean")
USER_METADATA = ("unit", "description", "source", "vintage", "licence")


def _user_dir() -> Path:
    return rurality.indicators_dir() / "user"


def _user_compute(key: str) -> Callable[[IndicatorContext], pd.DataFrame]:
    def compute(context: IndicatorContext) -> pd.DataFrame:
        path = _user_dir() / f"{key}.csv"
        values = pd.read_csv(path, dtype={"code": str}).set_index("code")["value"]
        values.index.name = None
        return pd.DataFrame({f"user_{key}": values.reindex(context.communes.index)})

    return compute


def _user_indicator(meta: Mapping[str, Any]) -> Indicator:
    return Indicator(
        key=meta["key"],
        label=meta["label"],
        description=meta.get("description", ""),
        unit=meta.get("unit", ""),
        direction=meta["direction"],
        sources=tuple(meta.get("sources", ())),
        vintage=meta.get("vintage", ""),
        licence=meta.get("licence", ""),
        method=meta.get("method", ""),
        column=f"user_{meta['key']}",
        parts=(),
        compute=_user_compute(meta["key"]),
        user=True,
    )


def load_user_indicators() -> list[str]:
    """Register the user indicators stored under ``<ANCRAGE_INDICATORS>/user``.

    Stale user entries (file removed, or another ``ANCRAGE_INDICATORS``) are
    dropped from :data:`REGISTRY` first. Returns the keys registered.
    """
    for key in [k for k, ind in REGISTRY.items() if ind.user]:
        del REGISTRY[key]
    folder = _user_dir()
    keys = []
    for sidecar in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not sidecar.with_suffix(".csv").is_file():
            continue
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("key") in REGISTRY:
            continue  # never shadow a built-in
        register(_user_indicator(meta))
        keys.append(meta["key"])
    return keys


def _check_new_key(key: str, direction: str, merge: str) -> None:
    if not _KEY_PATTERN.match(key):
        msg = (
            f"--key: got {key!r}, expected lowercase letters, digits and '_' starting with a "
            "letter (at most 40 characters), e.g. 'associations'"
        )
        raise InvalidParameterError(msg)
    builtin = {k for k, ind in REGISTRY.items() if not ind.user}
    if key in builtin:
        msg = f"--key: {key!r} is a built-in indicator; choose another key"
        raise InvalidParameterError(msg)
    if direction not in DIRECTIONS:
        msg = f"--direction: got {direction!r}, expected one of {', '.join(DIRECTIONS)}"
        raise InvalidParameterError(msg)
    if merge not in MERGE_RULES:
        msg = f"--merge: got {merge!r}, expected one of {', '.join(MERGE_RULES)}"
        raise InvalidParameterError(msg)


def _code_value_columns(frame: pd.DataFrame, name: str) -> tuple[str, str]:
    lowered = {c.lower(): c for c in frame.columns}
    code = next(
        (lowered[c] for c in ("code", "codgeo", "insee", "code_insee", "com") if c in lowered), None
    )
    if code is None or len(frame.columns) < 2:
        msg = (
            f"{name}: expected a column of INSEE codes named code (or CODGEO, insee, "
            f"code_insee) and a value column, got columns {', '.join(frame.columns)}"
        )
        raise IndicatorFileError(msg)
    others = [c for c in frame.columns if c != code]
    value = lowered.get("value", others[0])
    return code, value


def parse_user_file(
    path: str | os.PathLike[str], *, max_bytes: int = rurality.DEFAULT_MAX_BYTES
) -> pd.Series:
    """Read a CSV of INSEE code → numeric value (``,`` ``;`` or tab separated, ``,`` decimals ok).

    Raises
    ------
    IndicatorFileError
        Missing, empty, header-only or too large (``max_bytes``) file, missing columns,
        a non-numeric or non-finite value or an empty/duplicated code, naming the line.
    """
    path = Path(path)
    frame, sep = rurality.read_table(path, max_bytes=max_bytes)
    code_col, value_col = _code_value_columns(frame, path.name)
    codes = frame[code_col].str.strip().str.zfill(5)
    text = frame[value_col].str.strip()
    if sep != ",":
        text = text.str.replace(",", ".", regex=False)
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = values.isna() & (text != "")
    problems = [
        ("empty code", codes == "00000"),
        ("non-numeric value", bad),
        ("non-finite value", values.notna() & ~np.isfinite(values.fillna(0))),
        ("duplicated code", codes.duplicated(keep="first")),
    ]
    for what, mask in problems:
        if mask.any():
            row = int(np.flatnonzero(mask.to_numpy())[0])
            field_name = value_col if "value" in what else code_col
            shown = frame[field_name].iloc[row]
            expected = "a finite number" if "value" in what else "a unique INSEE code"
            msg = (
                f"{path.name} line {row + 2}, field {field_name!r}: got {shown!r} "
                f"({what}); expected {expected}"
            )
            raise IndicatorFileError(msg)
    return pd.Series(values.to_numpy(), index=codes.to_numpy(), name="value")


def map_to_current(
    values: pd.Series, *, merge: str = "sum", data_dir: Path | None = None
) -> tuple[pd.Series, dict[str, str]]:
    """Map codes to current communes; former codes of merged communes are combined.

    Returns the values by current code and the {former: current} mapping used.

    Raises
    ------
    IndicatorFileError
        When codes match no current or former commune (all listed).
    """
    codes = pd.Series(values.index, index=values.index)
    mapped = to_current_codes(codes, data_dir=data_dir)
    known = (mapped == codes).to_numpy(dtype=bool)
    unknown = sorted(values.index[mapped.isna()].tolist())
    if unknown:
        shown = ", ".join(unknown[:50]) + (" ..." if len(unknown) > 50 else "")
        msg = (
            f"{len(unknown)} code(s) match no current or former commune: {shown}; "
            "expected INSEE commune codes (COG 2026, or codes of communes since merged)"
        )
        raise IndicatorFileError(msg)
    grouped = values.groupby(mapped.to_numpy())
    combined = grouped.sum(min_count=1) if merge == "sum" else grouped.mean()
    return combined, {k: v for k, v in mapped[~known].items()}


def add_user_indicator(
    path: str | os.PathLike[str],
    *,
    key: str,
    label: str,
    direction: str,
    merge: str = "sum",
    max_bytes: int = rurality.DEFAULT_MAX_BYTES,
    **metadata: str | None,
) -> Indicator:
    """Import a CSV of INSEE code → value as a user indicator, stored for later runs.

    The file is validated completely before anything is written; the values
    (``<key>.csv``) and metadata (``<key>.json``) land in
    ``<ANCRAGE_INDICATORS>/user/`` by atomic renames. Codes of merged communes
    are mapped to the current commune and combined by ``merge`` ("sum" for
    counts, "mean" for rates).

    Parameters
    ----------
    path
        CSV with a code column (``code``, ``CODGEO``, ``insee``...) and a value column.
    key, label, direction
        Identifier, French label, ``higher_better`` or ``lower_better``.
    merge
        How values of several former communes merged into one are combined.
    max_bytes
        Largest file accepted (default 50 MB).
    **metadata
        Optional ``unit``, ``description``, ``source`` (default: the file name),
        ``vintage``, ``licence``.

    Returns
    -------
    Indicator
        The registered indicator (column ``user_<key>``).
    """
    load_user_indicators()
    _check_new_key(key, direction, merge)
    unknown = sorted(set(metadata) - set(USER_METADATA))
    if unknown:
        msg = f"unknown option(s) {unknown}; known options: {', '.join(USER_METADATA)}"
        raise TypeError(msg)
    meta_text = {name: (metadata.get(name) or "") for name in USER_METADATA}
    if not label.strip():
        msg = "--label: must not be empty"
        raise InvalidParameterError(msg)
    values, mapped = map_to_current(parse_user_file(path, max_bytes=max_bytes), merge=merge)
    meta = {
        "key": key,
        "label": label,
        "description": meta_text["description"],
        "unit": meta_text["unit"],
        "direction": direction,
        "sources": [meta_text["source"] or Path(path).name],
        "vintage": meta_text["vintage"],
        "licence": meta_text["licence"],
        "merge": merge,
        "mapped_former_codes": mapped,
        "method": f"values imported from {Path(path).name}; former codes of merged communes "
        f"combined by {merge}",
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "communes": len(values),
    }
    folder = _user_dir()
    table = values.rename("value").rename_axis("code").reset_index()
    atomic_write_text(folder / f"{key}.csv", table.to_csv(index=False))
    atomic_write_text(folder / f"{key}.json", json.dumps(meta, indent=2, ensure_ascii=False))
    indicator = register(_user_indicator(meta))
    return indicator


def remove_user_indicator(key: str) -> None:
    """Delete a stored user indicator (its values and metadata)."""
    load_user_indicators()
    indicator = REGISTRY.get(key)
    if indicator is None:
        msg = f"unknown indicator {key!r}; known indicators: {', '.join(REGISTRY)}"
        raise UnknownIndicatorError(msg)
    if not indicator.user:
        msg = f"{key!r} is a built-in indicator and cannot be removed"
        raise InvalidParameterError(msg)
    for suffix in (".json", ".csv"):
        (_user_dir() / f"{key}{suffix}").unlink(missing_ok=True)
    REGISTRY.pop(key, None)
