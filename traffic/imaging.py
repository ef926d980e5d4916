"""Safe image decoding: one function from file bytes to RGB pixels.

It refuses what it should (empty files, non-images, unsupported formats,
truncated data, decompression bombs) with an ``UnreadableImage`` that says
why, and it decodes odd but valid input correctly: CMYK, greyscale, palette,
16-bit, alpha, EXIF-rotated.  JPEGs that are wanted at reduced size are decoded
in Pillow's draft mode (DCT scaling), which is several times cheaper than a
full decode followed by a resize.
"""

import dataclasses
import datetime as dt
import io
import math
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "TIFF", "BMP", "GIF"})
DEFAULT_MAX_PIXELS = 100_000_000

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 36867
_DATETIME = 306
_ORIENTATION = 274


# What Pillow raises on damaged data, depending on the format and the damage.
_CORRUPT = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)


class UnreadableImage(ValueError):
    """The bytes are not an image this tool can decode; the message says why."""


@dataclasses.dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # uint8 HxWx3 RGB, upright, at 1/scale of full size
    width: int  # full-size width, upright
    height: int  # full-size height, upright
    scale: float  # full-size pixels per pixel of ``pixels``
    taken_at: str | None  # ISO-8601 from EXIF, when present


def decode_image(data, reduce=1, max_pixels=DEFAULT_MAX_PIXELS, fit=None, width=None):
    """Decode ``data`` to upright RGB, shrunk by the whole factor ``reduce``.

    With ``fit`` (height, width), the reduction is chosen per image instead:
    the largest that still leaves more pixels than a letterbox into ``fit``
    would keep.  With ``width``, it is the whole factor that brings the
    image nearest that width (``reduction_to``).
    """
    if not data:
        raise UnreadableImage("empty file (0 bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as e:
            raise UnreadableImage(f"decompression bomb refused: {e}") from None
        except UnidentifiedImageError:
            raise UnreadableImage("not an image: unrecognised file content") from None
        except _CORRUPT as e:
            raise UnreadableImage(f"truncated or corrupt image data: {e}") from None
        if img.format not in SUPPORTED_FORMATS:
            raise UnreadableImage(f"unsupported image format {img.format}")
        w, h = img.size
        if w * h > max_pixels:
            raise UnreadableImage(
                f"decompression bomb refused: {w}x{h} = {w * h} pixels "
                f"exceeds the limit of {max_pixels}")
        exif = img.getexif()
        orientation = exif.get(_ORIENTATION, 1)
        taken_at = _exif_time(exif)
        # the reduction is chosen on the upright picture's size
        upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
        if fit is not None:
            reduce = reduction_for(*upright, fit)
        elif width is not None:
            reduce = reduction_to(upright[0], width)
        # DCT scaling by the largest power of two (up to 8) that divides the
        # factor; a box reduction does the rest
        dct = math.gcd(reduce, 8)
        if dct > 1 and img.format in ("JPEG", "MPO"):
            img.draft("RGB", (max(1, w // dct), max(1, h // dct)))
        try:
            img.load()
            pixels = _to_rgb(img)
        except _CORRUPT as e:
            raise UnreadableImage(f"truncated or corrupt image data: {e}") from None
        rest = reduce // max(1, round(w / img.size[0]))  # what the draft did not
        if rest > 1:  # not JPEG, no draft, or a factor DCT scaling lacks: box-reduce
            pixels = np.asarray(Image.fromarray(pixels).reduce(rest))
    if orientation in (2, 3, 4, 5, 6, 7, 8):
        pixels = _orient(pixels, orientation)
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    return DecodedImage(pixels=pixels, width=w, height=h,
                        scale=w / pixels.shape[1], taken_at=taken_at)


def reduction_to(full_width, width):
    """The whole factor (at least 1) by which an image ``full_width`` wide
    shrinks to the width nearest ``width``."""
    return max(1, round(full_width / width))


def reduction_for(width, height, fit):
    """Largest power of two up to 8 by which an image can shrink and still be
    at least as large as its letterbox into ``fit`` (height, width)."""
    ratio = min(fit[0] / height, fit[1] / width)
    reduce = 1
    while reduce < 8 and reduce * 2 * ratio <= 1:
        reduce *= 2
    return reduce


def _to_rgb(img):
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if (mode.startswith("I;16") or a.max() > 255) else 255.0
        g = np.clip(a * (255.0 / peak), 0, 255).round().astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode == "F":
        g = np.clip(np.asarray(img, dtype=np.float64), 0, 255).round().astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        img = Image.alpha_composite(black, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _orient(pixels, orientation):
    """Apply an EXIF orientation (as ImageOps.exif_transpose does) to an array."""
    img = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[_ORIENTATION] = orientation
    img.info["exif"] = exif.tobytes()
    return np.asarray(ImageOps.exif_transpose(img).convert("RGB"))


# Times outside these are a camera clock gone wrong (or unset: 0000:00:00);
# they would not fit a time window either.
EARLIEST_TIME, LATEST_TIME = dt.datetime(1900, 1, 1), dt.datetime(2999, 12, 31)


def usable_time(t):
    return EARLIEST_TIME <= t <= LATEST_TIME


def _exif_time(exif):
    """EXIF DateTimeOriginal (or DateTime) as ISO-8601, or None when absent,
    malformed or not a usable time."""
    value = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(value, str) or len(value) < 19:
        return None
    date, _, clock = value.strip().partition(" ")
    try:
        t = dt.datetime.fromisoformat(f"{date.replace(':', '-')}T{clock}").replace(tzinfo=None)
    except ValueError:
        return None
    return t.replace(microsecond=0).isoformat() if usable_time(t) else None


def encode_jpeg(pixels, taken_at=None, quality=90):
    """JPEG bytes of RGB pixels, with EXIF DateTimeOriginal when given."""
    img = Image.fromarray(pixels)
    exif = Image.Exif()
    if taken_at is not None:
        stamp = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif[_DATETIME] = stamp
        exif.get_ifd(_EXIF_IFD)[_DATETIME_ORIGINAL] = stamp
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality, exif=exif)
    return buf.getvalue()
