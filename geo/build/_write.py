"""Write a built base: the manifest (``sources.json``) and the all-or-nothing publication."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

import geo
from geo import sources
from geo._councils import MatchReport
from geo.build._geometry import EQUAL_AREA_CRS

__all__ = ["COMMITTED", "OUTPUT_FILES", "finish_pending", "manifest", "write_atomically"]

OUTPUT_FILES = (
    "communes.parquet",
    "epci.parquet",
    "departments.parquet",
    "regions.parquet",
    "former_codes.parquet",
    "councillors_2026.parquet",
    "sources.json",
)


def manifest(
    used: list[sources.SourcePackage],
    match: MatchReport,
    recovered: list[str],
    communes: gpd.GeoDataFrame,
    notes: list[str],
) -> dict:
    return {
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": geo.__version__,
        "code_commit": _git_commit(),
        "communes": len(communes),
        "sources": [
            {
                "client": p.client,
                "package": p.name,
                "version": p.version,
                "file": p.filename,
                "sha256": p.sha256,
                "licence": p.licence,
                "holds": p.holds,
            }
            for p in used
        ],
        "councillor_match": match.as_dict(),
        "recovered_geometries": recovered,
        "townhall_quality": communes["townhall_quality"].value_counts().to_dict(),
        "area_crs": EQUAL_AREA_CRS,
        "warnings": notes,
    }


def _git_commit() -> str | None:
    head = Path(geo.__file__).resolve().parent.parent / ".git" / "HEAD"
    with contextlib.suppress(OSError):
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (head.parent / ref[5:]).read_text().strip()
        return ref
    return None


#: Written inside a staged build folder once every file is complete: from then on the
#: build is committed, and an interrupted publication is finished by the next reader.
COMMITTED = "COMMITTED"


def write_atomically(out_dir: Path, tables: dict[str, pd.DataFrame], manifest: dict) -> None:
    """Write every file into a staged folder, commit it, then move the files into place.

    Nothing in ``out_dir`` changes until every file has been written in full. The
    moves are same-filesystem renames; a crash between two of them leaves a
    committed staged folder, which :func:`finish_pending` (run by every reader of
    the base and by the next build) completes, so the base is never a mix of two
    builds for longer than that crash.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    finish_pending(out_dir)
    staged = Path(tempfile.mkdtemp(dir=out_dir, prefix=".build-"))
    try:
        for name, table in tables.items():
            if isinstance(table, gpd.GeoDataFrame):
                table.to_parquet(
                    staged / name, index=False, row_group_size=2_000, write_covering_bbox=False
                )
            else:
                table.to_parquet(staged / name, index=False)
        (staged / "sources.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        marker = staged / f".{COMMITTED}.tmp"
        marker.write_text("\n".join(OUTPUT_FILES) + "\n", encoding="utf-8")
        os.replace(marker, staged / COMMITTED)  # the commit point
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    _publish(staged, out_dir)


def _publish(staged: Path, out_dir: Path) -> None:
    for name in OUTPUT_FILES:
        if (staged / name).exists():
            os.replace(staged / name, out_dir / name)
    shutil.rmtree(staged, ignore_errors=True)


def finish_pending(out_dir: Path) -> list[Path]:
    """Complete the publication of a committed build that was interrupted; drop stale ones.

    A staged folder holding the commit marker is moved into place (roll forward);
    one without it was killed while writing and is deleted. Safe to call often: it
    does nothing when no staged folder is left.

    Returns
    -------
    list[pathlib.Path]
        The staged folders that were published.
    """
    published = []
    for staged in sorted(out_dir.glob(".build-*")):
        if (staged / COMMITTED).is_file():
            _publish(staged, out_dir)
            published.append(staged)
        else:
            shutil.rmtree(staged, ignore_errors=True)
    return published
