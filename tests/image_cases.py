"""Odd-but-valid and bad image files, made on the fly (nothing is committed)."""

import io
import struct
import zlib

import numpy as np
from PIL import Image

from scenes.topdown import render_frame


def scene_pixels(seed=5, camera=0, frame=3):
    return render_frame(seed, camera, frame, 8)[0]


def _save(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def good_jpeg(pixels=None):
    return _save(Image.fromarray(scene_pixels() if pixels is None else pixels), "JPEG", quality=90)


def odd_but_valid():
    """name -> bytes: all decode to an RGB image the size of the scene."""
    rgb = Image.fromarray(scene_pixels())
    grey16 = (np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    rotated = rgb.transpose(Image.Transpose.ROTATE_90)  # stored sideways ...
    exif = Image.Exif()
    exif[274] = 6  # ... and EXIF says: rotate 90 clockwise to view
    rgba = rgb.convert("RGBA")
    return {
        "cmyk.jpg": _save(rgb.convert("CMYK"), "JPEG", quality=90),
        "grey.jpg": _save(rgb.convert("L"), "JPEG", quality=90),
        "palette.png": _save(rgb.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "grey16.png": _save(Image.fromarray(grey16), "PNG"),
        "rgba.webp": _save(rgba, "WEBP", lossless=True),
        "rotated.jpg": _save(rotated, "JPEG", quality=90, exif=exif),
    }


def decompression_bomb_png(width=50_000, height=50_000):
    """A tiny PNG whose header declares width x height pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def bad():
    """name -> (bytes, words the reason must contain)."""
    jpeg = good_jpeg()
    rng = np.random.default_rng(1)
    return {
        "empty.jpg": (b"", "empty file"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "text.jpg": (b"this is not an image, just some text\n" * 20, "not an image"),
        "random.jpg": (rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "not an image"),
        "unsupported.jpg": (_save(Image.fromarray(scene_pixels()), "TGA"), "unsupported image format"),
        "bomb.png": (decompression_bomb_png(), "decompression bomb"),
    }
