"""Accuracy: do the students follow the teacher everywhere? Tuning corpus + demo corpus, per model.

Models: every exported vmaf_v0.6.1 tier (results/teachers/vmaf_v0.6.1/export/*.onnx, or --export-dir;
a note if none), every peer (../shared/peers/*.onnx relative to the repo root; omitted if that folder
is absent), and, as the floor any float32 model can reach, the vmaf_v0.6.1 SVM itself as a float32
ONNX graph (row `svm-onnx-fp32`, built by benchmarks/inference.py's export_svm_onnx).

Corpora:
  (a) tuning: content and distortions the demo corpus never uses (benchmarks/tuning_corpus.py:
      6 scikit-image photos the demo config does not list, with camera motion, x 15 HRCs: Gaussian
      blur, temporal noise, VP9 10 kbit/s, MPEG-2 / MJPEG at coarse quantisers, H.264 CRF 51 at
      quarter resolution, temporal smear, desaturation, contrast compression, Cinepak, Theora;
      576x324, 25 fps), measured with real libvmaf. The training recipe was
      chosen on it, so these are TUNING figures, not held-out ones: the out-of-distribution figures
      come from the unseen corpus (benchmarks/unseen.py). Built once and cached in
      benchmarks_out/corpora/tuning-<key>/ (keyed on the build commands and the ffmpeg binary);
      --rebuild forces a new build.
  (b) demo: results/teachers/vmaf_v0.6.1/features/frames.parquet (the workflow's demo corpus,
      self-pairs left out as in the LOSO metrics). IN distribution for our tiers (trained on every
      demo source), out of distribution for the peers (trained on Netflix Public / KoNViD / BVI-DVC).

The teacher is libvmaf's own per-frame vmaf_v0.6.1. A clip's score is the mean of its per-frame
scores (libvmaf's pooling) for the teacher and for the model alike. Each clip's frames go through a
model as one batch; `batch_dep` is the largest per-frame change when the same frames are scored one
at a time instead (non-zero for int8 models with per-batch activation scales). `out 0-100`
counts per-frame outputs outside libvmaf's clipping range, and `clip RMSE clipped` is the clip RMSE had
the model's output been clipped to [0, 100] like the teacher's (our tiers clamp in the graph).

Prints rich tables and writes results/benchmarks/accuracy.csv.

    .venv/bin/python benchmarks/accuracy.py [--rebuild] [--workers 2] [--peers DIR]
        [--export-dir results/teachers/vmaf_v0.6.1/export]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from corpora import clip_table
from inference import EXPORT_DIR, PEERS_DIR, TEACHER_DIR, export_svm_onnx
from student_eval import exported_students
from tuning_corpus import TUNING, tuning_frames
from vmafdistill import FEATURES, atomic, loso, onnxrun
from vmafdistill.ffmpeg import check_libvmaf, resolve_ffmpeg
from vmafdistill.teacher import load_teacher

ROOT = Path(__file__).resolve().parent.parent
OUT_CSV = ROOT / "results" / "benchmarks" / "accuracy.csv"
DEMO_FRAMES = TEACHER_DIR / "features" / "frames.parquet"
DEMO_CLIPS = TEACHER_DIR / "features" / "clips.parquet"


def tuning_table(rebuild: bool, workers: int) -> tuple[pl.DataFrame, str]:
    """The tuning corpus's per-frame vmaf_v0.6.1 table (cached), and how it was obtained."""
    exe, origin = resolve_ffmpeg()
    check_libvmaf(exe, origin)
    tf = tuning_frames(exe, [load_teacher()], workers=workers, rebuild=rebuild)
    built = f"built in {tf.build_s:.1f} s" if tf.built_now else f"cached build ({tf.build_s:.1f} s)"
    measured = f"measured in {tf.measure_s['vmaf_v0.6.1']:.1f} s" if tf.measured_now else "cached table"
    return tf.tables["vmaf_v0.6.1"], f"{built}, {measured} ({workers} at a time; {tf.folder.relative_to(ROOT)})"


def demo_frames() -> pl.DataFrame | None:
    if not DEMO_FRAMES.is_file():
        return None
    frames = pl.read_parquet(DEMO_FRAMES)
    if DEMO_CLIPS.is_file():
        pairs = pl.read_parquet(DEMO_CLIPS).filter(pl.col("self_pair")).select("clip_id")
        frames = frames.join(pairs, on="clip_id", how="anti")
    return frames.sort(["clip_id", "frame"])


