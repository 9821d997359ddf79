"""Result tables as files (see :mod:`geo.scoring`)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from geo._errors import InvalidParameterError
from geo._io import atomic_path, spreadsheet_safe

__all__ = ["OUTPUT_FORMATS", "french_headers", "to_bytes", "to_text", "to_xlsx", "write_table"]

# ---------------------------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------------------------

OUTPUT_FORMATS = ("csv", "csv-fr", "json", "geojson", "xlsx")


def to_text(frame: pd.DataFrame, fmt: str) -> str:
    """Serialise a result table as CSV, French CSV, JSON records or GeoJSON (geometry needed).

    ``csv-fr`` is for French spreadsheets: ``;`` separator, decimal comma, a UTF-8 byte
    order mark and French headers (:func:`french_headers`). ``xlsx`` is binary: use
    :func:`to_bytes`.

    A scored table (``attrs["weights"]``) carries its weights: one ``weight_<key>``
    column per criterion in every format, and a top-level ``"weights"`` member in
    GeoJSON. CSV text cells that a spreadsheet would run as a formula are neutralised
    (see :func:`geo._io.spreadsheet_safe`).

    Raises
    ------
    InvalidParameterError
        Unknown format, or GeoJSON asked for a table without geometry.
    """
    if fmt not in OUTPUT_FORMATS or fmt == "xlsx":
        shown = ", ".join(f for f in OUTPUT_FORMATS if f != "xlsx")
        msg = f"'format' is {fmt!r}, expected one of {shown} (xlsx: use to_bytes)"
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
    if fmt == "csv-fr":
        french = spreadsheet_safe(plain).rename(columns=french_headers(plain.columns))
        body = french.to_csv(
            index=False, sep=";", decimal=",", float_format="%.6g", lineterminator="\r\n"
        )
        return "\ufeff" + body
    return plain.to_json(orient="records", force_ascii=False, indent=2) + "\n"


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], fmt: str) -> Path:
    """Write a result table atomically (temporary file, then rename) and return its path.

    Raises
    ------
    InvalidParameterError
        ``path`` is a folder, or its folder does not exist.
    """
    target = Path(path)
    data = to_bytes(frame, fmt)
    if target.is_dir():
        msg = f"'output' {str(target)!r} is a folder, expected a file name such as scores.{fmt}"
        raise InvalidParameterError(msg)
    if not target.parent.is_dir():
        msg = f"'output': folder {str(target.parent)!r} does not exist"
        raise InvalidParameterError(msg)
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)
    return target


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """A result table in any of :data:`OUTPUT_FORMATS`, as the bytes of its file."""
    if fmt == "xlsx":
        return to_xlsx(frame)
    return to_text(frame, fmt).encode("utf-8")


_FIXED_HEADERS = {
    "code": "Code INSEE",
    "name": "Commune",
    "department_code": "Département",
    "epci_code": "Code EPCI (SIREN)",
    "epci_name": "EPCI",
    "population": "Population",
    "in_area": "Dans la zone",
    "score": "Score (0 à 1)",
    "rank": "Rang",
    "rank_stability": "Stabilité du rang",
    "coverage": "Part des pondérations disponible",
    "reasons": "Pourquoi",
    "strengths": "Atouts",
    "weaknesses": "Points faibles",
    "summary": "Résumé",
    "communes": "Communes",
    "communes_outside": "Communes hors de la zone",
    "outside": "Liste des communes hors de la zone",
}


def _catalogue() -> pd.DataFrame:
    from geo.indicators import catalogue  # noqa: PLC0415 - heavy module, load on use

    return catalogue()


def french_headers(columns: Iterable[str]) -> dict[str, str]:
    """French header of each known column (context, score, indicators by their label).

    Indicator columns get the indicator's label (``hub_distance_km`` → « Distance au pôle
    urbain le plus proche (km) »); ``pct_<key>``, ``contrib_<key>`` and ``weight_<key>``
    are « Centile : … », « Contribution : … », « Pondération : … ». Unknown columns keep
    their name.
    """
    table = _catalogue()
    labels = dict(zip(table["key"], table["label"], strict=True))
    by_column = {
        column: f"{label} ({unit})" if unit else label
        for column, label, unit in zip(table["column"], table["label"], table["unit"], strict=True)
    }
    out: dict[str, str] = {}
    for column in columns:
        prefix, _, key = column.partition("_")
        if column in _FIXED_HEADERS:
            out[column] = _FIXED_HEADERS[column]
        elif column in by_column:
            out[column] = by_column[column]
        elif prefix in ("pct", "contrib", "weight") and key in labels:
            word = {"pct": "Centile", "contrib": "Contribution", "weight": "Pondération"}[prefix]
            out[column] = f"{word} : {labels[key]}"
    return out


_FORMATS = {"population": "#,##0", "communes": "0", "rank": "0", "communes_outside": "0"}


def _number_format(column: str) -> str | None:
    if column in _FORMATS:
        return _FORMATS[column]
    if column.startswith(("pct_", "contrib_", "weight_")) or column in (
        "score",
        "rank_stability",
        "coverage",
    ):
        return "0.000"
    if column.endswith(("_km", "_min")):
        return "0.0"
    return None


def _sheet(book: Any, title: str, rows: list[list[object]], widths: Sequence[int]) -> None:
    from openpyxl.styles import Font  # noqa: PLC0415

    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append([spreadsheet_safe(pd.DataFrame({"v": [v]}))["v"].iloc[0] for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[_letter(index)].width = width


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter  # noqa: PLC0415

    return get_column_letter(index)


def _results_sheet(book: Any, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font  # noqa: PLC0415

    sheet = book.active
    sheet.title = "Résultats"
    plain = spreadsheet_safe(pd.DataFrame(frame.drop(columns="geometry", errors="ignore")))
    headers = french_headers(plain.columns)
    sheet.append([headers.get(c, c) for c in plain.columns])
    for row in plain.itertuples(index=False):
        sheet.append([None if _missing(v) else _python(v) for v in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(plain.columns, start=1):
        letter = _letter(index)
        wide = column in ("reasons", "strengths", "weaknesses", "summary", "outside")
        sheet.column_dimensions[letter].width = 60 if wide else 16
        number_format = _number_format(column)
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format


def _missing(value: object) -> bool:
    return value is None or (not isinstance(value, (str, bytes)) and bool(pd.isna(value)))


def _python(value: object) -> object:
    return value.item() if hasattr(value, "item") else value


def _weights_rows(frame: pd.DataFrame) -> list[list[object]]:
    weights = dict(frame.attrs.get("weights") or {})
    total = sum(weights.values()) or 1.0
    table = _catalogue().set_index("key")
    rows: list[list[object]] = [
        [
            "Clé",
            "Critère",
            "Pondération",
            "Part du total",
            "Sens",
            "Unité",
            "Sources",
            "Millésime",
            "Licence",
            "Formule",
        ],
    ]
    for key, weight in weights.items():
        info = table.loc[key] if key in table.index else pd.Series(dtype=object)
        direction = {"higher_better": "plus haut = mieux", "lower_better": "plus bas = mieux"}
        rows.append(
            [
                key,
                info.get("label", key),
                float(weight),
                round(weight / total, 4),
                direction.get(info.get("direction"), ""),
                info.get("unit", ""),
                info.get("sources", ""),
                info.get("vintage", ""),
                info.get("licence", ""),
                info.get("method", ""),
            ]
        )
    return rows


def _vintage_rows(provenance: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = [["Donnée", "Version ou date", "Empreinte (SHA-256)", "Contenu"]]
    rows.append(["Export", datetime.now(UTC).isoformat(timespec="seconds"), "", ""])
    base = provenance.get("base") or {}
    rows.append(
        [
            "Base des communes (construite le)",
            base.get("built_at") or "n.d.",
            "",
            f"{base.get('communes') or 'n.d.'} communes",
        ]
    )
    for source in base.get("sources", []):
        rows.append(
            [
                source.get("package"),
                source.get("version"),
                source.get("sha256"),
                source.get("holds"),
            ]
        )
    for name, digest in (provenance.get("reference") or {}).items():
        rows.append([f"Table de référence {name}", "", digest, ""])
    store = provenance.get("store") or {}
    counts = ", ".join(f"{k} {n}" for k, n in (store.get("records") or {}).items())
    rows.append(
        [
            f"Couches ancrage ({store.get('file', 'n.d.')})",
            "",
            store.get("fingerprint") or "",
            counts or "absent",
        ]
    )
    return rows


def to_xlsx(frame: pd.DataFrame, *, provenance: dict[str, Any] | None = None) -> bytes:
    """A result table as an Excel workbook for a selection committee.

    Sheets: « Résultats » (French headers, frozen header row, number formats),
    « Pondérations et sources » (weight, label, source, licence and formula of each
    criterion) and « Millésimes » (data vintages of the base, digests of the reference
    tables, the layer store's fingerprint, time of export). Text cells are formula-safe.

    Parameters
    ----------
    frame
        Output of :func:`~geo.scoring.score` or :func:`~geo.scoring.aggregate_epci`.
    provenance
        As from :func:`~geo.scoring.data_provenance` (default: computed now).
    """
    from openpyxl import Workbook  # noqa: PLC0415 - loads only when a workbook is asked for

    from geo.scoring._scenario import data_provenance  # noqa: PLC0415

    weights = dict(frame.attrs.get("weights") or {})
    if weights:
        frame = frame.assign(**{f"weight_{k}": float(v) for k, v in weights.items()})
    book = Workbook()
    _results_sheet(book, frame)
    _sheet(
        book,
        "Pondérations et sources",
        _weights_rows(frame),
        (18, 36, 12, 12, 16, 12, 60, 30, 30, 80),
    )
    known = provenance if provenance is not None else data_provenance()
    _sheet(book, "Millésimes", _vintage_rows(dict(known)), (40, 28, 66, 60))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
