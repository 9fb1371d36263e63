"""Raw-YUV geometry: pixel formats, bytes per frame and whole-frame counts of raw ``.yuv`` files.

Raw ``.yuv`` files are checked for a whole number of frames (:func:`_frames`: an empty file or
one with bytes left over is an error, never a truncation); that raw reference/distorted pairs
have equal frame counts is checked by :func:`~vmafdistill.corpus.build._build`.
"""

from __future__ import annotations

from .records import CorpusError, _is_int

#: Raw pixel formats and their bytes per sample.
SUPPORTED_PIX_FMTS: dict[str, int] = {"yuv420p": 1, "yuv420p10le": 2}

_RAW_EXT = ".yuv"


def frame_bytes(width: int, height: int, pix_fmt: str) -> int:
    """Bytes of one raw frame: yuv420p w*h*3/2, yuv420p10le w*h*3 (chroma rounded up if odd)."""
    try:
        bps = SUPPORTED_PIX_FMTS[pix_fmt]
    except (KeyError, TypeError):
        raise CorpusError(
            f"unsupported pix_fmt {pix_fmt!r}; supported: {', '.join(SUPPORTED_PIX_FMTS)}"
        ) from None
    if not _is_int(width) or not _is_int(height) or width <= 0 or height <= 0:
        raise CorpusError(f"invalid frame geometry {width!r}x{height!r}: need positive integers")
    return (width * height + 2 * ((width + 1) // 2) * ((height + 1) // 2)) * bps


def _is_raw(rel: str) -> bool:
    return rel[-4:].lower() == _RAW_EXT


def _frames(
    size: int, fb: int, w: int, h: int, pix_fmt: str, where: str, role: str, rel: str
) -> int:
    if size == 0:
        raise CorpusError(
            f"{where}: {role} {rel!r} is empty (0 bytes); expected a multiple of the "
            f"frame size {fb} bytes ({w}x{h} {pix_fmt})"
        )
    n, rest = divmod(size, fb)
    if rest:
        raise CorpusError(
            f"{where}: {role} {rel!r} has size {size} bytes, not a multiple of the frame size "
            f"{fb} bytes ({w}x{h} {pix_fmt}); {n} whole frames and {rest} bytes left over"
        )
    return n
