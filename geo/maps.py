"""Folium maps built step by step: each ``add_*`` function adds one layer and returns the map.

Names and notes in user data are untrusted. They are HTML-escaped (Leaflet inserts
popups, tooltips and layer names as HTML), and they are never part of a template's
source: folium and branca compile the text each element produces as a Jinja template
once more when the page is rendered, so a name such as ``{{7*7}}`` placed in a folium
popup, tooltip, GeoJSON or layer control would be evaluated. The layers here are
therefore drawn by a small fixed script from a JSON payload, placed in the page by
:class:`Verbatim` elements whose template only reads their text as a variable.
Save maps with :func:`save_map` (atomic, complete or not written at all).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
from pathlib import Path
from types import ModuleType

import branca.colormap as cm
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import xstatic.pkg.jquery
import xstatic.pkg.leaflet
from branca.element import Element
from jinja2 import Template

from geo._io import atomic_write_text
from geo.layers import LABELS_FR

__all__ = [
    "LAYER_POPUPS",
    "Verbatim",
    "add_commune_layer",
    "add_layer_control",
    "add_legend",
    "add_points_layer",
    "base_map",
    "cooperation_points",
    "department_map",
    "embedded_assets",
    "escape",
    "escaped_properties",
    "popup_html",
    "render_map",
    "save_map",
    "script_json",
]

_DENSITY_LABEL = "Densité (hab./km²)"

#: Popup fields of each programme layer: column -> French label.
LAYER_POPUPS: dict[str, dict[str, str]] = {
    "providers": {
        "name": "Structure",
        "kind": "Type",
        "expertise": "Expertises",
        "reach_km": "Rayon d'intervention (km)",
        "website": "Site",
    },
    "places": {
        "name": "Lieu",
        "kind": "Type",
        "address": "Adresse",
        "opening_notes": "Ouverture",
        "website": "Site",
    },
    "events": {
        "name": "Événement",
        "kind": "Type",
        "start": "Début",
        "end": "Fin",
        "season": "Période",
        "organiser": "Organisateur",
        "url": "Site",
    },
    "cooperation": {"name": "Commune", "kind": "Type", "year": "Année", "note": "Note"},
}
_LAYER_STYLE = {
    "providers": ("#b2182b", 8),
    "places": ("#2166ac", 6),
    "events": ("#1b7837", 6),
    "cooperation": ("#762a83", 7),
}


def escape(value: object) -> str:
    """HTML-escape a value for a popup or tooltip, including template-literal characters.

    A backtick or ``${`` is turned into a character reference too, so the text stays
    inert even inside a JavaScript template literal (folium's own popups and tooltips
    are such literals).

    Examples
    --------
    >>> escape("<b>Café</b> `${alert(1)}`")
    '&lt;b&gt;Café&lt;/b&gt; &#96;&#36;{alert(1)}&#96;'
    """
    return html.escape(str(value)).replace("`", "&#96;").replace("$", "&#36;")


class Verbatim(Element):
    """Text placed in the page exactly as given, never compiled as a template.

    ``branca.element.Element(text)`` compiles ``text`` as a Jinja template, and
    folium wraps what every element renders in such an ``Element``; this element's
    template only reads its text as a variable, so ``{{``, ``{%`` or ``{#`` in it are
    shown, not evaluated. Escape the text for where it goes before placing it.

    Examples
    --------
    >>> from branca.element import Figure
    >>> figure = Figure()
    >>> _ = figure.html.add_child(Verbatim("<p>{{7*7}} {# {% raw %}</p>"))
    >>> "<p>{{7*7}} {# {% raw %}</p>" in figure.render()
    True
    """

    _template = Template("{{ this.text }}")

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Verbatim"
        self.text = text


_SCRIPT_UNSAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(value: object) -> str:
    """``value`` as JSON that can sit inside an inline ``<script>`` as a JavaScript literal.

    ``<`` and ``>`` are written as ``\\u`` escapes, so no text can close the script
    element or open an HTML comment in it (``&`` means nothing inside a script).

    Examples
    --------
    >>> script_json({"name": "</script><b>{{7*7}}</b>"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e{{7*7}}\\\\u003c/b\\\\u003e"}'
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False).translate(_SCRIPT_UNSAFE)


#: The page's script drawing the layers from their payloads (HTML already escaped).
_LAYERS_JS = """<style>.leaflet-tooltip th,.leaflet-popup-content th{text-align:left;
padding:2px 8px 2px 2px}</style>
<script>
var ancrage = (function () {
  "use strict";
  function table(rows) {
    return "<table>" + rows.map(function (row) {
      return "<tr><th>" + row[0] + "</th><td>" + row[1] + "</td></tr>";
    }).join("") + "</table>";
  }
  function areas(layer) {
    return L.geoJSON(layer.features, {
      style: function (feature) {
        return Object.assign({fillColor: feature.properties._colour}, layer.style);
      },
      onEachFeature: function (feature, shape) {
        var rows = layer.fields.map(function (field) {
          return [field[1], feature.properties[field[0]]];
        });
        shape.bindTooltip(table(rows), {sticky: true});
      }
    });
  }
  function points(layer) {
    return L.featureGroup(layer.points.map(function (point) {
      var marker = L.circleMarker([point[0], point[1]], layer.style);
      if (point[2]) { marker.bindTooltip(point[2], {sticky: true}); }
      if (point[3]) { marker.bindPopup(point[3], {maxWidth: 320}); }
      return marker;
    }));
  }
  function named(entries) {
    var out = {};
    entries.forEach(function (entry) { out[entry[0]] = entry[1]; });
    return out;
  }
  return {
    addLayer: function (map, layer) {
      return (layer.type === "areas" ? areas(layer) : points(layer)).addTo(map);
    },
    layerControl: function (map, base, overlays) {
      return L.control.layers(named(base), named(overlays)).addTo(map);
    }
  };
})();
</script>"""


class _DataLayer(Element):
    """A layer the page's script draws from a JSON payload; its text is data only."""

    def __init__(self, name: str, payload: dict[str, object]) -> None:
        super().__init__()
        self._name = "AncrageLayer"
        self.layer_name = name
        self.payload = {**payload, "name": escape(name)}

    def render(self, **kwargs: object) -> None:
        del kwargs
        figure = self.get_root()
        figure.header.add_child(Verbatim(_LAYERS_JS), name="ancrage_layers_js")
        call = f"ancrage.addLayer({self._parent.get_name()}, {script_json(self.payload)})"
        figure.script.add_child(
            Verbatim(f"var {self.get_name()} = {call};\n"), name=self.get_name()
        )


class _LayerControl(Element):
    """Leaflet's layer control over the map's layers, their names escaped and passed as data."""

    def __init__(self) -> None:
        super().__init__()
        self._name = "AncrageLayerControl"

    def render(self, **kwargs: object) -> None:
        del kwargs
        base, overlays = [], []
        for item in self._parent._children.values():
            if isinstance(item, _DataLayer):
                overlays.append((item.layer_name, item.get_name()))
            elif isinstance(item, folium.map.Layer) and item.control:
                (overlays if item.overlay else base).append((item.layer_name, item.get_name()))

        def entries(pairs: list[tuple[str, str]]) -> str:
            # Names are data (escaped, in JSON); identifiers are folium's generated names.
            return "[" + ", ".join(f"[{script_json(escape(n))}, {i}]" for n, i in pairs) + "]"

        target = self._parent.get_name()
        call = f"ancrage.layerControl({target}, {entries(base)}, {entries(overlays)})"
        figure = self.get_root()
        figure.header.add_child(Verbatim(_LAYERS_JS), name="ancrage_layers_js")
        figure.script.add_child(Verbatim(call + ";\n"), name=self.get_name())


def add_layer_control(fmap: folium.Map) -> folium.Map:
    """Add the layer control listing the map's layers (add it after the layers).

    Use it instead of ``folium.LayerControl``, which places layer names in a
    template's source.
    """
    _LayerControl().add_to(fmap)
    return fmap


def render_map(fmap: folium.Map) -> str:
    """The complete HTML page of a map."""
    return fmap.get_root().render()


def save_map(fmap: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Render ``fmap`` and write it to ``path`` atomically; return the path.

    The page is rendered in memory first: if rendering fails, the file already at
    ``path`` is left as it was (``folium.Map.save`` would have truncated it). A
    replaced page keeps its permissions; a new one gets the umask's (see
    :func:`geo._io.atomic_path`).
    """
    page = render_map(fmap)
    return atomic_write_text(path, page)


def _packaged(module: ModuleType, name: str) -> str:
    return (Path(module.BASE_DIR) / name).read_text(encoding="utf-8")


@functools.cache
def embedded_assets() -> str:
    """Leaflet (JavaScript, CSS and its images) and jQuery as inline HTML.

    They come from the XStatic packages installed with ancrage, so a saved map
    works offline and loads nothing from third-party CDNs (only the background
    tiles come from the tile server).
    """
    images = Path(xstatic.pkg.leaflet.BASE_DIR) / "images"
    css = re.sub(
        r"url\(images/([\w-]+\.png)\)",
        lambda m: (
            "url(data:image/png;base64,"
            + base64.b64encode((images / m.group(1)).read_bytes()).decode()
            + ")"
        ),
        _packaged(xstatic.pkg.leaflet, "leaflet.css"),
    )
    scripts = [
        _packaged(xstatic.pkg.leaflet, "leaflet.js"),
        _packaged(xstatic.pkg.jquery, "jquery.min.js"),
    ]
    closing = re.compile("</script", re.IGNORECASE)  # cannot end the inline element early
    inline = "".join("<script>" + closing.sub(r"<\\/script", js) + "</script>\n" for js in scripts)
    return f"<style>{css}</style>\n{inline}"


def base_map(frame: gpd.GeoDataFrame, *, tiles: str | None = "OpenStreetMap") -> folium.Map:
    """An empty map fitted to the bounds of ``frame`` (any CRS), with its assets inline.

    Parameters
    ----------
    frame
        What the map should show; only its bounds are used.
    tiles
        Background tiles (fetched by the viewer's browser from the tile server), or
        ``None`` for none.
    """
    minx, miny, maxx, maxy = frame.to_crs(4326).total_bounds
    fmap = folium.Map(tiles=tiles, control_scale=True)
    # folium would link Leaflet, jQuery, Bootstrap and icon fonts from public CDNs:
    # embed the two libraries the maps use instead.
    fmap.default_js, fmap.default_css = [], []
    fmap.get_root().header.add_child(Verbatim(embedded_assets()), name="ancrage_assets")
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def _tick(value: float) -> str:
    """A legend label: whole numbers with French digit grouping, else 3 significant digits.

    Examples
    --------
    >>> _tick(2864.2), _tick(3.74), _tick(0.5)
    ('2 864', '3.74', '0.5')
    """
    if abs(value) >= 100:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.3g}"


def add_legend(
    fmap: folium.Map, colormap: cm.LinearColormap, caption: str, *, log_scale: bool = False
) -> folium.Map:
    """Add a colour-bar legend (plain HTML and CSS, no d3) in the map's corner.

    Tick labels are in the column's own units, also on a logarithmic scale.
    """
    stops = ", ".join(colormap(v) for v in np.linspace(colormap.vmin, colormap.vmax, 9))
    ticks = np.linspace(colormap.vmin, colormap.vmax, 3)
    labels = [10**t if log_scale else t for t in ticks]
    shown = "".join(f"<span>{escape(_tick(v))}</span>" for v in labels)
    legend = (
        '<div class="ancrage-legend" style="position:absolute;z-index:1000;bottom:24px;'
        "right:10px;background:white;padding:6px 8px;border-radius:4px;font:12px sans-serif;"
        'box-shadow:0 0 4px rgba(0,0,0,.4)">'
        f"<div>{escape(caption)}</div>"
        f'<div style="width:220px;height:10px;background:linear-gradient(to right, {stops})">'
        "</div>"
        f'<div style="display:flex;justify-content:space-between">{shown}</div></div>'
    )
    fmap.get_root().html.add_child(Verbatim(legend))
    return fmap


def escaped_properties(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of ``columns`` with every text value HTML-escaped and missing values shown as —."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column]
        out[column] = [("—" if pd.isna(v) else escape(v)) for v in values]
    return out


def add_commune_layer(
    fmap: folium.Map,
    communes: gpd.GeoDataFrame,
    *,
    column: str = "density",
    label: str = _DENSITY_LABEL,
    tooltip: dict[str, str] | None = None,
    log_scale: bool = True,
) -> folium.Map:
    """Add communes coloured by a numeric column, with an escaped tooltip.

    Parameters
    ----------
    fmap
        Map to add to.
    communes
        Communes with ``geometry`` and ``column``.
    column, label
        Column to colour by and the legend's French label.
    tooltip
        Columns shown in the tooltip and their French labels.
    log_scale
        Colour by the base-10 logarithm (densities span five orders of magnitude).

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    tooltip = tooltip or {
        "name": "Commune",
        "code": "Code INSEE",
        "population": "Population",
        column: label,
    }
    values = pd.to_numeric(communes[column], errors="coerce").astype(float)
    scaled = np.log10(values.clip(lower=0.1)) if log_scale else values
    finite = scaled[np.isfinite(scaled)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    colormap = cm.linear.YlGnBu_09.scale(low, max(high, low + 1e-9))
    shown = escaped_properties(communes, list(tooltip))
    shown["_colour"] = [colormap(v) if np.isfinite(v) else "#cccccc" for v in scaled]
    layer = gpd.GeoDataFrame(shown, geometry=communes.geometry.to_crs(4326).to_numpy(), crs=4326)
    payload = {
        "type": "areas",
        "style": {"color": "#555555", "weight": 0.4, "fillOpacity": 0.7},
        "fields": [[field, escape(alias)] for field, alias in tooltip.items()],
        "features": json.loads(layer.to_json(drop_id=True)),
    }
    _DataLayer(label, payload).add_to(fmap)
    return add_legend(fmap, colormap, label, log_scale=log_scale)


def department_map(
    communes: gpd.GeoDataFrame,
    *,
    column: str = "density",
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    tooltip: dict[str, str] | None = None,
) -> folium.Map:
    """A map of the communes of one area coloured by ``column``, with a layer control.

    Parameters
    ----------
    communes
        Communes of the area (commune base columns).
    column
        Numeric column colouring the communes.
    layers
        Programme layers by kind (``providers``, ``places``, ``events``,
        ``cooperation``), added as point layers when given.
    tooltip
        Columns shown when hovering a commune, with their French labels.
    """
    fmap = base_map(communes)
    label = _DENSITY_LABEL if column == "density" else column
    add_commune_layer(
        fmap, communes, column=column, label=label, log_scale=column == "density", tooltip=tooltip
    )
    for kind, records in (layers or {}).items():
        points = cooperation_points(records, communes) if kind == "cooperation" else records
        if len(points):
            add_points_layer(fmap, points, kind=kind)
    return add_layer_control(fmap)


def _french(kind: str, column: str, values: pd.Series) -> pd.Series:
    labels = LABELS_FR.get(f"{kind}.{column}") or (
        LABELS_FR["expertise"] if column == "expertise" else None
    )
    if labels is None:
        return values
    return values.map(
        lambda v: (
            v if pd.isna(v) else ", ".join(labels.get(item, item) for item in str(v).split(";"))
        )
    )


def popup_html(record: dict[str, object], fields: dict[str, str]) -> str:
    """An HTML table of the non-empty ``fields`` of a record, every value escaped.

    Examples
    --------
    >>> popup_html({"name": "<b>Café</b>", "note": None}, {"name": "Lieu", "note": "Note"})
    '<table><tr><th>Lieu</th><td>&lt;b&gt;Café&lt;/b&gt;</td></tr></table>'
    """
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(record[column])}</td></tr>"
        for column, label in fields.items()
        if column in record and not pd.isna(record[column]) and str(record[column]) != ""
    )
    return f"<table>{rows}</table>"


def add_points_layer(
    fmap: folium.Map, records: gpd.GeoDataFrame, *, kind: str, name: str | None = None
) -> folium.Map:
    """Add the records of one programme layer as circle markers with escaped popups.

    Names and popups are escaped HTML passed to the page as JSON data.

    Parameters
    ----------
    fmap
        Map to add to.
    records
        Points in any CRS; records without a point are left out.
    kind
        ``providers``, ``places``, ``events`` or ``cooperation`` (popup fields and colour).
    name
        Layer name in the layer control (default: the French name of ``kind``).

    Returns
    -------
    folium.Map
        ``fmap`` itself.
    """
    located = records[records.geometry.notna() & ~records.geometry.is_empty].to_crs(4326)
    shown = located.drop(columns="geometry").copy()
    if "kind" in shown:
        shown["kind"] = _french(kind, "kind", shown["kind"])
    if "expertise" in shown:
        shown["expertise"] = _french(kind, "expertise", shown["expertise"])
    colour, radius = _LAYER_STYLE[kind]
    style = {"radius": radius, "color": colour, "fill": True, "fillOpacity": 0.8, "weight": 1}
    points = [
        [
            point.y,
            point.x,
            "" if pd.isna(record.get("name")) else escape(record["name"]),
            popup_html(record, LAYER_POPUPS[kind]),
        ]
        for record, point in zip(shown.to_dict("records"), located.geometry, strict=True)
    ]
    payload = {"type": "points", "style": style, "points": points}
    _DataLayer(name or LABELS_FR["layers"][kind], payload).add_to(fmap)
    return fmap


def cooperation_points(records: pd.DataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Place commune-level cooperation records at their commune's town hall.

    Records on an EPCI are placed at the town hall of each member commune present
    in ``communes``; ``name`` is the commune's name.
    """
    towns = gpd.GeoDataFrame(
        communes[["code", "name", "epci_code"]],
        geometry=gpd.points_from_xy(communes["townhall_lon"], communes["townhall_lat"]),
        crs=4326,
    )
    by_commune = records[records["area_type"] == "commune"].merge(
        towns, left_on="area_code", right_on="code", suffixes=("_record", "")
    )
    by_epci = records[records["area_type"] == "epci"].merge(
        towns, left_on="area_code", right_on="epci_code", suffixes=("_record", "")
    )
    placed = pd.concat([by_commune, by_epci], ignore_index=True)
    return gpd.GeoDataFrame(placed, geometry="geometry", crs=4326)
