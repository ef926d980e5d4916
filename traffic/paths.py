"""How images are named: paths on any filesystem, and the text form an
image's path takes in every record and output (Beam-free)."""

import re


def has_scheme(path):
    """gs://..., s3://..., file://...: a path for a filesystem other than the local one."""
    return "://" in path


def image_id(path):
    """The name an image is known by in every record and output: its path,
    with '%' and the bytes of a file name that are not valid UTF-8 (legal on
    Linux; Python reads them as lone surrogates, which no text coder can
    encode) percent-encoded, so it is valid text everywhere.  ``file_path``
    reverses it exactly; ``urllib.parse.unquote_to_bytes`` gives the raw bytes."""
    if "%" not in path and not any("\udc80" <= c <= "\udcff" for c in path):
        return path
    return "".join("%25" if c == "%" else
                   f"%{ord(c) - 0xDC00:02X}" if "\udc80" <= c <= "\udcff" else c
                   for c in path)


_ESCAPED = re.compile(r"%(25|[89A-F][0-9A-F])")


def file_path(image):
    """The path to open for an image id (the inverse of ``image_id``)."""
    if "%" not in image:
        return image
    return _ESCAPED.sub(lambda m: "%" if m.group(1) == "25" else chr(0xDC00 + int(m.group(1), 16)),
                        image)
