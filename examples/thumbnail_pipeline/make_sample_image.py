"""Draw the sample upload ``images/sunset.png`` (320x240 RGB, a few KB) with the standard library.

Run from anywhere: ``python examples/thumbnail_pipeline/make_sample_image.py``.
"""

from __future__ import annotations

from functions import HERE, write_png

WIDTH, HEIGHT, HORIZON = 320, 240, 150
SUN_X, SUN_Y, SUN_RADIUS = 200, 150, 36


def _blend(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, ...]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))


def pixel(x: int, y: int) -> tuple[int, ...]:
    """The colour of one pixel: sky above the horizon, sun, and a striped sea below."""
    in_sun = (x - SUN_X) ** 2 + (y - SUN_Y) ** 2 <= SUN_RADIUS**2
    if y < HORIZON:
        if in_sun:
            return (255, 214, 102)
        return _blend((28, 40, 98), (250, 140, 60), y / HORIZON)
    sea = _blend((200, 96, 60), (20, 36, 72), (y - HORIZON) / (HEIGHT - HORIZON))
    reflection = abs(x - SUN_X) < SUN_RADIUS - (y - HORIZON) // 3 and (y // 4) % 2 == 0
    return _blend(sea, (255, 214, 102), 0.6) if reflection else sea


def main() -> None:
    """Write the image next to this script."""
    rows = [bytes(c for x in range(WIDTH) for c in pixel(x, y)) for y in range(HEIGHT)]
    target = HERE / "images" / "sunset.png"
    target.parent.mkdir(exist_ok=True)
    write_png(target, WIDTH, HEIGHT, 2, rows)
    print(f"wrote {target} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
