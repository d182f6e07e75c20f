"""Lambda handlers of the thumbnail pipeline, run locally by ``asl run --functions``.

``make_thumbnail`` reads the uploaded image named by the S3 object key (resolved
inside this folder, standing in for the bucket) and writes a PNG thumbnail. It uses
Pillow when it is installed; without it, a small standard-library PNG codec does the
same for 8-bit, non-interlaced PNG files, so the example runs anywhere.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

HERE = Path(__file__).resolve().parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type -> bytes per pixel at 8 bits per sample.
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


class SourceImageNotFound(Exception):
    """The uploaded object does not exist (any more)."""


class UnsupportedImage(Exception):
    """The object is not an image this pipeline can read."""


def make_thumbnail(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write a thumbnail of the uploaded image; return where it is and its size."""
    key = unquote_plus(event["key"])
    source = HERE / key
    if not source.is_file():
        raise SourceImageNotFound(f"No object s3://{event['bucket']}/{key}")
    max_side = int(os.environ.get("THUMBNAIL_MAX_SIZE", "128"))
    target_dir = Path(os.environ.get("THUMBNAIL_DIR", "out/thumbnails"))
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{source.stem}-{max_side}.png"
    (src_w, src_h), (width, height), renderer = _render(source, target, max_side)
    return {
        "thumbnailPath": str(target),
        "width": width,
        "height": height,
        "sourceWidth": src_w,
        "sourceHeight": src_h,
        "bytes": target.stat().st_size,
        "contentType": "image/png",
        "renderer": renderer,
    }


Size = tuple[int, int]


def _render(source: Path, target: Path, max_side: int) -> tuple[Size, Size, str]:
    try:
        from PIL import Image  # optional: imported only when a thumbnail is made
    except ImportError:
        src, size = _render_stdlib(source, target, max_side)
        return src, size, "stdlib"
    try:
        with Image.open(source) as image:
            src = image.size
            image.thumbnail((max_side, max_side))
            image.save(target, format="PNG")
            return src, image.size, "pillow"
    except OSError as exc:  # Pillow's UnidentifiedImageError is an OSError
        raise UnsupportedImage(str(exc)) from exc


def _render_stdlib(source: Path, target: Path, max_side: int) -> tuple[Size, Size]:
    width, height, color_type, rows = read_png(source.read_bytes())
    scale = min(max_side / width, max_side / height, 1.0)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    small = _shrink(rows, (width, height), (new_w, new_h), CHANNELS[color_type])
    write_png(target, new_w, new_h, color_type, small)
    return (width, height), (new_w, new_h)


def read_png(data: bytes) -> tuple[int, int, int, list[bytearray]]:
    """Decode an 8-bit, non-interlaced grey, grey+alpha, RGB or RGBA PNG into rows."""
    if not data.startswith(PNG_SIGNATURE):
        raise UnsupportedImage("not a PNG file")
    pos, header, idat = len(PNG_SIGNATURE), b"", bytearray()
    while pos + 8 <= len(data):
        length, tag = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if tag == b"IHDR":
            header = body
        elif tag == b"IDAT":
            idat += body
        elif tag == b"IEND":
            break
    if len(header) != 13:
        raise UnsupportedImage("PNG without a valid IHDR chunk")
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or interlace != 0 or color_type not in CHANNELS:
        raise UnsupportedImage(
            f"PNG with bit depth {depth}, colour type {color_type}, interlace {interlace}"
            " needs Pillow"
        )
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        raise UnsupportedImage(f"corrupt PNG data: {exc}") from exc
    return width, height, color_type, _unfilter(raw, width, height, CHANNELS[color_type])


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytearray]:
    stride = width * bpp
    if len(raw) < height * (stride + 1):
        raise UnsupportedImage("truncated PNG data")
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = bytearray(raw[start + 1 : start + 1 + stride])
        _undo_filter(raw[start], row, previous, bpp)
        rows.append(row)
        previous = row
    return rows


def _undo_filter(kind: int, row: bytearray, up_row: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind > 4:
        raise UnsupportedImage(f"unknown PNG filter type {kind}")
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up = up_row[i]
        if kind == 1:
            predicted = left
        elif kind == 2:
            predicted = up
        elif kind == 3:
            predicted = (left + up) // 2
        else:
            predicted = _paeth(left, up, up_row[i - bpp] if i >= bpp else 0)
        row[i] = (row[i] + predicted) & 0xFF


def _paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
    if distances[0] <= distances[1] and distances[0] <= distances[2]:
        return left
    return up if distances[1] <= distances[2] else up_left


def _shrink(rows: list[bytearray], size: Size, new_size: Size, bpp: int) -> list[bytes]:
    """Downscale by averaging the block of source pixels under each target pixel."""
    (width, height), (new_w, new_h) = size, new_size
    xs = [x * width // new_w for x in range(new_w + 1)]
    ys = [y * height // new_h for y in range(new_h + 1)]
    out = []
    for ty in range(new_h):
        block_rows = rows[ys[ty] : max(ys[ty + 1], ys[ty] + 1)]
        line = bytearray()
        for tx in range(new_w):
            x0, x1 = xs[tx], max(xs[tx + 1], xs[tx] + 1)
            count = (x1 - x0) * len(block_rows)
            for channel in range(bpp):
                total = sum(r[x * bpp + channel] for r in block_rows for x in range(x0, x1))
                line.append((total + count // 2) // count)
        out.append(bytes(line))
    return out


def write_png(path: Path, width: int, height: int, color_type: int, rows: list[bytes]) -> None:
    """Encode rows of 8-bit pixels as a PNG file (each row with the Sub filter)."""
    bpp = CHANNELS[color_type]
    raw = bytearray()
    for row in rows:
        raw.append(1)
        raw += bytes((row[i] - (row[i - bpp] if i >= bpp else 0)) & 0xFF for i in range(len(row)))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    path.write_bytes(
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))
