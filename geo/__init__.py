"""ancrage geospatial library: commune base, layers, indicators, scores and maps.

Data flows one way: source packages -> commune base (:mod:`geo.communes`) -> layers ->
indicators -> scores, gaps and outreach -> maps and API.
"""

from __future__ import annotations

__version__ = "0.1.0"
