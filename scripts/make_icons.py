"""Draw the installable app's icons once (run from the repository root; the PNGs are committed).

    .venv/bin/python scripts/make_icons.py

The mark is favicon.svg's: a white plus on a rounded Dosewise-blue square (16-unit grid: the
square's corners have radius 3, the plus runs from 4 to 12 with a stroke of 2). Each icon is
drawn at four times its size and scaled down, so the edges are smooth.

- icon-192.png, icon-512.png: "any" purpose, the rounded square on transparency (as the favicon);
- maskable-192.png, maskable-512.png: "maskable", full bleed; the plus stays inside the central
  80% circle the platform may keep (its arms reach 25% of the size from the centre);
- apple-touch-icon.png (180): full bleed, opaque (iOS rounds the corners itself);
- badge-96.png: the plus alone, white on transparency (Android draws the badge from its alpha).

monochrome.svg (the "monochrome" icon: only its alpha counts) is written by hand beside them.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = (0x1D, 0x4F, 0x91, 255)  # --brand in app.css and the favicon
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SCALE = 4  # drawn this many times larger, then scaled down
OUT = Path(__file__).resolve().parents[1] / "src" / "dosewise" / "web" / "static" / "icons"


def draw_mark(size: int, *, rounded: bool, background: tuple[int, int, int, int] | None) -> Image.Image:
    """The favicon's mark at ``size`` pixels: the square (rounded or full bleed) and the plus."""
    big = size * SCALE
    unit = big / 16  # the favicon's 16-unit grid
    image = Image.new("RGBA", (big, big), CLEAR)
    draw = ImageDraw.Draw(image)
    if background is not None:
        radius = round(3 * unit) if rounded else 0
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=radius, fill=background)
    draw_plus(draw, unit)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_plus(draw: ImageDraw.ImageDraw, unit: float) -> None:
    """The plus: two bars 2 units thick from 4 to 12 units (butt ends, as the SVG's stroke)."""
    low, high = round(4 * unit), round(12 * unit) - 1
    thin_low, thin_high = round(7 * unit), round(9 * unit) - 1
    draw.rectangle((low, thin_low, high, thin_high), fill=WHITE)
    draw.rectangle((thin_low, low, thin_high, high), fill=WHITE)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icons = {
        "icon-192.png": draw_mark(192, rounded=True, background=BRAND),
        "icon-512.png": draw_mark(512, rounded=True, background=BRAND),
        "maskable-192.png": draw_mark(192, rounded=False, background=BRAND),
        "maskable-512.png": draw_mark(512, rounded=False, background=BRAND),
        "apple-touch-icon.png": draw_mark(180, rounded=False, background=BRAND).convert("RGB"),
        "badge-96.png": draw_mark(96, rounded=False, background=None),
    }
    for name, image in icons.items():
        image.save(OUT / name, optimize=True)
        print(f"{OUT / name} {image.size[0]}x{image.size[1]}")


if __name__ == "__main__":
    main()
