"""Result tables as files (see :mod:`geo.scoring`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from geo._errors import InvalidParameterError
from geo._io import atomic_write_text, spreadsheet_safe

__all__ = ["OUTPUT_FORMATS", "to_text", "write_table"]

# ---------------------------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------------------------

OUTPUT_FORMATS = ("csv", "json", "geojson")


def to_text(frame: pd.DataFrame, fmt: str) -> str:
    """Serialise a result table as CSV, JSON records or GeoJSON (geometry needed).

    A scored table (``attrs["weights"]``) carries its weights: one ``weight_<key>``
    column per criterion in every format, and a top-level ``"weights"`` member in
    GeoJSON. CSV text cells that a spreadsheet would run as a formula are neutralised
    (see :func:`geo._io.spreadsheet_safe`).

    Raises
    ------
    InvalidParameterError
        Unknown format, or GeoJSON asked for a table without geometry.
    """
    if fmt not in OUTPUT_FORMATS:
        msg = f"'format' is {fmt!r}, expected one of {', '.join(OUTPUT_FORMATS)}"
        raise InvalidParameterError(msg)
    weights = dict(frame.attrs.get("weights") or {})
    if weights:
        frame = frame.assign(**{f"weight_{k}": float(v) for k, v in weights.items()})
    if fmt == "geojson":
        if "geometry" not in frame.columns or not hasattr(frame, "to_json"):
            msg = "'format' geojson needs commune geometries; use csv or json for this table"
            raise InvalidParameterError(msg)
        text = frame.to_json(na="null", drop_id=True, ensure_ascii=False)
        if weights:
            collection = json.loads(text)
            collection = {"type": collection.pop("type"), "weights": weights, **collection}
            text = json.dumps(collection, ensure_ascii=False)
        return text + "\n"
    plain = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    if fmt == "csv":
        return spreadsheet_safe(plain).to_csv(index=False, float_format="%.6g", lineterminator="\n")
    return plain.to_json(orient="records", force_ascii=False, indent=2) + "\n"


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write a result table atomically (temporary file, then rename) and return its path.

    Raises
    ------
    InvalidParameterError
        ``path`` is a folder, or its folder does not exist.
    """
    target = Path(path)
    text = to_text(frame, fmt)
    if target.is_dir():
        msg = f"'output' {str(target)!r} is a folder, expected a file name such as scores.{fmt}"
        raise InvalidParameterError(msg)
    if not target.parent.is_dir():
        msg = f"'output': folder {str(target.parent)!r} does not exist"
        raise InvalidParameterError(msg)
    return atomic_write_text(target, text)
