"""Area and box filters of :meth:`geo.store.Store.read`.

Records are kept by the commune they lie in (or, for cooperation records, the
commune or EPCI they are about); providers by their declared perimeter unless
asked for their seat; a ``bbox`` keeps points inside it, and cooperation records
whose commune town hall lies inside it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import communes
from geo._errors import InvalidParameterError
from geo.layers import SPATIAL_KINDS

#: Area filters of a read: department, epci, region, codes → one code, a list or None.
Areas = dict[str, Any]

__all__ = [
    "Areas",
    "ReadPlan",
    "area_codes",
    "area_mask",
    "check_bbox",
    "given",
    "perimeter_touches",
    "plan",
    "providers_of_area",
]


@dataclasses.dataclass(frozen=True)
class ReadPlan:
    """How :meth:`geo.store.Store.read` filters one layer.

    ``within`` (column, codes) lets SQLite skip the rows outside the area; :meth:`mask`
    then applies the exact area, box and perimeter rules to what was read.
    """

    kind: str
    areas: Areas
    box: tuple[float, float, float, float] | None
    area: tuple[set[str], set[str]] | None
    by_perimeter: bool

    @property
    def within(self) -> tuple[str, list[str]] | None:
        if self.area is None:
            return None
        if self.kind in SPATIAL_KINDS:
            return "commune_code", sorted(self.area[0])
        return "area_code", sorted(self.area[0] | self.area[1])

    def mask(self, frame: gpd.GeoDataFrame) -> np.ndarray:
        keep = np.ones(len(frame), dtype=bool)
        if self.area is not None or self.box is not None:
            keep &= area_mask(self.kind, frame, area=self.area, bbox=self.box)
        if self.by_perimeter:
            keep &= perimeter_touches(frame, self.areas)
        return keep


def plan(kind: str, *, areas: Areas, bbox: Sequence[float] | None, seat: bool) -> ReadPlan:
    """Check the filters of a read and find the codes of the area they name."""
    box = check_bbox(bbox)
    by_perimeter = kind == "providers" and not seat and given(areas)
    area = None if by_perimeter else area_codes(kind, bbox=box, areas=areas)
    return ReadPlan(kind, areas, box, area, by_perimeter)


def providers_of_area(providers: pd.DataFrame, communes: pd.DataFrame) -> np.ndarray:
    """Providers based in the communes or whose perimeter holds one of them.

    The perimeter is matched by :func:`geo.coverage.providers_for_area`: every item
    level, and ``commune`` items naming a former code of a commune of the area.
    """
    from geo.coverage import providers_for_area  # noqa: PLC0415 - coverage reads the store

    area = communes.set_index("code") if "code" in communes else communes
    declared = providers_for_area(providers, area)
    based = providers["commune_code"].isin(area.index.astype(str)).to_numpy()
    return declared | based


def check_bbox(bbox: Sequence[float] | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    values = tuple(float(v) for v in bbox)
    if len(values) != 4 or values[0] > values[2] or values[1] > values[3]:
        msg = f"'bbox' should be (lon_min, lat_min, lon_max, lat_max), got {tuple(bbox)}"
        raise InvalidParameterError(msg)
    return values


def area_codes(
    kind: str, *, areas: Areas, bbox: tuple[float, float, float, float] | None
) -> tuple[set[str], set[str]] | None:
    """Commune and EPCI codes of the requested area, or ``None`` when no area filter applies.

    Cooperation records have no point, so a ``bbox`` selects the communes whose town
    hall lies inside it.
    """
    given = {name: value for name, value in areas.items() if value is not None}
    if not given and (kind in SPATIAL_KINDS or bbox is None):
        return None
    area = communes.load_communes(
        **given,
        columns=["department_code", "region_code", "epci_code", "townhall_lon", "townhall_lat"],
    )
    if kind not in SPATIAL_KINDS and bbox is not None:
        lon, lat = area["townhall_lon"], area["townhall_lat"]
        area = area[lon.between(bbox[0], bbox[2]) & lat.between(bbox[1], bbox[3])]
    return set(area["code"]), set(area["epci_code"].dropna())


def given(areas: Areas) -> bool:
    return any(value is not None for value in areas.values())


def perimeter_touches(providers: gpd.GeoDataFrame, areas: Areas) -> np.ndarray:
    """Providers whose declared perimeter holds at least one commune of the area."""
    from geo.coverage import perimeter_membership  # noqa: PLC0415

    given = {name: value for name, value in areas.items() if value is not None}
    area = communes.load_communes(**given, columns=["department_code", "region_code", "epci_code"])
    member = perimeter_membership(area, providers.reset_index(drop=True))
    return np.asarray(member.sum(axis=1)).ravel() > 0


def area_mask(
    kind: str,
    frame: gpd.GeoDataFrame,
    *,
    area: tuple[set[str], set[str]] | None,
    bbox: tuple[float, float, float, float] | None,
) -> np.ndarray:
    keep = np.ones(len(frame), dtype=bool)
    if kind in SPATIAL_KINDS and bbox is not None:
        x, y = frame.geometry.x.to_numpy(), frame.geometry.y.to_numpy()
        keep &= (x >= bbox[0]) & (x <= bbox[2]) & (y >= bbox[1]) & (y <= bbox[3])
    if area is None:
        return keep
    codes, epcis = area
    if kind in SPATIAL_KINDS:
        return keep & frame["commune_code"].isin(codes).to_numpy()
    on_commune = (frame["area_type"] == "commune") & frame["area_code"].isin(codes)
    on_epci = (frame["area_type"] == "epci") & frame["area_code"].isin(epcis)
    return keep & (on_commune | on_epci).to_numpy()
