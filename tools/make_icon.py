"""Draw the Respaldos icon (a white shield with a green check on a blue tile) with Pillow.

Writes assets/respaldos.png (256x256) and assets/respaldos.ico (16..256). Run it again after changing
the drawing: python tools/make_icon.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PACKAGE_ASSETS = Path(__file__).resolve().parents[1] / "wizard" / "assets"
BIG = 1024  # drawn large, then scaled down for smooth edges
BLUE_TOP = (37, 117, 252)
BLUE_BOTTOM = (18, 74, 180)
GREEN = (25, 170, 90)
ICO_SIZES = [(16, 16), (20, 20), (24, 24), (32, 32), (40, 40), (48, 48), (64, 64), (128, 128), (256, 256)]


def draw(size: int = BIG) -> Image.Image:
    s = size / 1024
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    gradient = Image.new("RGBA", (size, size))
    gd = ImageDraw.Draw(gradient)
    for y in range(size):
        t = y / (size - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(BLUE_TOP, BLUE_BOTTOM))
        gd.line([(0, y), (size, y)], fill=(*color, 255))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([24 * s, 24 * s, 1000 * s, 1000 * s], radius=200 * s, fill=255)
    tile.paste(gradient, (0, 0), mask)

    d = ImageDraw.Draw(tile)
    # Shield: a gentle peak on top, straight sides, then convex curves meeting at the tip.
    cx = 512 * s
    top, shoulder, side_end, tip = 165 * s, 230 * s, 520 * s, 885 * s
    half = 310 * s
    points = [(cx - half, shoulder), (cx, top), (cx + half, shoulder), (cx + half, side_end)]
    steps = 40
    for i in range(1, steps + 1):  # quadratic curve: side end -> tip, control point below the side
        t = i / steps
        c = (cx + half, side_end + (tip - side_end) * 0.55)
        x = (1 - t) ** 2 * (cx + half) + 2 * (1 - t) * t * c[0] + t * t * cx
        y = (1 - t) ** 2 * side_end + 2 * (1 - t) * t * c[1] + t * t * tip
        points.append((x, y))
    points += [(2 * cx - x, y) for x, y in reversed(points[4:-1])]
    points.append((cx - half, side_end))
    d.polygon(points, fill=(255, 255, 255, 255))

    # Green check mark in the middle of the shield.
    w = int(92 * s)
    check = [(372 * s, 505 * s), (472 * s, 605 * s), (660 * s, 400 * s)]
    d.line(check, fill=(*GREEN, 255), width=w, joint="curve")
    r = w / 2
    for x, y in (check[0], check[2]):
        d.ellipse([x - r, y - r, x + r, y + r], fill=(*GREEN, 255))
    return tile


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    big = draw()
    png = big.resize((256, 256), Image.LANCZOS)
    png.save(ASSETS / "respaldos.png", optimize=True)
    big.resize((256, 256), Image.LANCZOS).save(ASSETS / "respaldos.ico", sizes=ICO_SIZES)
    PACKAGE_ASSETS.mkdir(exist_ok=True)
    for name in ("respaldos.png", "respaldos.ico"):  # the installed package carries its own copy
        shutil.copyfile(ASSETS / name, PACKAGE_ASSETS / name)
    print(f"wrote {ASSETS / 'respaldos.png'} and {ASSETS / 'respaldos.ico'} (copied to {PACKAGE_ASSETS})")


if __name__ == "__main__":
    main()
