"""Rurality: an approximation of INSEE's 7-level density grid, and INSEE's official files.

INSEE's communal density grid (*grille communale de densité*, 7 levels) classifies
communes from the population of the 1 km² cells they contain: 1 grands centres
urbains, 2 centres urbains intermédiaires, 3 petites villes, 4 ceintures urbaines,
5 bourgs ruraux, 6 rural à habitat dispersé, 7 rural à habitat très dispersé. The
commune base holds only each commune's population and area, so
:func:`approximate_density_class` applies thresholds on density and population
(:data:`THRESHOLDS`), tuned against the official 2024 grid. It agrees exactly on
about 67 % of communes and within one class on about 96 %; it cannot tell 3 (small
towns) from 4 (urban belts), which differ by their neighbourhood, so dense small
communes get 4.

The official files as INSEE publishes them (``insee_grille_densite_7_niveaux_geo2024.csv``
with ``CODGEO, DENS``; ``insee_aav2020_composition_communale_geo2024.csv`` with
``CODGEO, CATEAAV2020``) are imported by :func:`import_insee_file` into
``<ANCRAGE_INDICATORS>/insee/``; :func:`load_official` reads them back and the
rurality indicator then uses the official class, falling back to the
approximation for communes the file does not cover.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"population": [200_000, 900, 120], "area_km2": [50.0, 30.0, 25.0]})
>>> approximate_density_class(frame).tolist()
[1, 6, 7]
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo._config import get_settings
from geo._errors import IndicatorFileError
from geo._io import atomic_write_text

CLASS_LABELS = {
    1: "Grands centres urbains",
    2: "Centres urbains intermédiaires",
    3: "Petites villes",
    4: "Ceintures urbaines",
    5: "Bourgs ruraux",
    6: "Rural à habitat dispersé",
    7: "Rural à habitat très dispersé",
}

AAV_LABELS = {
    11: "Commune-centre d'un pôle",
    12: "Autre commune du pôle principal",
    13: "Commune d'un pôle secondaire",
    20: "Commune de la couronne",
    30: "Commune hors attraction des villes",
}


@dataclass(frozen=True)
class Thresholds:
    """Density (inhabitants/km²) and population thresholds of the approximation.

    A commune takes the first class whose rule it meets, from 1 to 6; else 7:
    1 if density ≥ ``d1`` and population ≥ ``p1``; 2 if density ≥ ``d2`` and
    population ≥ ``p2``; 4 if density ≥ ``d4`` and population ≥ ``p4``; 5 if
    density ≥ ``d5`` and population ≥ ``p5``; 6 if density ≥ ``d6``.
    """

    d1: float = 1200.0
    p1: float = 5000.0
    d2: float = 250.0
    p2: float = 10_000.0
    d4: float = 300.0
    p4: float = 1000.0
    d5: float = 60.0
    p5: float = 1000.0
    d6: float = 15.0


THRESHOLDS = Thresholds()
"""Tuned by coordinate search against INSEE's grid (geography 2024): exact agreement
67 %, within one class 96 %, rural (5–7) vs urban (1–4) 94 %."""


def approximate_density_class(
    communes: pd.DataFrame, *, thresholds: Thresholds = THRESHOLDS
) -> pd.Series:
    """Approximate INSEE's density class (1 densest … 7 most rural) of each commune.

    Parameters
    ----------
    communes
        Frame with ``population`` and ``area_km2``.
    thresholds
        Rules (see :class:`Thresholds`).

    Returns
    -------
    pandas.Series
        ``Int64`` classes indexed like ``communes``; missing where population or
        area is missing or the area is not positive.
    """
    pop = pd.to_numeric(communes["population"], errors="coerce").astype(float).to_numpy()
    area = pd.to_numeric(communes["area_km2"], errors="coerce").astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        dens = np.where(area > 0, pop / area, np.nan)
    t = thresholds
    rules = [
        (dens >= t.d1) & (pop >= t.p1),
        (dens >= t.d2) & (pop >= t.p2),
        (dens >= t.d4) & (pop >= t.p4),
        (dens >= t.d5) & (pop >= t.p5),
        dens >= t.d6,
    ]
    classes = np.select(rules, [1, 2, 4, 5, 6], default=7).astype(float)
    classes[np.isnan(dens)] = np.nan
    return pd.Series(classes, index=communes.index).astype("Int64")


def rurality_agreement(approx: pd.Series, official: pd.Series) -> pd.DataFrame:
    """Confusion table of approximate vs official density classes.

    Parameters
    ----------
    approx, official
        Classes indexed by INSEE code; only codes present (and not missing) in
        both are compared.

    Returns
    -------
    pandas.DataFrame
        Rows = official class, columns = approximate class, counts. ``attrs``
        holds ``exact`` (share on the diagonal), ``within_one`` (|diff| ≤ 1),
        ``rural_match`` (both rural 5–7 or both urban 1–4) and ``compared``.

    Examples
    --------
    >>> a = pd.Series([6, 7, 5], index=["a", "b", "c"])
    >>> o = pd.Series([6, 6, 5], index=["a", "b", "c"])
    >>> round(rurality_agreement(a, o).attrs["exact"], 3)
    0.667
    """
    both = pd.concat({"official": official, "approx": approx}, axis=1, join="inner").dropna()
    both = both.astype(int)
    table = pd.crosstab(both["official"], both["approx"]).reindex(
        index=range(1, 8), columns=range(1, 8), fill_value=0
    )
    table.index.name, table.columns.name = "official", "approx"
    n = len(both)
    diff = (both["official"] - both["approx"]).abs()
    table.attrs.update(
        compared=n,
        exact=float((diff == 0).mean()) if n else float("nan"),
        within_one=float((diff <= 1).mean()) if n else float("nan"),
        rural_match=float(((both["official"] >= 5) == (both["approx"] >= 5)).mean())
        if n
        else float("nan"),
    )
    return table


# ---------------------------------------------------------------- stored files


def indicators_dir() -> Path:
    """Folder of imported indicator files (env ``ANCRAGE_INDICATORS``, default data/indicators)."""
    return get_settings().indicators_dir


_OFFICIAL = {
    # kind: (value column in INSEE's file, our column, allowed values, stored name)
    "density_grid": ("DENS", "density_class", set(CLASS_LABELS), "density_grid"),
    "aav": ("CATEAAV2020", "aav_category", set(AAV_LABELS), "aav2020"),
}


#: Default size limit of an indicator file, in bytes.
DEFAULT_MAX_BYTES = 50_000_000


def _decode_table(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" (UTF-16)
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_table(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[pd.DataFrame, str]:
    """Read a CSV as text columns, guessing the separator (``,`` ``;`` or tab) and a BOM.

    UTF-8 (with or without BOM), UTF-16 with a BOM and Latin-1 are read. Returns the
    frame and its separator; line numbers of row ``i`` are ``i + 2``.

    Raises
    ------
    IndicatorFileError
        Missing, over ``max_bytes``, empty, header-only or unparsable file.
    """
    if not path.is_file():
        msg = f"file {str(path)!r} not found"
        raise IndicatorFileError(msg)
    size = path.stat().st_size
    if size > max_bytes:
        msg = (
            f"{path.name} is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit "
            "('max_bytes', --max-mb); split the file or raise the limit"
        )
        raise IndicatorFileError(msg)
    text = _decode_table(path.read_bytes())
    if not text.strip():
        msg = f"{path.name} is empty: expected a header line (e.g. code;value) and data rows"
        raise IndicatorFileError(msg)
    first = text.split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=first.count)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        msg = f"{path.name}: not a readable CSV file: {err}"
        raise IndicatorFileError(msg) from err
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        msg = (
            f"{path.name} has a header ({', '.join(frame.columns)}) but no data row; "
            "expected one row per commune"
        )
        raise IndicatorFileError(msg)
    return frame, sep


def _detect_kind(frame: pd.DataFrame, name: str) -> str:
    for kind, (column, *_rest) in _OFFICIAL.items():
        if column in frame.columns and "CODGEO" in frame.columns:
            return kind
    msg = (
        f"{name}: not an INSEE file this tool knows; expected columns CODGEO and DENS "
        "(grille de densité à 7 niveaux) or CODGEO and CATEAAV2020 (aires d'attraction des "
        f"villes 2020), got {', '.join(frame.columns[:8])}"
    )
    raise IndicatorFileError(msg)


def _parse_values(frame: pd.DataFrame, column: str, allowed: set[int], name: str) -> pd.Series:
    values = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    bad = values.isna() | ~values.isin(list(allowed))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = (
            f"{name} line {row + 2}, field {column!r}: got {frame[column].iloc[row]!r}, "
            f"expected one of {', '.join(map(str, sorted(allowed)))}"
        )
        raise IndicatorFileError(msg)
    return values.astype(int)


def _most_populous_part(mapped: pd.Series, weights: pd.Series, values: pd.Series) -> pd.Series:
    """One value per current code: a merged commune takes its most populous part's value."""
    table = pd.DataFrame({"code": mapped, "weight": weights, "value": values}).dropna(
        subset=["code"]
    )
    table = table.sort_values(["weight", "value"], ascending=[False, True], kind="stable")
    return table.drop_duplicates("code").set_index("code")["value"].astype(int)


