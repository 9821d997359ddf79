"""Great-circle distances on the mean Earth sphere, vectorised with numpy.

One place for the Earth radius and the formulas that the build, the store's
duplicate check, the hub distances, coverage and outreach all use.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["EARTH_RADIUS_KM", "chord_to_km", "haversine_km", "km_to_chord", "unit_vectors"]

#: Mean Earth radius (IUGG), in kilometres.
EARTH_RADIUS_KM = 6371.0088

ArrayLike = npt.ArrayLike


def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcast).

    Examples
    --------
    >>> round(float(haversine_km(2.3522, 48.8566, 1.5333, 45.1583)), 1)  # Paris - Brive
    415.9
    """
    x1, y1, x2, y2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    half = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))


def unit_vectors(lat_lon_radians: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (x, y, z) of (lat, lon) pairs in radians.

    Euclidean distances between these vectors (chords) grow with great-circle
    distances, so a k-d tree on them answers nearest-neighbour and radius queries.
    """
    lat, lon = lat_lon_radians[:, 0], lat_lon_radians[:, 1]
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def chord_to_km(chord: ArrayLike) -> np.ndarray:
    """Great-circle distance (km) of a chord of the unit sphere: ``2 R asin(c / 2)``.

    Examples
    --------
    >>> round(float(chord_to_km(km_to_chord(100.0))), 6)
    100.0
    """
    return (
        2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0))
    )


def km_to_chord(km: float) -> float:
    """Chord of the unit sphere spanning a great-circle distance of ``km``."""
    return float(2.0 * np.sin(km / (2.0 * EARTH_RADIUS_KM)))
