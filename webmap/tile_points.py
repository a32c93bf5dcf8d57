"""``TilePoints``: a folium layer that draws a point layer from the app's vector tiles, for layers too big to send whole.

The server answers ``/tiles/<layer>/<z>/<x>/<y>.mvt`` (``webmap.tiles``, ``geo.tiles``): clusters with exact counts
below its points zoom, the points from there on, with the map's filters and ``as_of``. The browser draws them with
Leaflet.VectorGrid (vendored under ``webmap/static/vendor/leaflet.vectorgrid/``, chosen by measurement:
``bench/tile_renderers.py``) through the app's ``static/app/tile_points.js``: clusters as circles with their counts
(a click zooms in), points as the main map's symbols (status colour, ■ park, ◆ institution, a dark ring for the
battery chain); a click on a point opens the map's popup card (``CorridorsMap.openFeature``) or, elsewhere, a
popup with its names; hovering a symbol names it (a click and a hover find a symbol drawn over a neighbouring tile or
another such layer too). On the main map, ``map.js`` labels the points of the tiles in view with their names
(``labelPoints``) and shows the legend's chain ring only when the count's ``chain_links`` name a link.

The main map (``webmap.maps.build_map``) adds one per point layer, hidden; ``map.js`` switches a layer to it when
the layer holds more than ``BIG_LAYER_FEATURES`` features after the filters. From a notebook, against a running
app::

    m = folium.Map(location=[34.62, 112.45], zoom_start=9)
    TilePoints("http://127.0.0.1:8000/tiles/projects", params={"status": "planned"}).add_to(m)

Assets come from the app that serves the tiles (``static_url``, by default the tiles' own host), never a CDN; the
app lets any origin read its tiles while ``READ_ACCESS=public`` (``webmap.tiles``), which a notebook's page needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from geo.style import STATUS_COLORS

#: The plugin's scripts under the app's static root: the vendored library, then the app's layer class.
ASSETS_JS: tuple[tuple[str, str], ...] = (
    ("leaflet_vectorgrid", "vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
    ("tile_points", "app/tile_points.js"),
)


def static_root(url: str) -> str:
    """Where the app that serves ``url`` serves its static files: ``/static`` on the same host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/static" if parts.scheme and parts.netloc else "/static"


class TilePoints(JSCSSMixin, Layer):
    """A point layer drawn from ``/tiles/<layer>`` (clusters with exact counts, then points).

    Parameters
    ----------
    url: the layer's tile root, e.g. ``/tiles/projects`` or ``http://host:8000/tiles/projects``.
    params: filters and ``as_of`` as on ``/api/layers/<layer>`` (``{"status": "planned", "as_of": "2024-01-01"}``).
    status_colors: status -> colour (default ``geo.style.STATUS_COLORS``).
    chain_links: the chain links that get the dark ring (default: any ``chain_link``).
    static_url: where the app serves ``/static`` (default: the tiles' host).
    name, overlay, control, show: as for every folium layer.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) -%}
        var {{ this.get_name() }} = L.tilePoints({{ this.url|tojson }}, {{ this.options|tojson }});
        {%- endmacro %}
        """
    )

    def __init__(self, url: str, *, params: Mapping[str, Any] | None = None,
                 status_colors: Mapping[str, str] | None = None, chain_links: Any = None,
                 static_url: str | None = None, name: str | None = None, overlay: bool = True,
                 control: bool = True, show: bool = True, **options: Any) -> None:
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = "TilePoints"
        self.url = url.rstrip("/")
        root = (static_url or static_root(self.url)).rstrip("/")
        self.default_js = [(name_, f"{root}/{path}") for name_, path in ASSETS_JS]
        self.default_css: list[tuple[str, str]] = []
        self.options = {
            "layer": self.url.rsplit("/", 1)[-1],
            "params": {k: str(v) for k, v in (params or {}).items() if v not in (None, "")},
            "statusColors": dict(status_colors or STATUS_COLORS),
            "chainLinks": dict.fromkeys(chain_links, True) if isinstance(chain_links, (list, tuple, set))
            else chain_links,
            **options,
        }
