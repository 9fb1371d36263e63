"""Cross-backend check on a machine with a GPU: the exported tiers on every ORT execution provider
there, and the same students in torch on CUDA, against ORT's CPU provider, in float32 ULP.

Needs only numpy, onnxruntime, torch and pyarrow (no polars): it runs on a lent GPU machine over a
copy of the working tree carrying the vmaf_v0.6.1 teacher's results/teachers/vmaf_v0.6.1/export/ and
results/teachers/vmaf_v0.6.1/features/frames.parquet.

    python3 benchmarks/device_check.py [--out report.json]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from vmafdistill import FEATURES
from vmafdistill.ulp import max_ulp
from vmafdistill.modelio import load_student

ROOT = Path(__file__).resolve().parent.parent
TEACHER_DIR = ROOT / "results" / "teachers" / "vmaf_v0.6.1"  # the golden fixture's canonical-6 features


def ort_run(path: Path, x: np.ndarray, provider: str, optimize: bool = True) -> tuple[np.ndarray, list[str]]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    opts.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    sess = ort.InferenceSession(str(path), sess_options=opts, providers=[provider])
    out = sess.run(None, {"features": np.ascontiguousarray(x, dtype=np.float32)})[0]
    return np.asarray(out, dtype=np.float32).reshape(-1), sess.get_providers()


def read_features(path: Path) -> np.ndarray:
    """Canonical-6 columns of a frames table, with polars or (on the GPU machine) pyarrow."""
    try:
        import polars as pl

        return pl.read_parquet(path).select(FEATURES).to_numpy().astype(np.float64)
    except ImportError:
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pydict()
        return np.stack([np.asarray(table[f], dtype=np.float64) for f in FEATURES], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    import onnxruntime as ort
    import torch

    corpus = read_features(TEACHER_DIR / "features" / "frames.parquet")
    golden = json.loads((ROOT / "tests/fixtures/golden/golden.json").read_text())
    data = {"fixture": np.asarray(golden["frame_features"]), "corpus": corpus}
    report: dict = {
        "host": platform.node(),
        "onnxruntime": ort.__version__,
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "ort_providers_available": ort.get_available_providers(),
        "tiers": {},
    }
    for onnx_path in sorted((TEACHER_DIR / "export").glob("*.onnx")):
        tier = onnx_path.stem
        res: dict = {}
        base = {k: ort_run(onnx_path, x, "CPUExecutionProvider")[0] for k, x in data.items()}
        res["ORT CPU all optimisations vs none"] = {
            k: max_ulp(ort_run(onnx_path, x, "CPUExecutionProvider", optimize=False)[0], base[k])
            for k, x in data.items()
        }
        for provider in ort.get_available_providers():
            if provider in ("CPUExecutionProvider", "AzureExecutionProvider"):
                continue
            try:
                outs = {k: ort_run(onnx_path, x, provider) for k, x in data.items()}
            except Exception as exc:  # noqa: BLE001 - report, don't hide
                res[f"ORT {provider}"] = f"session failed: {str(exc).splitlines()[0][:160]}"
                continue
            used = {tuple(p) for _, p in outs.values()}
            res[f"ORT {provider} vs CPU"] = ({k: max_ulp(o, base[k]) for k, (o, _) in outs.items()}
                                             | {"ran_on": sorted(used)})
        model, _ = load_student(onnx_path.with_suffix(".pt"))
        for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
            m = model.to(device)
            with torch.no_grad():
                outs = {k: m(torch.as_tensor(x, dtype=torch.float32, device=device)).float().cpu().numpy()
                        for k, x in data.items()}
                alone = np.array([m(torch.as_tensor(data["fixture"][i : i + 1], dtype=torch.float32,
                                                    device=device)).item()
                                  for i in range(len(data["fixture"]))], dtype=np.float32)
            res[f"torch {device} vs ORT CPU"] = {k: max_ulp(o, base[k]) for k, o in outs.items()} | {
                "max_abs": max(float(np.max(np.abs(o.astype(np.float64) - base[k]))) for k, o in outs.items()),
                "batch_of_1_vs_batch_fixture_ulp": max_ulp(alone, outs["fixture"]),
            }
        report["tiers"][tier] = res
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