def import_insee_file(
    path: str | os.PathLike[str],
    *,
    data_dir: Path | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict:
    """Import INSEE's density grid or attraction-area file for later use.

    Parameters
    ----------
    path
        ``insee_grille_densite_7_niveaux_geo2024.csv`` (``CODGEO``, ``DENS``,
        optionally ``PMUN21``) or ``insee_aav2020_composition_communale_geo2024.csv``
        (``CODGEO``, ``CATEAAV2020``), as INSEE publishes them.
    data_dir
        Commune base folder (for current and former codes).
    max_bytes
        Largest file accepted (default 50 MB).

    Returns
    -------
    dict
        Summary: kind, file, sha256, rows, communes (current codes filled),
        mapped_former (2024 codes mapped to a merged commune), unknown_codes
        (codes matching no current or former commune: they are left out),
        stored (path).

    Raises
    ------
    IndicatorFileError
        Unreadable, empty, header-only or too large file, unknown layout or a bad
        class (line number given).
    """
    from geo.communes import to_current_codes  # noqa: PLC0415

    path = Path(path)
    frame, _sep = read_table(path, max_bytes=max_bytes)
    kind = _detect_kind(frame, path.name)
    column, ours, allowed, stored_name = _OFFICIAL[kind]
    values = _parse_values(frame, column, allowed, path.name)
    codes = frame["CODGEO"].str.strip()
    weights = pd.to_numeric(
        frame.get("PMUN21", pd.Series(0, index=frame.index)), errors="coerce"
    ).fillna(0)
    mapped = to_current_codes(codes, data_dir=data_dir)
    unknown = sorted(codes[mapped.isna()].tolist())
    result = _most_populous_part(mapped, weights, values)
    out = result.rename(ours).rename_axis("code").reset_index()
    folder = indicators_dir() / "insee"
    summary = {
        "kind": kind,
        "file": path.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": len(frame),
        "communes": len(out),
        "mapped_former": int((mapped.notna() & (mapped != codes.str.upper().str.zfill(5))).sum()),
        "unknown_codes": unknown,
        "stored": str(folder / f"{stored_name}.csv"),
    }
    atomic_write_text(folder / f"{stored_name}.csv", out.to_csv(index=False))
    atomic_write_text(
        folder / f"{stored_name}.json", json.dumps(summary, indent=2, ensure_ascii=False)
    )
    return summary


def shipped_official() -> pd.DataFrame | None:
    """INSEE classes shipped in ``data/reference/`` (grid 2024, AAV 2020), by current code.

    Returns
    -------
    pandas.DataFrame or None
        ``density_class`` and ``aav_category`` (``Int64``), or ``None`` when the
        shipped tables are absent.
    """
    from geo._reference import load_reference  # noqa: PLC0415

    pieces = []
    for name, column in (("density_grid", "density_class"), ("aav2020", "aav_category")):
        table = load_reference(name)
        if table is not None:
            pieces.append(table.set_index("code")[column].astype("Int64"))
    if not pieces:
        return None
    frame = pd.concat(pieces, axis=1)
    frame.index = frame.index.astype(object)
    frame.index.name = None
    return frame


def load_official() -> pd.DataFrame | None:
    """Official INSEE classes by current code, or ``None`` when none are available.

    The tables shipped in ``data/reference/`` are used by default; a file imported
    with ``ancrage indicators add-insee`` takes precedence for the communes it covers.

    Returns
    -------
    pandas.DataFrame or None
        Columns ``density_class`` and/or ``aav_category`` (``Int64``).
    """
    folder = indicators_dir() / "insee"
    frame = shipped_official()
    for _column, ours, _allowed, stored_name in _OFFICIAL.values():
        file = folder / f"{stored_name}.csv"
        if file.is_file():
            piece = pd.read_csv(file, dtype={"code": str}).set_index("code")[ours]
            piece = piece.astype("Int64")
            piece.index.name = None
            if frame is None:
                frame = piece.to_frame()
            elif ours in frame:
                frame = frame.reindex(frame.index.union(piece.index))
                frame[ours] = piece.combine_first(frame[ours]).astype("Int64")
            else:
                frame = frame.join(piece, how="outer")
    return frame


def rurality_frame(communes: pd.DataFrame, official: pd.DataFrame | None) -> pd.DataFrame:
    """Density class per commune: official where known, else the approximation.

    Returns
    -------
    pandas.DataFrame
        ``density_class`` (used value), ``density_class_approx``,
        ``density_class_official``, ``aav_category`` and ``density`` (inhabitants/km²).
    """
    approx = approximate_density_class(communes)
    out = pd.DataFrame(index=communes.index)
    empty = pd.Series(pd.NA, index=communes.index, dtype="Int64")
    official_cls, aav = empty, empty
    if official is not None:
        if "density_class" in official:
            official_cls = official["density_class"].reindex(communes.index).astype("Int64")
        if "aav_category" in official:
            aav = official["aav_category"].reindex(communes.index).astype("Int64")
    out["density_class"] = official_cls.fillna(approx).astype("Int64")
    out["density_class_approx"] = approx
    out["density_class_official"] = official_cls
    out["aav_category"] = aav
    pop = pd.to_numeric(communes["population"], errors="coerce").astype(float)
    area = pd.to_numeric(communes["area_km2"], errors="coerce").astype(float)
    out["density"] = (pop / area.where(area > 0)).round(2)
    return out
