"""Legends: a colour bar for a numeric colouring, coloured dots for categories."""

from __future__ import annotations

from collections.abc import Sequence

import branca.colormap as cm
import folium
import numpy as np

from geo.maps._elements import Legend, escape
from geo.maps._format import number_fr

__all__ = ["add_legend", "add_legend_items", "gradient_legend"]


def _tick(value: float) -> str:
    """A legend label: whole numbers from 100 up, else 3 significant digits, French style.

    Examples
    --------
    >>> [_tick(v).replace("\u00a0", " ") for v in (2864.2, 3.74, 0.5, 12.0)]
    ['2 864', '3,74', '0,5', '12']
    """
    if abs(value) >= 100:
        return number_fr(value, 0)
    return f"{value:.3g}".replace(".", ",")


def gradient_legend(
    colormap: cm.LinearColormap,
    caption: str,
    *,
    ticks: Sequence[float] | None = None,
    log_scale: bool = False,
    note: str | None = None,
) -> str:
    """The HTML of a colour-bar legend (caption and note escaped here).

    ``ticks`` are positions on the colour scale (default: its ends and middle);
    on a logarithmic scale they are labelled in the column's own units.
    """
    stops = ", ".join(colormap(v) for v in np.linspace(colormap.vmin, colormap.vmax, 9))
    ends = np.array([colormap.vmin, colormap.vmax])
    if ticks is None and log_scale and np.allclose(ends, ends.round()):
        ticks = list(np.arange(ends[0].round(), ends[1].round() + 1))  # 1, 10, 100...
    positions = list(np.linspace(colormap.vmin, colormap.vmax, 3) if ticks is None else ticks)
    shown = "".join(f"<span>{escape(_tick(10**t if log_scale else t))}</span>" for t in positions)
    extra = f'<div class="ancrage-note">{escape(note)}</div>' if note else ""
    return (
        f"<div>{escape(caption)}</div>"
        f'<div style="width:220px;height:10px;background:linear-gradient(to right, {stops})">'
        "</div>"
        f'<div style="display:flex;justify-content:space-between">{shown}</div>{extra}'
    )


def add_legend(
    fmap: folium.Map,
    colormap: cm.LinearColormap,
    caption: str,
    *,
    log_scale: bool = False,
    note: str | None = None,
) -> folium.Map:
    """Add a colour-bar legend (plain HTML and CSS, no d3) in the map's bottom-right corner.

    Tick labels are in the column's own units, also on a logarithmic scale.
    """
    Legend(gradient_legend(colormap, caption, log_scale=log_scale, note=note)).add_to(fmap)
    return fmap


def add_legend_items(
    fmap: folium.Map,
    items: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    position: str = "bottomleft",
) -> folium.Map:
    """Add a categorical legend: one coloured dot and French label per ``(colour, label)``.

    Labels and title are escaped here; colours are CSS colours chosen by the caller.

    Examples
    --------
    >>> fmap = folium.Map(tiles=None)
    >>> _ = add_legend_items(fmap, [("#b2182b", "Structures <d'accompagnement>")])
    >>> "Structures &lt;d&#x27;accompagnement&gt;" in fmap.get_root().render()
    True
    """
    rows = "".join(
        f'<div><span class="ancrage-swatch" style="background:{escape(colour)}"></span>'
        f"{escape(label)}</div>"
        for colour, label in items
    )
    head = f"<div><b>{escape(title)}</b></div>" if title else ""
    Legend(head + rows, position=position).add_to(fmap)
    return fmap
