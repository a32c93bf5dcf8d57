"""One source of colours for the web's CSS: the pages' stylesheets (``webmap/static/app/*.css``) use the custom
properties of ``/app/style.css`` (made from ``geo.style``) instead of writing its colours as literals, use only
properties it defines, and every page whose stylesheets use them loads it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from geo import style
from webmap import create_app
from webmap.stylesheet import variables

APP_CSS = Path(__file__).resolve().parents[2] / "webmap" / "static" / "app"
STYLE_URL = "/app/style.css"
HEX = re.compile(r"#([0-9a-fA-F]{3,8})\b")
RGB = re.compile(r"rgba?\(\s*(\d{1,3})\s*[, ]\s*(\d{1,3})\s*[, ]\s*(\d{1,3})\s*(?:[,/][^)]*)?\)")
VAR = re.compile(r"var\(\s*--cm-([a-z0-9_-]+)")


def style_colours() -> dict[str, list[str]]:
    """Every ``#rrggbb`` colour ``geo.style`` defines (in a constant, a dict or a list), lower case, with the names
    that define it."""
    out: dict[str, list[str]] = {}

    def add(value: object, name: str) -> None:
        if isinstance(value, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            out.setdefault(value.lower(), []).append(name)

    for name in dir(style):
        value = getattr(style, name)
        if name.startswith("_"):
            continue
        if isinstance(value, dict):
            for key, v in value.items():
                add(v, f"{name}[{key!r}]")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                add(v, f"{name}[{i}]")
        else:
            add(value, name)
    return out


def css_colours(text: str) -> list[tuple[int, str, str]]:
    """Each literal colour of a stylesheet (hex or rgb()/rgba()), as (line, as written, ``#rrggbb``); comments are
    skipped."""
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), text, flags=re.DOTALL)
    found = []
    for n, line in enumerate(text.splitlines(), start=1):
        for m in HEX.finditer(line):
            digits = m.group(1)
            if len(digits) in (3, 4):
                digits = "".join(ch * 2 for ch in digits[:3])
            elif len(digits) in (6, 8):
                digits = digits[:6]
            else:
                continue
            found.append((n, m.group(), "#" + digits.lower()))
        for m in RGB.finditer(line):
            r, g, b = (int(v) for v in m.groups())
            found.append((n, m.group(), f"#{r:02x}{g:02x}{b:02x}"))
    return found


def page_stylesheets() -> list[Path]:
    return sorted(APP_CSS.glob("*.css"))


def test_the_colour_finder_sees_every_form():
    assert [c for _, _, c in css_colours("a { color: #C51B7D; border: 1px solid #555 }")] == ["#c51b7d", "#555555"]
    assert [c for _, _, c in css_colours("a { background: rgba(230, 85, 13, .06); color: rgb(34 34 34 / 50%) }")] \
        == ["#e6550d", "#222222"]
    assert css_colours("/* #c51b7d */ a { color: var(--cm-query) }") == []
    colours = style_colours()
    assert "#c51b7d" in colours and style.STATUS_COLORS["planned"] in colours and style.SCORE_COLORS[1] in colours


@pytest.mark.parametrize("path", page_stylesheets(), ids=lambda p: p.name)
def test_no_page_stylesheet_writes_a_colour_of_geo_style(path):
    """A colour of ``geo.style`` written as a literal in a page's CSS drifts from the printed map when the constant
    changes: use its custom property (``var(--cm-…)``, see ``webmap/stylesheet.py``)."""
    defined = style_colours()
    by_colour: dict[str, list[str]] = {}
    for name, colour in variables().items():
        by_colour.setdefault(colour.lower(), []).append(f"var(--cm-{name})")
    bad = [f"{path.name}:{line}: {written} is {' = '.join(defined[colour])}; use "
           f"{' or '.join(by_colour.get(colour, ['a variable of /app/style.css']))}"
           for line, written, colour in css_colours(path.read_text(encoding="utf-8")) if colour in defined]
    assert bad == []


@pytest.mark.parametrize("path", page_stylesheets(), ids=lambda p: p.name)
def test_every_variable_a_page_stylesheet_uses_is_defined(path):
    used = set(VAR.findall(path.read_text(encoding="utf-8")))
    assert used <= set(variables()), sorted(used - set(variables()))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and (a.get("rel") or "").lower() == "stylesheet" and a.get("href"):
            self.hrefs.append(a["href"] or "")


def _uses_variables(path: Path) -> bool:
    return bool(VAR.search(path.read_text(encoding="utf-8")))


def _imports_style(path: Path) -> bool:
    return bool(re.search(r"@import\s+(?:url\()?\s*[\"']?" + re.escape(STYLE_URL), path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def client(store_path):
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()


@pytest.mark.parametrize("url", ["/", "/corridors", "/corridors/luo-gong", "/corridors/luo-gong/map", "/data",
                                 "/site", "/site?industry=battery-materials&top=5",
                                 "/site/map?industry=battery-materials&top=5", "/ledger", "/login",
                                 "/parks/luoyang-new-energy-park", "/parks/no-such-park", "/ogcapi"])
def test_every_page_using_the_colour_variables_loads_the_stylesheet(client, url):
    """A page that links a stylesheet written with ``var(--cm-…)`` must load ``/app/style.css`` (a link, or an
    ``@import`` in one of its stylesheets), else those colours are not drawn at all."""
    r = client.get(url, headers={"Accept": "text/html"})
    assert r.mimetype == "text/html", (url, r.status_code)
    parser = _Links()
    parser.feed(r.get_data(as_text=True))
    app_css = [APP_CSS / h.split("?")[0].rsplit("/", 1)[-1] for h in parser.hrefs if "/static/app/" in h]
    assert all(p.exists() for p in app_css), app_css
    if any(_uses_variables(p) for p in app_css):
        assert STYLE_URL in [h.split("?")[0] for h in parser.hrefs] or any(_imports_style(p) for p in app_css), \
            (url, parser.hrefs)


def test_the_colours_the_pages_use_are_served(client):
    css = client.get(STYLE_URL).get_data(as_text=True)
    used = set().union(*(VAR.findall(p.read_text(encoding="utf-8")) for p in page_stylesheets()))
    assert used, "no page stylesheet uses the variables"
    for name in sorted(used):
        assert re.search(rf"--cm-{re.escape(name)}: #[0-9a-f]{{6}};", css), name
