"""Atomic writes and spreadsheet-safe cells (geo/_io.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from geo._io import atomic_path, atomic_write_text, spreadsheet_safe


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_published_files_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        written = atomic_write_text(tmp_path / "a.csv", "x\n")
        with atomic_path(tmp_path / "b.bin") as temporary:
            temporary.write_bytes(b"\x00")
    finally:
        os.umask(old)
    assert stat.S_IMODE(written.stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "b.bin").stat().st_mode) == mode


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_spreadsheet_safe_neutralises_text_cells_only() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=1+1", "+33 6 12", "-x", "@SUM(A1)", "\tcmd", "\rcmd", "-3.5", "Brive", None],
            "value": [-1.5, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    safe = spreadsheet_safe(frame)
    assert pd.isna(safe["name"].iloc[-1])  # missing stays missing
    assert safe["name"].iloc[:-1].tolist() == [
        "'=1+1",
        "'+33 6 12",
        "'-x",
        "'@SUM(A1)",
        "'\tcmd",
        "'\rcmd",
        "-3.5",
        "Brive",
    ]
    assert safe["value"].tolist() == frame["value"].tolist()
    assert frame["name"].iloc[0] == "=1+1"  # the input is not changed
