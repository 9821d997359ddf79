"""State of the data behind the service: commune base vintages and build time, layer store.

:func:`data_status` is what ``GET /health`` reports; it never creates the store.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from geo import communes
from geo._errors import LayerStoreError
from geo.layers import LAYER_KINDS

__all__ = ["base_status", "data_status", "store_status"]


def base_status(data_dir: Path | None = None) -> dict[str, object]:
    """Build time, commune count and source vintages of the commune base.

    Raises
    ------
    CommuneBaseMissingError
        The base (or its ``sources.json``) has not been built.
    """
    communes.base_file("communes", data_dir)
    manifest = json.loads(communes.base_file("sources.json", data_dir).read_text("utf-8"))
    return {
        "built_at": manifest.get("built_at"),
        "communes": manifest.get("communes"),
        "code_version": manifest.get("code_version"),
        "sources": [
            {k: source.get(k) for k in ("client", "package", "version", "holds", "licence")}
            for source in manifest.get("sources", [])
        ],
    }


def store_status(path: Path) -> dict[str, object]:
    """Whether the layer store exists and how many records each layer holds (read-only).

    A missing store is reported as ``"absent"`` (it is created on first use); a file that
    is not an ancrage GeoPackage as ``"unreadable"`` with the reason.
    """
    path = Path(path)
    if not path.exists():
        return {"file": path.name, "state": "absent", "records": {}}
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            counts = {
                kind: connection.execute(f'SELECT count(*) FROM "{kind}"').fetchone()[0]
                for kind in LAYER_KINDS
            }
        finally:
            connection.close()
    except sqlite3.Error as err:
        reason = LayerStoreError(f"{path} is not a readable ancrage layer store ({err})")
        return {"file": path.name, "state": "unreadable", "reason": str(reason), "records": {}}
    return {"file": path.name, "state": "ok", "records": counts}


def data_status(*, data_dir: Path | None = None, store: Path) -> dict[str, object]:
    """The commune base's status (:func:`base_status`) and the store's (:func:`store_status`).

    Raises
    ------
    CommuneBaseMissingError
        The commune base has not been built.
    """
    return {"base": base_status(data_dir), "store": store_status(store)}
