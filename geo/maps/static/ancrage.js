/* ancrage maps: draws layers from JSON payloads. Text in payloads is already
   HTML-escaped where it is inserted as HTML (tooltips, popups); labels are set
   with textContent. See DataLayer in geo/maps/_elements.py for the payload formats. */
var ancrage = (function () {
  "use strict";
  function table(rows) {
    return "<table>" + rows.map(function (row) {
      return "<tr><th>" + row[0] + "</th><td>" + row[1] + "</td></tr>";
    }).join("") + "</table>";
  }
  function text(tag, className, content) {
    var element = document.createElement(tag);
    element.className = className;
    element.textContent = content;
    return element;
  }
  function labels(layer) {
    return (layer.labels || []).map(function (label) {
      var icon = L.divIcon({
        className: "ancrage-label-icon",
        html: text("span", layer.labelClass || "ancrage-label", String(label[2])),
        iconSize: null
      });
      return L.marker([label[0], label[1]], {icon: icon, interactive: false, keyboard: false});
    });
  }
  function choice(geo, option) {
    var Choice = L.Layer.extend({
      onAdd: function () {
        geo.setStyle(function (feature) {
          return {fillColor: feature.properties[option.colour]};
        });
        var legend = option.legend && document.getElementById(option.legend);
        if (legend) { legend.style.display = ""; }
        return this;
      },
      onRemove: function () {
        var legend = option.legend && document.getElementById(option.legend);
        if (legend) { legend.style.display = "none"; }
        return this;
      }
    });
    return new Choice();
  }
  function areas(layer) {
    var colour = layer.colour || "_colour";
    var geo = L.geoJSON(layer.features, {
      style: function (feature) {
        return Object.assign({fillColor: feature.properties[colour]}, layer.style);
      },
      onEachFeature: function (feature, shape) {
        var props = feature.properties;
        if (layer.fields && layer.fields.length) {
          shape.bindTooltip(table(layer.fields.map(function (field) {
            return [field[1], props[field[0]]];
          })), {sticky: true});
        } else if (layer.tooltip && props[layer.tooltip]) {
          shape.bindTooltip(props[layer.tooltip], {sticky: true});
        }
        if (layer.popup && props[layer.popup]) {
          shape.bindPopup(props[layer.popup], {maxWidth: 440});
        }
      }
    });
    geo.ancrageChoices = (layer.choices || []).map(function (option) {
      return choice(geo, option);
    });
    var marks = labels(layer);
    var drawn = marks.length ? L.featureGroup([geo].concat(marks)) : geo;
    drawn.ancrageChoices = geo.ancrageChoices;
    return drawn;
  }
  function clusterIcon(colour) {
    return function (cluster) {
      var count = text("span", "ancrage-cluster", String(cluster.getChildCount()));
      count.style.background = colour;
      return L.divIcon({className: "ancrage-cluster-icon", html: count, iconSize: [30, 30]});
    };
  }
  function points(layer) {
    var markers = layer.points.map(function (point) {
      var style = point[4] ? Object.assign({}, layer.style, point[4]) : layer.style;
      var marker = L.circleMarker([point[0], point[1]], style);
      if (point[2]) { marker.bindTooltip(point[2], {sticky: true}); }
      if (point[3]) { marker.bindPopup(point[3], {maxWidth: 340}); }
      return marker;
    });
    if (layer.cluster && L.markerClusterGroup) {
      var group = L.markerClusterGroup({
        iconCreateFunction: clusterIcon(layer.style.color),
        maxClusterRadius: 35,
        showCoverageOnHover: false,
        spiderfyOnMaxZoom: true
      });
      group.addLayers(markers);
      return group;
    }
    return L.featureGroup(markers.concat(labels(layer)));
  }
  function circles(layer) {
    return L.featureGroup(layer.circles.map(function (item) {
      var circle = L.circle([item[0], item[1]], Object.assign({radius: item[2]}, layer.style));
      if (item[3]) { circle.bindTooltip(item[3], {sticky: true}); }
      if (item[4]) { circle.bindPopup(item[4], {maxWidth: 340}); }
      return circle;
    }));
  }
  var draw = {areas: areas, points: points, circles: circles};
  function named(entries) {
    var out = {};
    entries.forEach(function (entry) { out[entry[0]] = entry[1]; });
    return out;
  }
  return {
    addLayer: function (map, layer) {
      var drawn = draw[layer.type](layer);
      if (layer.show !== false) { drawn.addTo(map); }
      (drawn.ancrageChoices || []).forEach(function (option, i) {
        if (i === (layer.active || 0)) { option.addTo(map); } else { option.onRemove(map); }
      });
      return drawn;
    },
    layerControl: function (map, base, overlays) {
      // Open on a wide map, so the colourings show; folded on a narrow one (a page's frame,
      // a phone) where it would hide the map, and while a popup is open, so it hides none.
      var wide = map.getSize().x >= 700;
      var control = L.control.layers(named(base), named(overlays), {collapsed: !wide});
      map.on("popupopen", function () { control.collapse(); });
      map.on("popupclose", function () { if (wide) { control.expand(); } });
      return control.addTo(map);
    },
    legend: function (map, id, position) {
      var element = document.getElementById(id);
      if (!element) { return null; }
      var Legend = L.Control.extend({
        onAdd: function () {
          L.DomEvent.disableClickPropagation(element);
          L.DomEvent.disableScrollPropagation(element);
          return element;
        }
      });
      return new Legend({position: position || "bottomright"}).addTo(map);
    }
  };
})();
