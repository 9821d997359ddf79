"""Checks a freshly built commune base must pass before anything is written."""

from __future__ import annotations

import geopandas as gpd

from geo._errors import BuildValidationError

__all__ = ["validate_communes"]


def validate_communes(communes: gpd.GeoDataFrame, *, expected: int | None) -> None:
    """Check a freshly built commune base; raise listing every failed check.

    Parameters
    ----------
    communes
        The assembled base.
    expected
        Exact row count expected, or ``None`` to skip that check.

    Raises
    ------
    BuildValidationError
        With one line per failed check.
    """
    problems = []
    if expected is not None and len(communes) != expected:
        problems.append(f"row count is {len(communes)}, expected {expected}")
    duplicated = communes["code"][communes["code"].duplicated()].tolist()
    if duplicated:
        problems.append(f"duplicated codes: {duplicated[:10]}")
    if communes.crs is None or communes.crs.to_epsg() != 4326:
        problems.append(f"CRS is {communes.crs}, expected EPSG:4326")
    geometry = communes.geometry
    bad = communes.loc[geometry.isna() | geometry.is_empty | ~geometry.is_valid, "code"]
    if len(bad):
        problems.append(f"{len(bad)} communes without a valid geometry: {bad.tolist()[:10]}")
    for column in ("population", "population_2019"):
        negative = communes.loc[communes[column].fillna(0) < 0, "code"]
        if len(negative):
            problems.append(f"negative {column} in {negative.tolist()[:10]}")
    no_point = communes.loc[communes["townhall_lon"].isna(), "code"]
    if len(no_point):
        problems.append(f"{len(no_point)} communes without a town hall point")
    if problems:
        msg = "commune base failed validation, nothing written:\n- " + "\n- ".join(problems)
        raise BuildValidationError(msg)
