"""The common clip builder: the ``_Entry`` records of any layout -> clips sorted by clip_id.

:func:`_build` resolves every path against the filesystem (once per file, through
:class:`~vmafdistill.corpus.paths._Resolver`), validates each reference's geometry once, counts
the frames of raw files and requires raw reference/distorted pairs to have equal frame counts,
refuses duplicate clip ids, assigns each clip its split bucket and requires at least two sources
(leave-one-source-out needs them).
"""

from __future__ import annotations

from collections.abc import Iterable

from .geometry import _RAW_EXT, _frames, _is_raw, frame_bytes
from .paths import _Resolver, _Root
from .records import Clip, CorpusError, _Entry, _loc, clip_id_for, split_bucket


def _build(entries: Iterable[_Entry], root: _Root, check_files: bool, origin: str) -> list[Clip]:
    """Check the entries against the filesystem and turn them into clips sorted by clip_id."""
    res = _Resolver(root, check_files)
    files = res.files
    frame_sizes: dict[tuple[int, int, str], int] = {}
    refs: dict[tuple[str, int, int, str], tuple[str, bool, int | None]] = {}
    by_id: dict[str, str] = {}
    clips: list[Clip] = []

    def fsize(w: int, h: int, pix_fmt: str, e: _Entry) -> int:
        key = (w, h, pix_fmt)
        fb = frame_sizes.get(key)
        if fb is None:
            try:
                fb = frame_bytes(w, h, pix_fmt)
            except CorpusError as exc:
                raise CorpusError(f"{_loc(e)}: {exc}") from None
            frame_sizes[key] = fb
        return fb

    for e in entries:
        ref_rel, dis_rel = e.ref_rel, e.dis_rel
        w, h, pix_fmt = e.width, e.height, e.pix_fmt
        ref = refs.get((ref_rel, w, h, pix_fmt))
        if ref is None:  # first clip of this reference: validate geometry, stat, count frames
            fb = fsize(w, h, pix_fmt, e)
            ref_path, ref_size = res.resolve(ref_rel, e, "reference")
            ref_raw = _is_raw(ref_rel)
            n = None
            if check_files and ref_raw:
                n = _frames(ref_size, fb, w, h, pix_fmt, _loc(e), "reference", ref_rel)
            ref = refs[(ref_rel, w, h, pix_fmt)] = (ref_path, ref_raw, n)
        ref_path, ref_raw, n_frames = ref
        hit = files.get(dis_rel)
        dis_path, dis_size = hit if hit is not None else res.resolve(dis_rel, e, "distorted clip")
        dw, dh = w, h
        dis_raw = dis_rel[-4:].lower() == _RAW_EXT
        if dis_raw:
            if e.dis_width is not None:
                dw, dh = e.dis_width, e.dis_height  # type: ignore[assignment]
            fb = fsize(dw, dh, pix_fmt, e)
            if check_files and not (dis_rel == ref_rel and dw == w and dh == h):
                nd = _frames(dis_size, fb, dw, dh, pix_fmt, _loc(e), "distorted clip", dis_rel)
                if ref_raw and nd != n_frames:
                    raise CorpusError(
                        f"{_loc(e)}: reference {ref_path} has {n_frames} frames ({w}x{h} "
                        f"{pix_fmt}) but distorted clip {dis_path} has {nd} frames ({dw}x{dh} "
                        f"{pix_fmt}); raw pairs must have the same number of frames"
                    )
        clip_id = clip_id_for(dis_rel)
        prev = by_id.get(clip_id)
        if prev is not None:
            raise CorpusError(
                f"{e.where}: duplicate clip id {clip_id!r}: distorted clips {prev!r} and "
                f"{dis_rel!r} map to the same id"
                + (" (the same clip is listed twice)" if prev == dis_rel else "")
            )
        by_id[clip_id] = dis_rel
        clips.append(
            Clip(
                clip_id,
                e.source,
                ref_path,
                dis_path,
                ref_rel,
                dis_rel,
                w,
                h,
                pix_fmt,
                e.fps,
                e.dmos,
                dis_path == ref_path,
                split_bucket(dis_rel),
                ref_raw,
                dis_raw,
                dw,
                dh,
                n_frames,
            )
        )
    if not clips:
        raise CorpusError(f"{origin}: the corpus has no clips")
    sources = sorted({c.source for c in clips})
    if len(sources) < 2:
        raise CorpusError(
            f"{origin}: leave-one-source-out needs at least 2 sources; found only "
            f"{sources[0]!r} ({len(clips)} clips)"
        )
    clips.sort(key=lambda c: c.clip_id)
    return clips
