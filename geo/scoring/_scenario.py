"""Scenarios: a score's settings and the data it ran on, saved to replay it later.

A scenario is a small JSON file (schema below, ``"ancrage_scenario": 1``)::

    {
      "ancrage_scenario": 1,            # schema version
      "saved_at": "2026-12-02T05:00:00+00:00",
      "settings": {                     # what the command line said
        "area": {"department": "24", "region": null, "epci": null, "codes": null},
        "level": "commune", "top": 20, "weights": {"cooperation": 1.0, ...},
        "only": null, "hubs": null, "hub_population": null,
        "filters": {"min_population": null, "max_population": null,
                    "rurality": null, "exclude": []}
      },
      "data": {                         # see data_provenance()
        "base": {"built_at": ..., "code_version": ..., "sources": [...]},
        "reference": {"festivals.parquet": "<sha256>", ...},
        "store": {"file": "ancrage.gpkg", "records": {"providers": 12, ...},
                  "fingerprint": "<sha256 of every record>"}
      }
    }

The store fingerprint is a SHA-256 over every row of every layer table, in rowid order
(geometry blobs included), so any added, edited or deleted record changes it; the record
counts say which layers moved. Replaying compares the saved ``data`` with the current one
and lists what changed (:func:`data_changes`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geo._errors import InvalidParameterError
from geo._io import atomic_write_text

__all__ = [
    "SCENARIO_VERSION",
    "data_changes",
    "data_provenance",
    "load_scenario",
    "save_scenario",
    "store_fingerprint",
]

SCENARIO_VERSION = 1
"""Version of the scenario schema written by :func:`save_scenario`."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Record counts per layer and a SHA-256 of every record of the layer store (read-only).

    A missing store gives ``{"file": name, "records": {}, "fingerprint": None}``.
    """
    from geo.layers import LAYER_KINDS  # noqa: PLC0415

    path = Path(path)
    if not path.exists():
        return {"file": path.name, "records": {}, "fingerprint": None}
    digest = hashlib.sha256()
    records: dict[str, int] = {}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        for kind in LAYER_KINDS:
            rows = connection.execute(f'SELECT * FROM "{kind}" ORDER BY rowid').fetchall()
            records[kind] = len(rows)
            digest.update(f"{kind}:{len(rows)}\n".encode())
            for row in rows:
                digest.update(repr(row).encode("utf-8", "surrogatepass"))
    except sqlite3.Error as err:
        msg = f"the layer store {path} cannot be read for its fingerprint: {err}"
        raise InvalidParameterError(msg) from err
    finally:
        connection.close()
    return {"file": path.name, "records": records, "fingerprint": digest.hexdigest()}


def data_provenance(
    *, data_dir: Path | None = None, store: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The data behind a score: base vintages and build, reference table digests, the store.

    Parts that cannot be read (no base built, say) are ``None`` rather than errors, so an
    export still carries what is known.
    """
    from geo import communes  # noqa: PLC0415
    from geo._config import get_settings  # noqa: PLC0415
    from geo._reference import reference_dir  # noqa: PLC0415

    base: dict[str, Any] | None
    try:
        manifest = json.loads(communes.base_file("sources.json", data_dir).read_text("utf-8"))
        keep = ("package", "version", "sha256", "holds", "licence")
        base = {
            "built_at": manifest.get("built_at"),
            "code_version": manifest.get("code_version"),
            "communes": manifest.get("communes"),
            "sources": [{k: s.get(k) for k in keep} for s in manifest.get("sources", [])],
        }
    except (OSError, ValueError):
        base = None
    folder = reference_dir()
    reference = (
        {p.name: _sha256(p) for p in sorted(folder.glob("*.parquet"))} if folder.is_dir() else {}
    )
    store_path = Path(store) if store is not None else get_settings().store
    return {"base": base, "reference": reference, "store": store_fingerprint(store_path)}


