"""/charts/<chart>.svg: standalone SVG charts of the projects the map shows (filters and as_of apply)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from webmap import create_app

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def client(store_path):
    return create_app({"TESTING": True, "CORRIDORS_STORE": str(store_path)}).test_client()


def _doc(client, url: str) -> tuple[ET.Element, str]:
    resp = client.get(url)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "image/svg+xml"
    text = resp.get_data(as_text=True)
    return ET.fromstring(text.encode("utf-8")), text  # well-formed XML, as a file or an <img> needs


def _bars(root: ET.Element) -> dict[str, str]:
    """Each category's bar label (its value as drawn), keyed by the category's Chinese label."""
    out = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") != "category":
            continue
        zh = "".join(t.text or "" for t in group.iter(f"{SVG}tspan") if t.get("class") == "cat-zh")
        values = [t.text for t in group.iter(f"{SVG}text") if (t.get("class") or "").startswith("value")]
        out[zh] = values[0] if values else ""
    return out


@pytest.mark.parametrize("chart", ["projects-by-status", "projects-by-chain-link", "investment-by-district"])
def test_each_chart_is_a_standalone_styled_svg(client, chart):
    root, text = _doc(client, f"/charts/{chart}.svg")
    assert root.tag == f"{SVG}svg" and "chart-svg" in root.get("class")
    style = root.find(f"{SVG}style")
    assert style is not None and "--cm-status-operating" in style.text and ".chart-svg .bar" in style.text
    assert "var(--cm-" in style.text  # the variables it reads are defined in the same file
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_the_status_chart_counts_the_projects_the_filters_select(client):
    every = client.get("/api/layers/projects?format=json").json["features"]
    planned = [f for f in every if f["status"] == "planned"]
    assert 0 < len(planned) < len(every)
    all_bars, _ = _doc(client, "/charts/projects-by-status.svg")
    only, _ = _doc(client, "/charts/projects-by-status.svg?status=planned")
    assert sum(int(v) for v in _bars(all_bars).values()) == len(every)
    bars = _bars(only)
    assert int(bars["规划"]) == len(planned) and sum(int(v) for v in bars.values()) == len(planned)


def test_the_chart_follows_the_time_view(client):
    first_day = client.get("/api/layers/projects?format=json&as_of=2021-07-23").json["features"]
    root, _ = _doc(client, "/charts/projects-by-status.svg?as_of=2021-07-23")
    assert sum(int(v) for v in _bars(root).values()) == len(first_day)


def test_bad_chart_names_and_filters_are_json_errors(client):
    resp = client.get("/charts/nothing.svg")
    assert resp.status_code == 404 and "projects-by-status" in resp.json["error"]
    resp = client.get("/charts/projects-by-status.svg?status=flying")
    assert resp.status_code == 400 and "status" in resp.json["error"]
    resp = client.get("/charts/projects-by-status.svg?as_of=yesterday")
    assert resp.status_code == 400


def test_names_from_the_data_are_escaped_in_the_svg(client):
    root, text = _doc(client, "/charts/investment-by-district.svg")
    assert "<script" not in text
    assert any(t.text and "洛龙区" in t.text for t in root.iter(f"{SVG}tspan"))