def scores(sess, frames: pl.DataFrame) -> tuple[np.ndarray, float]:
    """Per-frame predictions (each clip one batch) and the largest batch-1 vs per-clip-batch change."""
    out = np.empty(frames.height, dtype=np.float64)
    dep = 0.0
    start = 0
    x_all = frames.select(FEATURES).to_numpy().astype(np.float32)
    for n in frames.group_by("clip_id", maintain_order=True).len()["len"].to_list():
        x = x_all[start : start + n]
        batch = onnxrun.run(sess, x).astype(np.float64)
        single = np.array([onnxrun.run(sess, x[i : i + 1])[0] for i in range(n)], dtype=np.float64)
        dep = max(dep, float(np.max(np.abs(batch - single))))
        out[start : start + n] = batch
        start += n
    return out, dep


def evaluate(frames: pl.DataFrame, pred: np.ndarray) -> dict:
    per_frame = loso.metrics(frames["vmaf"].to_numpy(), pred)
    clip = (
        frames.select("clip_id", "vmaf").with_columns(pl.Series("p", pred))
        .group_by("clip_id", maintain_order=True).agg(pl.col("vmaf").mean(), pl.col("p").mean())
    )
    clipped = (
        frames.select("clip_id").with_columns(pl.Series("p", np.clip(pred, 0.0, 100.0)))
        .group_by("clip_id", maintain_order=True).agg(pl.col("p").mean())
    )
    per_clip = loso.metrics(clip["vmaf"].to_numpy(), clip["p"].to_numpy())
    return {
        "n_clips": clip.height,
        "n_frames": frames.height,
        "clip_rmse": per_clip["rmse"],
        "clip_max_abs": per_clip["max_abs_error"],
        "clip_plcc": per_clip["plcc"],
        "clip_srocc": per_clip["srocc"],
        "frame_rmse": per_frame["rmse"],
        "frame_max_abs": per_frame["max_abs_error"],
        # outputs outside [0, 100] (where libvmaf clips), and the clip RMSE had the model clipped too
        "out_of_range": int(np.sum((pred < 0) | (pred > 100))),
        "clip_rmse_clipped": loso.metrics(clip["vmaf"].to_numpy(), clipped["p"].to_numpy())["rmse"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rebuild", action="store_true", help="rebuild the tuning corpus even if cached")
    ap.add_argument("--workers", type=int, default=2, help="ffmpeg processes at a time for the tuning build")
    ap.add_argument("--export-dir", type=Path, default=EXPORT_DIR, help="where the exported tiers are")
    ap.add_argument("--peers", type=Path, default=PEERS_DIR, help="published vmaf_v0.6.1 students (if present)")
    args = ap.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    notes: list[str] = []

    s_frames, how = tuning_table(args.rebuild, args.workers)
    s_clips = clip_table(s_frames)
    teacher = load_teacher()
    s_diff = float(np.max(np.abs(teacher.predict(s_frames.select(FEATURES).to_numpy()) - s_frames["vmaf"].to_numpy())))
    corpora = {"tuning": s_frames}
    d_frames = demo_frames()
    if d_frames is None:
        notes.append(f"no {DEMO_FRAMES.relative_to(ROOT)} (run `snakemake features`): demo corpus rows omitted")
    else:
        corpora["demo"] = d_frames

    # the tuning corpus itself
    st = TUNING.settings
    console.print(
        f"[bold]tuning corpus[/]: {s_clips.height} clips = {s_clips['source'].n_unique()} sources x "
        f"{s_clips['hrc'].n_unique()} HRCs, {s_frames.height} frames, {st.width}x{st.height} {st.fps} fps "
        f"{st.seconds:g} s; {how}; teacher (float64 SVM on libvmaf's features) vs libvmaf vmaf: max |diff| {s_diff:.1e}"
    )
    grid = s_clips.pivot(on="hrc", index="source", values="vmaf", maintain_order=True)
    t = Table(title="tuning corpus: libvmaf vmaf_v0.6.1 clip scores (mean of frames)")
    for c in grid.columns:
        t.add_column(c, justify="left" if c == "source" else "right")
    for row in grid.iter_rows():
        t.add_row(row[0], *(f"{v:.1f}" for v in row[1:]))
    console.print(t)
    console.print(
        f"clip scores {s_clips['vmaf'].min():.1f} .. {s_clips['vmaf'].max():.1f} "
        f"(median {s_clips['vmaf'].median():.1f}); "
        f"frame scores {s_frames['vmaf'].min():.1f} .. {s_frames['vmaf'].max():.1f}; "
        f"{(s_frames['vmaf'] == 0).sum()} frames clipped at 0"
    )

    if d_frames is not None:
        lo, hi = s_frames.select(pl.col(FEATURES).min()), d_frames.select(pl.col(FEATURES).min())
        console.print("feature minima, tuning vs demo: " + ", ".join(
            f"{f} {lo[f][0]:.3g} vs {hi[f][0]:.3g}" for f in FEATURES[:5]))

    # models
    models: list[tuple[str, str, Path]] = []
    exported, skipped = exported_students(args.export_dir)
    notes += skipped
    tiers = [s for s in exported if s.teacher.name == teacher.name and s.pooling == "frame"]
    notes += [f"{s.path}: a student of {s.teacher.name} ({s.pooling} pooling), not compared here (benchmarks/unseen.py "
              "takes every teacher)" for s in exported if s not in tiers]
    if not tiers:
        notes.append(f"no exported vmaf_v0.6.1 tier in {args.export_dir}/ (run `snakemake export`): tier rows omitted")
    models += [(f"tier:{s.label}", "tier", s.path) for s in tiers]
    peers = sorted(args.peers.glob("*.onnx")) if args.peers.is_dir() else []
    if not peers:
        notes.append(f"no peer folder {args.peers}: peer rows omitted")
    models += [(f"peer:{p.stem}", "peer", p) for p in peers]

    rows = []
    per_hrc = []
    with tempfile.TemporaryDirectory(prefix="vmafdistill-svm-onnx-") as tmp:
        svm = export_svm_onnx(teacher, Path(tmp) / "svm.onnx")
        for label, kind, path in [("svm-onnx-fp32", "reference", svm), *models]:
            sess = onnxrun.session(path)
            for cname, frames in corpora.items():
                pred, dep = scores(sess, frames)
                dist = ("-" if kind == "reference" else "out" if kind == "peer" else "in" if cname == "demo"
                        else "tuning")
                rows.append({"corpus": cname, "model": label, "kind": kind, "distribution": dist,
                             **evaluate(frames, pred), "batch_dep": dep})
                if cname == "tuning":
                    err = frames.select("clip_id", "hrc", "vmaf").with_columns(pl.Series("p", pred))
                    err = err.group_by("clip_id", "hrc").agg(
                        (pl.col("p").mean() - pl.col("vmaf").mean()).abs().alias("e")
                    )
                    for hrc, part in err.group_by("hrc"):
                        per_hrc.append({"model": label, "hrc": hrc[0], "clip_max_abs": part["e"].max()})
    table = pl.DataFrame(rows)
    atomic.write_csv(OUT_CSV, table)

    for cname in corpora:
        sub = table.filter(pl.col("corpus") == cname)
        title = {
            "tuning": "(a) TUNING corpus: the recipe was chosen on it (not held-out for our tiers; out of distribution "
            "for the peers)",
            "demo": "(b) DEMO corpus (self-pairs left out): IN distribution for our tiers (trained on every demo "
            "source), out of distribution for the peers",
        }[cname]
        n = sub.row(0, named=True)
        t = Table(
            title=f"{title}  [{n['n_clips']} clips, {n['n_frames']} frames; VMAF points vs libvmaf's vmaf_v0.6.1]"
        )
        for c, j in (("model", "left"), ("dist", "left"), ("clip RMSE", "right"), ("clip max", "right"),
                     ("clip PLCC", "right"), ("clip SROCC", "right"), ("frame RMSE", "right"),
                     ("frame max", "right"), ("batch dep", "right"), ("out 0-100", "right"),
                     ("clip RMSE clipped", "right")):
            t.add_column(c, justify=j, no_wrap=c == "model")
        for r in sub.iter_rows(named=True):
            t.add_row(r["model"], r["distribution"], f"{r['clip_rmse']:.3f}", f"{r['clip_max_abs']:.3f}",
                      f"{r['clip_plcc']:.5f}", f"{r['clip_srocc']:.4f}", f"{r['frame_rmse']:.3f}",
                      f"{r['frame_max_abs']:.3f}", f"{r['batch_dep']:.1e}", str(r["out_of_range"]),
                      f"{r['clip_rmse_clipped']:.3f}")
        console.print(t)

    hrc = pl.DataFrame(per_hrc).pivot(on="hrc", index="model", values="clip_max_abs", maintain_order=True)
    hrc = hrc.select("model", *sorted(c for c in hrc.columns if c != "model"))
    t = Table(title="(a) tuning corpus: worst clip |error| per HRC (VMAF points)")
    for c in hrc.columns:
        t.add_column(c, justify="left" if c == "model" else "right", no_wrap=c == "model")
    for row in hrc.iter_rows():
        t.add_row(row[0], *(f"{v:.2f}" for v in row[1:]))
    console.print(t)
    console.print(f"wrote {OUT_CSV.relative_to(ROOT)}")
    for note in notes:
        console.print(f"note: {note}")


if __name__ == "__main__":
    main()
