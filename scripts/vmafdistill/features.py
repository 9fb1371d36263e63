"""Feature tables from the per-clip libvmaf logs, and the teacher check.

`frames.parquet`: clip_id, source, frame, the teacher's features (canonical order, stable names),
vmaf (libvmaf's per-frame score of the configured teacher).
`clips.parquet`: one row per clip with its metadata, mean-pooled features, vmaf (mean of the
per-frame teacher, as libvmaf pools it), the libvmaf version, and the teacher check.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from . import CLIP_META
from .libvmaf_log import LibvmafLogError, parse_libvmaf_log
from .streams import InputStream, ReportError, pair_problems, parse_report
from .teacher import Teacher

#: How to declare a clip's frame rate, in a frame-rate error.
FPS_HINT = (
    "declare the rate with a `_<fps>fps` suffix on the reference's file name (dataset file, ref/ + dis/ naming), "
    "the manifest's fps column, or `--config fps=<fps>` for references named without one; "
    "`--config check_fps=false` accepts containers at other rates"
)
PIX_FMT_HINT = (
    "declare the reference's own pixel format (dataset file `yuv_fmt`, the manifest's pix_fmt column, or "
    "`--config pix_fmt=...` for the ref/ + dis/ naming)"
)
STREAM_COLUMNS = {f"{p}_{k}": t for p in ("ref", "dis") for k, t in (
    ("frames", pl.Int32), ("pix_fmt", pl.String), ("width", pl.Int32), ("height", pl.Int32), ("fps", pl.Float64),
    ("codec", pl.String))}


class FeatureTableError(Exception):
    """A per-clip libvmaf log does not fit the corpus (frame count, missing log, bad values)."""


@dataclass(frozen=True)
class FeatureTables:
    frames: pl.DataFrame
    clips: pl.DataFrame
    libvmaf_version: str
    teacher_max_diff: float
    teacher_failures: list[str]


def _streams(path: Path) -> tuple[InputStream, InputStream]:
    dis, ref = parse_report(path.read_text(encoding="utf-8", errors="replace"))
    return dis, ref


def build_tables(
    clips: list[dict], log_dir: str | Path, tolerance: float = 5e-4, check_fps: bool = True, *, teacher: Teacher,
) -> FeatureTables:
    """Read each clip's libvmaf log and stream report, check the pair, recompute the teacher, build both tables.

    `clips` are the ingested clip records (dicts with at least CLIP_META keys); `n_frames` is the
    raw reference's frame count, or None when the reference is a container. Every problem of every
    clip is collected into one FeatureTableError.
    """
    names = teacher.features
    frame_parts: list[pl.DataFrame] = []
    clip_rows: list[dict] = []
    versions: set[str] = set()
    errors: list[str] = []
    for rec in sorted(clips, key=lambda r: r["clip_id"]):
        cid = rec["clip_id"]
        path = Path(log_dir) / f"{cid}.json"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            feats, vmaf, version = parse_libvmaf_log(doc, f"{path} (clip {cid})", teacher.log_keys, teacher.name)
            dis, ref = _streams(path.with_suffix(".streams"))
        except (OSError, json.JSONDecodeError, LibvmafLogError, ReportError) as exc:
            errors.append(f"clip {cid}: {exc}")
            continue
        problems = pair_problems(
            dis=dis, ref=ref, dis_name=rec["dis_rel"], ref_name=rec["ref_rel"], dis_is_raw=bool(rec["dis_is_raw"]),
            ref_is_raw=bool(rec["ref_is_raw"]), fps=float(rec["fps"]), pix_fmt=str(rec["pix_fmt"]),
            fps_hint=FPS_HINT, pix_fmt_hint=PIX_FMT_HINT, check_fps=check_fps,
        )
        expected = rec.get("n_frames")
        if expected is not None and ref.frames != expected:
            problems.append(f"ffmpeg decoded {ref.frames} frames of the reference {rec['ref_rel']}, "
                            f"its size says {expected}")
        if not problems and len(feats) != ref.frames:
            problems.append(f"libvmaf scored {len(feats)} frames of {ref.frames}")
        if problems:
            errors += [f"clip {cid}: {p}" for p in problems]
            continue
        versions.add(version)
        recomputed = teacher.predict(feats)
        diff = float(np.max(np.abs(recomputed - vmaf)))
        n = len(feats)
        frame_parts.append(
            pl.DataFrame(
                {
                    "clip_id": [cid] * n,
                    "source": [rec["source"]] * n,
                    "frame": np.arange(n, dtype=np.int32),
                    **{name: feats[:, j] for j, name in enumerate(names)},
                    "vmaf": vmaf,
                }
            )
        )
        row = {k: rec.get(k) for k in CLIP_META}
        row["n_frames"] = n
        row.update(ref.as_row("ref"))
        row.update(dis.as_row("dis"))
        row.update({name: float(feats[:, j].mean()) for j, name in enumerate(names)})
        row["vmaf"] = float(vmaf.mean())
        row["teacher_max_diff"] = diff
        row["libvmaf_version"] = version
        clip_rows.append(row)
    if errors:
        raise FeatureTableError("\n".join(errors))
    if len(versions) > 1:
        raise FeatureTableError(f"clips were measured with several libvmaf versions: {sorted(versions)}")
    schema = {
        "clip_id": pl.String, "source": pl.String, "dis_rel": pl.String, "ref_rel": pl.String,
        "self_pair": pl.Boolean, "bucket": pl.Float64, "width": pl.Int32, "height": pl.Int32,
        "dmos": pl.Float64, "n_frames": pl.Int32, "fps": pl.Float64, "pix_fmt": pl.String, "ref_is_raw": pl.Boolean,
        "dis_is_raw": pl.Boolean, **STREAM_COLUMNS, **{f: pl.Float64 for f in names},
        "vmaf": pl.Float64, "teacher_max_diff": pl.Float64, "libvmaf_version": pl.String,
    }
    clips_df = pl.DataFrame(clip_rows, schema=schema)
    frames_df = pl.concat(frame_parts)
    failures = [
        f"clip {r['clip_id']}: teacher differs from libvmaf by {r['teacher_max_diff']:.2e} > {tolerance:g}"
        for r in clip_rows
        if r["teacher_max_diff"] > tolerance
    ]
    return FeatureTables(
        frames=frames_df,
        clips=clips_df,
        libvmaf_version=versions.pop(),
        teacher_max_diff=float(clips_df["teacher_max_diff"].max()),
        teacher_failures=failures,
    )


def table_sha256(path: str | Path) -> str:
    """sha256 of a feature table file (recorded in models trained from it)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