def data_changes(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between two :func:`data_provenance` results, one line each.

    Examples
    --------
    >>> old = {"base": {"built_at": "a"}, "reference": {"x.parquet": "1"},
    ...        "store": {"records": {"places": 2}, "fingerprint": "f"}}
    >>> new = {"base": {"built_at": "b"}, "reference": {"x.parquet": "1"},
    ...        "store": {"records": {"places": 3}, "fingerprint": "g"}}
    >>> data_changes(old, new)
    ['commune base rebuilt (a -> b)', 'store layer places: 2 -> 3 record(s)']
    """
    lines: list[str] = []
    old_base, new_base = saved.get("base") or {}, current.get("base") or {}
    if old_base.get("built_at") != new_base.get("built_at"):
        lines.append(
            f"commune base rebuilt ({old_base.get('built_at')} -> {new_base.get('built_at')})"
        )
    old_sources = {(s.get("package"), s.get("version")) for s in old_base.get("sources", [])}
    new_sources = {(s.get("package"), s.get("version")) for s in new_base.get("sources", [])}
    for package, version in sorted(new_sources - old_sources, key=str):
        lines.append(f"base source {package} {version} is new")
    for package, version in sorted(old_sources - new_sources, key=str):
        lines.append(f"base source {package} {version} is gone")
    old_ref, new_ref = saved.get("reference") or {}, current.get("reference") or {}
    for name in sorted(set(old_ref) | set(new_ref)):
        if old_ref.get(name) != new_ref.get(name):
            state = (
                "added" if name not in old_ref else "removed" if name not in new_ref else "changed"
            )
            lines.append(f"reference table {name} {state}")
    old_store, new_store = saved.get("store") or {}, current.get("store") or {}
    old_counts, new_counts = old_store.get("records") or {}, new_store.get("records") or {}
    moved = [
        k
        for k in sorted(set(old_counts) | set(new_counts))
        if old_counts.get(k) != new_counts.get(k)
    ]
    lines.extend(
        f"store layer {k}: {old_counts.get(k, 0)} -> {new_counts.get(k, 0)} record(s)"
        for k in moved
    )
    if not moved and old_store.get("fingerprint") != new_store.get("fingerprint"):
        lines.append("store records edited (same counts, different content)")
    return lines


def save_scenario(
    path: str | os.PathLike[str],
    settings: Mapping[str, Any],
    *,
    provenance: Mapping[str, Any] | None = None,
) -> Path:
    """Write a scenario file atomically: ``settings`` and the data provenance.

    Parameters
    ----------
    path
        JSON file to write.
    settings
        ``area``, ``level``, ``top``, ``weights``, ``only``, ``hubs``, ``hub_population`` and
        ``filters`` of the run (JSON-serialisable).
    provenance
        As from :func:`data_provenance` (default: computed now).
    """
    document = {
        "ancrage_scenario": SCENARIO_VERSION,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": dict(settings),
        "data": dict(provenance if provenance is not None else data_provenance()),
    }
    target = Path(path)
    if target.is_dir() or not target.parent.is_dir():
        msg = f"'scenario' {str(target)!r}: expected a file name in an existing folder"
        raise InvalidParameterError(msg)
    return atomic_write_text(target, json.dumps(document, ensure_ascii=False, indent=2) + "\n")


def load_scenario(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a scenario file; returns the whole document.

    Raises
    ------
    InvalidParameterError
        Not JSON, not a scenario, or a newer schema version.
    """
    target = Path(path)
    try:
        document = json.loads(target.read_text("utf-8"))
    except (OSError, ValueError) as err:
        msg = f"'scenario' {str(target)!r} cannot be read as JSON: {err}"
        raise InvalidParameterError(msg) from err
    version = document.get("ancrage_scenario") if isinstance(document, dict) else None
    if version != SCENARIO_VERSION or not isinstance(document.get("settings"), dict):
        msg = (
            f"'scenario' {str(target)!r} has ancrage_scenario={version!r}, expected "
            f"{SCENARIO_VERSION} with a 'settings' object (a file written by --save-scenario)"
        )
        raise InvalidParameterError(msg)
    return document
