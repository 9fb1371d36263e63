"""Tuning: every hyper-parameter, recipe and sampler choice is made here, on the TUNING corpus.

The protocol (README, "Tuning protocol"): a candidate setting is pretrained (corpus-free), fine-tuned on
every demo source exactly as a shipped tier is (``final.train_final``: hash-split validation clips of the
demo, nothing else), and scored on the tuning corpus (``tuning_corpus.py``) with libvmaf's pooling; the
setting with the lowest clip RMSE (then max |error|) is the default. The demo corpus's own LOSO figures
are reported as held-out because no choice ever looked at them; the unseen corpus (``unseen_corpus.py``)
is never looked at here at all.

Each study compares the default with its alternatives, one knob at a time; every row prints the clip
RMSE and max |error| on the tuning corpus, the pretrained student's alone (before fine-tuning) beside it:

    .venv/bin/python benchmarks/tune.py --work <a working directory with the demo's feature tables> \\
        [--teacher vmaf_v0.6.1] [--study tiny_arch nano_act exact_act ...] [--quick]

The demo's feature tables come from `snakemake features` (in `--work`; run first if missing). Writes
benchmarks_out/tune_<teacher>.csv.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # training: the pinned math paths, as the workflow's jobs (before numpy and torch load)

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import tuning_corpus  # noqa: E402
from vmafdistill import export as ex  # noqa: E402
from vmafdistill.archs import resolve_hparams  # noqa: E402
from vmafdistill.ffmpeg import resolve_ffmpeg  # noqa: E402
from vmafdistill.final import train_final  # noqa: E402
from vmafdistill.students import build_student  # noqa: E402
from vmafdistill.teacher import load_teacher, teacher_hparams  # noqa: E402
from vmafdistill.train import predict, pretrain  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: study -> (what it decides, [(label, arch, hparams over the arch's defaults)]); the first row is the default
STUDIES: dict[str, tuple[str, list[tuple[str, str, dict]]]] = {
    "tiny_arch": ("the tiny tier's arch", [("mlp_64x2", "mlp_64x2", {}), ("mlp_128x3", "mlp_128x3", {})]),
    "nano_act": ("nano's activation", [("gelu", "nano", {}), ("silu", "nano", {"act": "silu"})]),
    "exact_act": ("the exact student's activation", [("srelu", "exact", {}), ("relu", "exact", {"act": "relu"})]),
    "exact_recipe": ("the exact student's training budget",
                     [("pre 24000, QAT 6000", "exact", {"pre_steps": 24000, "qat_steps": 6000}),
                      ("pre 12000, QAT 3000 (before)", "exact", {"pre_steps": 12000, "qat_steps": 3000}),
                      ("pre 12000, QAT 6000", "exact", {"pre_steps": 12000, "qat_steps": 6000})]),
    "nano_shape": ("nano's shape (ONNX budget 10 KB: 6-32-32-1 is 7.1 KB, 6-40-40-1 9.7 KB)",
                   [("6-32-32-1", "nano", {}), ("6-40-40-1", "nano", {"hidden": (40, 40)}),
                    ("6-24-24-24-1", "nano", {"hidden": (24, 24, 24)}),
                    ("6-32-32-1, 40000 steps", "nano", {"pre_steps": 40000})]),
    "nano_shape2": ("nano's shape and budget, the two best of nano_shape combined",
                    [("6-32-32-1", "nano", {}), ("6-24-24-24-1, 40000 steps", "nano", {"hidden": (24, 24, 24),
                                                                                      "pre_steps": 40000}),
                     ("6-28-28-28-1", "nano", {"hidden": (28, 28, 28)}),
                     ("6-28-28-28-1, 40000 steps", "nano", {"hidden": (28, 28, 28), "pre_steps": 40000})]),
    "nano_shape3": ("nano's shape under the budget for every teacher (6-28-28-28-1 is 10.35 KB for v1.0.16)",
                    [("6-32-32-1", "nano", {}), ("6-24-24-24-1, 40000 steps", "nano", {"hidden": (24, 24, 24),
                                                                                      "pre_steps": 40000}),
                     ("6-26-26-26-1, 40000 steps", "nano", {"hidden": (26, 26, 26), "pre_steps": 40000})]),
    "exact_budget2": ("the exact student's training budget, longer (teachers whose exact tier missed its targets)",
                      [("pre 48000, QAT 12000", "exact", {}),
                       ("pre 24000, QAT 6000 (before)", "exact", {"pre_steps": 24000, "qat_steps": 6000}),
                       ("pre 24000, QAT 12000", "exact", {"pre_steps": 24000, "qat_steps": 12000})]),
    "exact_shape": ("the exact student's shape (ONNX budget 12 KB; 6-40-40-40-1 is 12.6 KB for v1.0.16)",
                    [("6-48-48-1", "exact", {}), ("6-32-32-32-1", "exact", {"hidden": (32, 32, 32)})]),
    "sampler": ("the v0.6.1 family's sampler (the bottom of the scale)",
                [("with floor", "nano", {}),
                 ("without floor", "nano", {"mix": {"manifold": 0.4, "cone": 0.4, "box": 0.2}})]),
}
QUICK = {"pre_steps": 2000, "qat_steps": 300, "ft_steps": 200}


def clip_errors(model, table: pl.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """Per clip: student - libvmaf (means of per-frame scores) on a corpus table."""
    pred = predict(model, table.select(list(features)).to_numpy())
    t = (table.with_columns(pl.Series("pred", pred)).group_by("clip_id")
         .agg(pl.col("pred").mean(), pl.col("vmaf").mean()))
    return (t["pred"] - t["vmaf"]).to_numpy()


def run(work: Path, teacher_name: str, studies: list[str], quick: bool) -> pl.DataFrame:
    teacher = load_teacher(*(("vmaf_v0.6.1", "phone") if teacher_name.endswith("_phone") else (teacher_name,)))
    folder = work / "results" / "teachers" / teacher.name / "features"
    clips, frames = pl.read_parquet(folder / "clips.parquet"), pl.read_parquet(folder / "frames.parquet")
    exe, _ = resolve_ffmpeg()
    tuning = tuning_corpus.tuning_tables(exe, [teacher])[teacher.name].sort(["clip_id", "frame"])
    rows, done = [], {}
    for study in studies:
        what, candidates = STUDIES[study]
        for label, arch, over in candidates:
            hp = {**over, **teacher_hparams(teacher), **(QUICK if quick else {})}
            key = (arch, repr(sorted(over.items())))
            if key not in done:  # a default shared by several studies is trained once
                done[key] = candidate(arch, hp, clips, frames, tuning, teacher.features)
            rows.append({"study": study, "decides": what, "candidate": label, "default": label == candidates[0][0],
                         **done[key]})
            Console(stderr=True).print(f"{study} {label}: clip RMSE {rows[-1]['clip_rmse']:.4f}")
    return pl.DataFrame(rows)


def candidate(arch: str, hp: dict, clips: pl.DataFrame, frames: pl.DataFrame, tuning: pl.DataFrame,
              features: tuple[str, ...]) -> dict:
    """Pretrain, fine-tune on every demo source as a tier is, score both on the tuning corpus."""
    t0 = time.process_time()
    state = pretrain(arch, hp, seed=0)
    pre_model = build_student(arch, state["hparams"])
    pre_model.load_state_dict(state["state_dict"])
    pre_err = clip_errors(pre_model.eval(), tuning, features)
    kind = resolve_hparams(arch, hp)["kind"]
    tier = ex.TierSpec("tune", arch, "frame", "exact" if kind == "exact" else "fp32", 10**9)
    model, _, _ = train_final(tier, state["hparams"], clips, frames, 0, 0.2, state)
    err = clip_errors(model, tuning, features)
    return {"clip_rmse": float(np.sqrt(np.mean(err**2))), "clip_max_abs": float(np.abs(err).max()),
            "pretrained_rmse": float(np.sqrt(np.mean(pre_err**2))), "cpu_s": time.process_time() - t0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="working directory with the demo's feature tables")
    ap.add_argument("--teacher", default="vmaf_v0.6.1")
    ap.add_argument("--study", nargs="*", default=[k for k in STUDIES if k != "exact_recipe"], choices=list(STUDIES))
    ap.add_argument("--quick", action="store_true", help="short budgets (a smoke run; choices need the full ones)")
    args = ap.parse_args()
    df = run(args.work, args.teacher, args.study, args.quick)
    out = ROOT / "benchmarks_out" / f"tune_{args.teacher}.csv"
    out.parent.mkdir(exist_ok=True)
    df.write_csv(out)
    table = Table(title=f"tuning corpus, teacher {args.teacher} (students fine-tuned on the demo corpus)")
    for col in ("study", "candidate", "default", "clip RMSE", "max |error|", "pretrained RMSE", "CPU s"):
        table.add_column(col)
    for r in df.iter_rows(named=True):
        table.add_row(r["study"], r["candidate"], "yes" if r["default"] else "", f"{r['clip_rmse']:.4f}",
                      f"{r['clip_max_abs']:.4f}", f"{r['pretrained_rmse']:.4f}", f"{r['cpu_s']:.0f}")
    Console().print(table)
    print(f"written {out}")


if __name__ == "__main__":
    main()
