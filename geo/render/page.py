"""Pages, formats and the limits of one map: what a client may ask for (CRS-free; sizes in inches and points).

Every value a client sends (``size``, ``dpi``, ``title``, ``format``) is checked here; a bad one is a
:class:`~geo.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from geo.errors import ValidationError

FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
MIMETYPES: dict[str, str] = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
PAGE_MM: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
SIZES: tuple[str, ...] = ("A4-landscape", "A4-portrait", "A3-landscape", "A3-portrait")
#: Pixel pages (e.g. 1920x1080) are laid out at this many pixels per inch (a 1920 px slide is 12.8 in wide).
SLIDE_DPI = 150
# Bounds of the work one map may ask for (a request beyond them is a ValidationError naming ``dpi`` or ``size``):
#: Dots per inch of a paper page (A4/A3).
DPI_RANGE = (50, 600)
#: Each side of a pixel page (``WIDTHxHEIGHT``), in pixels.
PIXEL_RANGE = (320, 8000)
#: Most pixels of one page (width × height): an A3 page at 300 dpi is 17.4 Mpx, at 450 dpi 39.1 Mpx.
MAX_PAGE_PIXELS = 40_000_000
#: Longest title, in characters.
MAX_TEXT_CHARS = 200


@dataclass(frozen=True)
class Page:
    """A page: its name, size in inches and output dpi."""

    name: str
    width_in: float
    height_in: float
    dpi: float

    @property
    def pixels(self) -> tuple[int, int]:
        """Pixel size of a raster rendering."""
        return int(self.width_in * self.dpi), int(self.height_in * self.dpi)  # as matplotlib's Agg canvas

    @property
    def landscape(self) -> bool:
        """Wider than tall."""
        return self.width_in >= self.height_in

    @property
    def paper(self) -> str | None:
        """'A4' or 'A3' for paper pages, None for pixel pages."""
        return self.name.split("-")[0] if self.name[0] == "A" else None


def _shown(value: object, limit: int = 40) -> str:
    """A client's value for an error message: its repr, shortened."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _megapixels(n: float) -> str:
    return f"{n / 1e6:.1f} Mpx"


def parse_dpi(dpi: object) -> float:
    """Dots per inch: a whole number within ``DPI_RANGE``."""
    try:
        value = float(dpi)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and DPI_RANGE[0] <= value <= DPI_RANGE[1]):
        raise ValidationError(f"expected a whole number of dots per inch, {DPI_RANGE[0]} <= dpi <= {DPI_RANGE[1]}, "
                              f"got {_shown(dpi)}", field="dpi")
    return value


def parse_page(size: str = "A4-landscape", dpi: object = 300) -> Page:
    """Page from ``A4|A3[-landscape|-portrait]`` or ``WIDTHxHEIGHT`` pixels (laid out at 150 px per inch).

    Bounded by ``DPI_RANGE`` (paper pages), ``PIXEL_RANGE`` (each side of a pixel page) and ``MAX_PAGE_PIXELS``
    (any page); the dpi is checked for pixel pages too, though their size is their pixels."""
    text = str(size or "A4-landscape").strip()
    value = parse_dpi(dpi)
    if m := re.fullmatch(r"(\d{1,9})\s*[xX×]\s*(\d{1,9})", text, flags=re.ASCII):
        w, h = int(m.group(1)), int(m.group(2))
        lo, hi = PIXEL_RANGE
        if not (lo <= w <= hi and lo <= h <= hi):
            raise ValidationError(f"expected each side of a pixel size between {lo} and {hi} px, got {w}x{h}",
                                  field="size")
        if w * h > MAX_PAGE_PIXELS:
            raise ValidationError(f"{w}x{h} is {_megapixels(w * h)}; at most {_megapixels(MAX_PAGE_PIXELS)} "
                                  f"({MAX_PAGE_PIXELS} pixels) per map", field="size")
        # a hair over the pixel count, so that the canvas (which truncates) has exactly w × h pixels
        return Page(f"{w}x{h}", (w + 0.01) / SLIDE_DPI, (h + 0.01) / SLIDE_DPI, SLIDE_DPI)
    if re.fullmatch(r"\d+\s*[xX×]\s*\d+", text, flags=re.ASCII):
        lo, hi = PIXEL_RANGE
        raise ValidationError(f"expected each side of a pixel size between {lo} and {hi} px, got {_shown(text)}",
                              field="size")
    m = re.fullmatch(r"(?i)(A[34])(?:[-_ ](landscape|portrait))?", text)
    if not m:
        raise ValidationError(f"unknown size {_shown(text)}; expected one of: {', '.join(SIZES)} or pixels like "
                              f"1920x1080 (each side {PIXEL_RANGE[0]}..{PIXEL_RANGE[1]})", field="size")
    paper, orient = m.group(1).upper(), (m.group(2) or "landscape").lower()
    long_mm, short_mm = PAGE_MM[paper]
    w_mm, h_mm = (long_mm, short_mm) if orient == "landscape" else (short_mm, long_mm)
    page = Page(f"{paper}-{orient}", w_mm / 25.4, h_mm / 25.4, value)
    n = page.pixels[0] * page.pixels[1]
    if n > MAX_PAGE_PIXELS:
        most = math.floor(math.sqrt(MAX_PAGE_PIXELS / (page.width_in * page.height_in)))
        raise ValidationError(f"{page.name} at {value:g} dpi is {_megapixels(n)}; at most "
                              f"{_megapixels(MAX_PAGE_PIXELS)} ({MAX_PAGE_PIXELS} pixels) per map: use dpi <= {most}",
                              field="dpi")
    return page


def check_text(value: object, field: str = "title", max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """A client's text for the map (a title): stripped, at most ``max_chars``, no control characters or line
    breaks (None when blank). It is drawn literally: never parsed as mathtext."""
    if value is None:
        return None
    if len(str(value)) > max_chars:  # as sent (spaces count): the OpenAPI document's maxLength
        raise ValidationError(f"expected at most {max_chars} characters, got {len(str(value))}", field=field)
    text = str(value).strip()
    if not text:
        return None
    bad = next((ch for ch in text if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") or
                ch in "\ufffe\uffff"), None)
    if bad is not None:
        raise ValidationError(f"expected text without control characters or line breaks, got U+{ord(bad):04X}",
                              field=field)
    return text


def format_of(out: str | os.PathLike[str] | IO[bytes] | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else the file's extension (png, svg or pdf)."""
    if fmt is None and isinstance(out, (str, os.PathLike)):
        fmt = Path(out).suffix.lstrip(".")
    key = (fmt or "").lower()
    if key not in FORMATS:
        raise ValidationError(f"unknown map format {_shown(fmt)}; expected one of: {', '.join(FORMATS)}",
                              field="format")
    return key

