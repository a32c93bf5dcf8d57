"""CJK font for the static maps: find Debian's WenQuanYi Micro Hei, check its glyphs, register it with matplotlib.

Chinese labels need a font with CJK glyphs; matplotlib's bundled DejaVu Sans has none and would draw
empty boxes ("tofu") with a "Glyph ... missing" warning. The project's set-up installs Debian's
``fonts-wqy-microhei`` (``scripts/install_browser.sh``); another TrueType/OpenType file (``.ttf``,
``.otf``, ``.ttc``) can be named with the ``CORRIDORS_CJK_FONT`` setting (see :func:`use_font`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from geo.errors import GeoError

#: Environment variable naming a CJK font file to use instead of the default.
FONT_ENV = "CORRIDORS_CJK_FONT"
#: Where Debian's ``fonts-wqy-microhei`` package puts its font (looked for first).
DEFAULT_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",  # Fedora/Arch layouts
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk, if that is what is there
)
FONT_PACKAGE = "fonts-wqy-microhei"
#: Characters every font must have: the map's own words and the rarer county names.
PROBE_TEXT = "洛阳都市圈产业走廊瀍河回族区偃师孟津渑池汝州济源焦作巩义栾川嵩县宜阳伊滨区图例比例尺北公里"


class FontMissingError(GeoError):
    """No usable CJK font is installed: Chinese map text cannot be drawn."""

    http_status = 500


def _missing_glyphs(path: Path, text: str = PROBE_TEXT) -> str:
    """Characters of ``text`` that the font file (first face of a collection) has no glyph for."""
    from matplotlib import ft2font

    face = ft2font.FT2Font(str(path))
    return "".join(ch for ch in dict.fromkeys(text) if face.get_char_index(ord(ch)) == 0)


#: The font file the settings name (``CORRIDORS_CJK_FONT``); None means Debian's defaults.
_configured: str | None = None


def use_font(path: str | None) -> None:
    """Use this font file for Chinese text (from the settings; None for Debian's default fonts)."""
    global _configured
    if path != _configured:
        _configured = path
        register_cjk_font.cache_clear()


def find_cjk_font() -> Path:
    """Path of the CJK font file to use: the configured one, else Debian's WenQuanYi Micro Hei (or Noto CJK)."""
    configured = _configured
    candidates = [configured] if configured else list(DEFAULT_FONT_PATHS)
    for name in candidates:
        path = Path(name)
        if path.is_file():
            return path
    where = f"{FONT_ENV}={configured}" if configured else " or ".join(DEFAULT_FONT_PATHS)
    raise FontMissingError(
        f"no CJK font at {where}: Chinese map labels cannot be drawn; install Debian's "
        f"{FONT_PACKAGE} (sudo apt-get install {FONT_PACKAGE}, done by `make test` via "
        f"scripts/install_browser.sh) or set {FONT_ENV} to a .ttf/.otf/.ttc file with Chinese glyphs",
        field="font")


@functools.lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the CJK font with matplotlib's font manager once; return its family name."""
    from matplotlib import font_manager

    path = find_cjk_font()
    missing = _missing_glyphs(path)
    if missing:
        raise FontMissingError(f"font {path} lacks glyphs for {missing!r}; install {FONT_PACKAGE} or set "
                               f"{FONT_ENV} to a font with Chinese glyphs", field="font")
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def font_families() -> list[str]:
    """The ``font.family`` list for the maps: the CJK font first, DejaVu Sans for any symbol it lacks."""
    return [register_cjk_font(), "DejaVu Sans"]


def text_width_em(text: str) -> float:
    """Rough width of a text in ems: CJK and full-width characters 1 em, others 0.56 em (WenQuanYi Micro Hei)."""
    return sum(1.0 if "\u2e80" <= ch <= "\uffef" else 0.56 for ch in text)
