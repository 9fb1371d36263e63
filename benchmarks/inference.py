"""Inference speed: exported student tiers vs the vmaf_v0.6.1 SVM teacher (numpy and ONNX) vs peers.

Rows/s of each model on REAL libvmaf feature rows (results/teachers/vmaf_v0.6.1/features/frames.parquet
when present, else the golden fixture's per-frame features tiled), at batch 1 and batch 4096:

  svm-numpy    the teacher as the project computes it (teacher.load_teacher().predict, float64)
  svm-onnx     the same SVM as a float32 ONNX graph built here (normalise -> RBF kernel against the
               211 support vectors -> alpha-weighted sum - rho -> de-normalise -> clip [0, 100],
               arranged to hold float32 precision: see svm_module),
               exported with torch.onnx.export(dynamo=False, opset 17, dynamic batch) to a temp dir,
               first checked against the numpy teacher on the real rows (max |diff| printed)
  tier:<name>  results/teachers/vmaf_v0.6.1/export/<name>.onnx (or --export-dir), every one that
               exists (a note if none)
  peer:<name>  ../shared/peers/*.onnx relative to the repo root (omitted if that folder is absent)

Every ONNX model runs in ORT CPU through onnxrun.session (1 intra-op thread); BLAS is held to one
thread too (OMP/OPENBLAS/MKL_NUM_THREADS=1 unless set), so the numpy teacher is single-core as well.
Each measurement repeats calls until --seconds have passed; models are interleaved in rounds
(order rotated each round) and every speed-up is the ratio to svm-onnx within the same round, the
median of those is printed (the machine may be shared: compare ratios, not absolute rows/s).
Asserts nothing but the SVM export check.

    .venv/bin/python benchmarks/inference.py [--seconds 0.5] [--rounds 3]
        [--export-dir results/teachers/vmaf_v0.6.1/export]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from vmafdistill import FEATURES, onnxrun  # noqa: E402
from vmafdistill.teacher import Teacher, load_teacher  # noqa: E402
from vmafdistill.golden import load_fixture  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEACHER_DIR = ROOT / "results" / "teachers" / "vmaf_v0.6.1"  # the teacher these benchmarks are of
EXPORT_DIR = TEACHER_DIR / "export"
PEERS_DIR = ROOT.parent / "shared" / "peers"
FRAMES = TEACHER_DIR / "features" / "frames.parquet"
BATCHES = (1, 4096)
SVM_TOLERANCE = 1e-3  # float32 SVM graph vs the float64 teacher, VMAF points


# ------------------------------------------------------------------------------------------------
# inputs and models


def real_rows(min_rows: int = 4096) -> tuple[np.ndarray, str]:
    """Real canonical-6 feature rows (float64), shuffled with a fixed seed, and where they came from."""
    if FRAMES.is_file():
        import polars as pl

        x = pl.read_parquet(FRAMES).select(FEATURES).to_numpy().astype(np.float64)
        origin = f"{FRAMES.relative_to(ROOT)} ({len(x)} frames)"
    else:
        x = load_fixture()["frame_features"]
        origin = f"golden fixture frame_features ({len(x)} frames, tiled)"
    if len(x) < min_rows:
        x = np.tile(x, (-(-min_rows // len(x)), 1))
    return x[np.random.default_rng(0).permutation(len(x))], origin


def svm_module(t: Teacher):
    """The vmaf_v0.6.1 SVM as a float32 torch module on canonical-order raw features [N,6] -> [N].

    normalise -> RBF kernel k_i = exp(-gamma |x - sv_i|^2) -> sum_i alpha_i k_i - rho -> de-normalise
    -> clip. Written so that float32 holds ~1e-3 VMAF: gamma is 0.04, so every k_i lies in ~[0.78, 1]
    and sum_i alpha_i k_i is ~400 - ~400 (|alpha| sums to 828), a cancellation that costs 2.3e-3
    VMAF in float32 when summed as is. The graph sums alpha_i (k_i - 1) instead (terms 5x smaller)
    and adds sum_i alpha_i, computed in float64, to the constant with rho; the de-normalisation
    (s - intercept) / slope is folded into those weights and that constant. Same function.
    """
    import torch

    class SVM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # normalise: x[:, model order] * slopes + intercepts, as one [6,6] matmul + bias
            m = t.model
            order = np.argsort(m.canonical_to_model())  # model feature j sits at canonical column order[j]
            w = np.zeros((6, 6))
            w[order, np.arange(6)] = m.slopes[1:]
            f32 = dict(dtype=torch.float32)
            self.register_buffer("w", torch.tensor(w, **f32))
            self.register_buffer("b", torch.tensor(m.intercepts[1:], **f32))
            self.register_buffer("sv_t", torch.tensor(m.support_vectors.T, **f32))  # [6, 211]
            self.register_buffer("sv_sq", torch.tensor((m.support_vectors**2).sum(1), **f32))  # [211]
            # de-normalised weights and constant: vmaf = sum_i a_i (k_i - 1) + c
            self.register_buffer("a", torch.tensor(m.coef / m.slopes[0], **f32))  # [211]
            self.c = float((m.coef.sum() - m.rho - m.intercepts[0]) / m.slopes[0])
            self.gamma = float(m.gamma)
            self.lo, self.hi = (float(v) for v in t.score_range)

        def forward(self, features):
            x = features @ self.w + self.b  # normalised, model order [N, 6]
            d2 = (x * x).sum(1, keepdim=True) - 2.0 * (x @ self.sv_t) + self.sv_sq  # |x - sv_i|^2 [N, 211]
            k_minus_1 = torch.exp(-self.gamma * torch.clamp(d2, min=0.0)) - 1.0  # RBF kernel - 1
            return torch.clamp(k_minus_1 @ self.a + self.c, self.lo, self.hi)

    return SVM().eval()


def export_svm_onnx(t: Teacher, path: Path) -> Path:
    import warnings

    import torch

    torch.set_num_threads(1)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice (dynamo=False is deliberate)
        torch.onnx.export(
            svm_module(t),
            (torch.zeros(2, 6, dtype=torch.float32),),
            str(path),
            input_names=["features"],
            output_names=["vmaf"],
            dynamic_axes={"features": {0: "N"}, "vmaf": {0: "N"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def onnx_models(export_dir: Path = EXPORT_DIR) -> tuple[list[tuple[str, Path]], list[str]]:
    """(label, path) of every exported tier and peer, and notes on what is missing."""
    notes, models = [], []
    tiers = sorted(export_dir.glob("*.onnx")) if export_dir.is_dir() else []
    if not tiers:
        notes.append(f"no exported tier in {export_dir}/ (run `snakemake export`): tier rows omitted")
    models += [(f"tier:{p.stem}", p) for p in tiers]
    peers = sorted(PEERS_DIR.glob("*.onnx")) if PEERS_DIR.is_dir() else []
    if not peers:
        notes.append(f"no peer folder {PEERS_DIR}: peer rows omitted")
    models += [(f"peer:{p.stem}", p) for p in peers]
    return models, notes


# ------------------------------------------------------------------------------------------------
# timing


def rows_per_second(fn, inputs: list[np.ndarray], seconds: float) -> float:
    """Call fn on inputs (cycled) until `seconds` have passed; rows scored per second."""
    fn(inputs[0])  # warm-up (first-call allocations)
    rows, calls, n = 0, 0, len(inputs)
    t0 = time.perf_counter()
    while True:
        x = inputs[calls % n]
        fn(x)
        rows += len(x)
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return rows / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=0.5, help="time budget of one measurement")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    ap.add_argument("--export-dir", type=Path, default=EXPORT_DIR, help="where the exported tiers are")
    args = ap.parse_args()

    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    t = load_teacher()
    x64, origin = real_rows()

    with tempfile.TemporaryDirectory(prefix="vmafdistill-svm-onnx-") as tmp:
        svm_path = export_svm_onnx(t, Path(tmp) / "svm_vmaf_v0.6.1.onnx")
        svm_sess = onnxrun.session(svm_path)
        # the float32 graph against the float64 teacher, on every real row, before timing anything
        diff = np.abs(onnxrun.run(svm_sess, x64).astype(np.float64) - t.predict(x64))
        if diff.max() > SVM_TOLERANCE:
            raise SystemExit(f"SVM ONNX export disagrees with the numpy teacher: max |diff| {diff.max():.2e}")
        models: list[tuple[str, object, int | None]] = [
            ("svm-numpy", t.predict, None),
            ("svm-onnx", lambda x, s=svm_sess: onnxrun.run(s, x), svm_path.stat().st_size),
        ]
        onnx_list, notes = onnx_models(args.export_dir)
        for label, path in onnx_list:
            sess = onnxrun.session(path)
            out = onnxrun.run(sess, x64[:7].astype(np.float32))
            if out.shape != (7,) or not np.isfinite(out).all():
                notes.append(f"{label}: output of shape {out.shape} / non-finite on 7 rows: skipped")
                continue
            models.append((label, lambda x, s=sess: onnxrun.run(s, x), path.stat().st_size))

        # inputs prepared once per batch size: float32 for ONNX, float64 for the numpy teacher
        x32 = x64.astype(np.float32)
        inputs = {
            b: {
                32: [np.ascontiguousarray(x32[i : i + b]) for i in range(0, len(x32) - b + 1, b)][:1024],
                64: [np.ascontiguousarray(x64[i : i + b]) for i in range(0, len(x64) - b + 1, b)][:1024],
            }
            for b in BATCHES
        }
        speed = {(m[0], b): [] for m in models for b in BATCHES}
        ratio = {(m[0], b): [] for m in models for b in BATCHES}
        t0 = time.perf_counter()
        for r in range(args.rounds):
            for b in BATCHES:
                order = models[r % len(models) :] + models[: r % len(models)]  # rotate the order
                this = {}
                for label, fn, _ in order:
                    this[label] = rows_per_second(fn, inputs[b][64 if label == "svm-numpy" else 32], args.seconds)
                for label in this:
                    speed[(label, b)].append(this[label])
                    ratio[(label, b)].append(this[label] / this["svm-onnx"])
        wall = time.perf_counter() - t0

    table = Table(
        title=f"Inference rows/s, ORT CPU 1 thread, median of {args.rounds} interleaved rounds x {args.seconds:g} s"
    )
    table.add_column("model")
    table.add_column("bytes", justify="right")
    for b in BATCHES:
        table.add_column(f"rows/s b={b}", justify="right")
        table.add_column(f"spread b={b}", justify="right")
        table.add_column(f"x svm-onnx b={b}", justify="right")
    for label, _, size in models:
        cells = [label, f"{size:,}" if size is not None else "-"]
        for b in BATCHES:
            v = speed[(label, b)]
            med = statistics.median(v)
            cells += [
                f"{med:,.0f}",
                f"{100 * (max(v) - min(v)) / med:.0f}%",
                f"{statistics.median(ratio[(label, b)]):.2f}",
            ]
        table.add_row(*cells)
    console.print(f"inputs: real feature rows from {origin}; SVM ONNX (float32, opset 17) vs numpy teacher "
                  f"(float64): max |diff| {diff.max():.2e} VMAF over {len(x64)} rows (tolerance {SVM_TOLERANCE:g})")
    console.print(table)
    console.print("spread = (max - min) / median rows/s across rounds; 'x svm-onnx' = median of per-round ratios. "
                  f"Timing loop {wall:.1f} s. svm-numpy bytes: '-' (the teacher's parameters are libvmaf's "
                  "vmaf_v0.6.1.json, vendored in scripts/vmafdistill/libvmaf_models/).")
    for note in notes:
        console.print(f"note: {note}")


if __name__ == "__main__":
    main()
