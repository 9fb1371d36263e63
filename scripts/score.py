#!/usr/bin/env python3
"""Score a (reference, distorted) pair with an exported student, beside its libvmaf teacher.

    python scripts/score.py --model results/teachers/vmaf_v0.6.1/export/nano.onnx --ref REF --dis DIS \\
        [--width W --height H --dis-width W --dis-height H --pix-fmt P --fps F --ffmpeg PATH] [--frames out.csv]

ONE ffmpeg + libvmaf pass with the student's teacher model (metadata ``vmafdistill.teacher`` and
``vmafdistill.libvmaf_model``) gives the teacher's per-frame features and libvmaf's per-frame score;
the student scores the same features on ONNX Runtime (CPU). A clip's student score follows
the model's pooling (metadata ``vmafdistill.pooling``): frame -> the mean of per-frame scores, clip ->
the score of the mean features. A raw ``.yuv`` reference needs ``--width``/``--height`` (and
``--pix-fmt``); a raw distorted clip has its own size (``--dis-width``/``--dis-height``, else a ``WxH``
in its name, else the reference's); containers carry their geometry, rate and pixel format. Frames are
paired by index; both inputs must have the same number of frames (checked, never truncated), and a
declared ``--fps``/``--pix-fmt`` that disagrees with a container's own is an error. Standalone: needs
only this repository's scripts/.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from vmafdistill.mathpaths import pin

pin()  # before numpy and torch load: they read their code paths then (vmafdistill.mathpaths)

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402
from rich.table import Table  # noqa: E402

from vmafdistill import engines as en  # noqa: E402
from vmafdistill import export as ex  # noqa: E402
from vmafdistill.corpus import frame_bytes  # noqa: E402
from vmafdistill.ffmpeg import ClipGeometry, FFmpegError, PassResult, probe_stream, resolve_ffmpeg, run_pass  # noqa: E402
from vmafdistill.atomic import write_csv  # noqa: E402
from vmafdistill.libvmaf_model import parse_model_spec  # noqa: E402
from vmafdistill.streams import pair_problems  # noqa: E402
from vmafdistill.teacher import ModelError, Teacher, load_teacher  # noqa: E402


class ScoreError(Exception):
    """A clear, user-facing problem with the arguments or the inputs."""


RAW_FPS = 25.0  # the nominal rate of raw inputs when nothing else says one (pairing does not depend on it)
SIZE_IN_NAME = re.compile(r"(?<![0-9])([0-9]{2,5})x([0-9]{2,5})(?![0-9])")


def is_raw(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".yuv"


def raw_frames(path: str | Path, width: int, height: int, pix_fmt: str, flag: str) -> int:
    """Whole frames in a raw file at a geometry, or a ScoreError naming the file, sizes and the flag to fix."""
    fb = frame_bytes(width, height, pix_fmt)
    size = Path(path).stat().st_size
    n, rest = divmod(size, fb)
    if size == 0 or rest:
        raise ScoreError(f"{path}: {size} bytes is not a whole number of {width}x{height} {pix_fmt} frames "
                         f"({fb} bytes each); check {flag} and --pix-fmt")
    return n


def dis_raw_size(args: argparse.Namespace, ref_size: tuple[int, int]) -> tuple[int, int, str]:
    """A raw distorted clip's own size: --dis-width/--dis-height, else a WxH token in its name, else the reference's."""
    if args.dis_width or args.dis_height:
        if not (args.dis_width and args.dis_height):
            raise ScoreError("pass both --dis-width and --dis-height")
        return args.dis_width, args.dis_height, "--dis-width/--dis-height"
    m = SIZE_IN_NAME.findall(Path(args.dis).name)
    if len(m) == 1:
        return int(m[0][0]), int(m[0][1]), f"the size {m[0][0]}x{m[0][1]} in its name (or --dis-width/--dis-height)"
    return ref_size[0], ref_size[1], "--dis-width/--dis-height (default: the reference size)"


def geometry(args: argparse.Namespace, exe: str) -> tuple[ClipGeometry, dict]:
    """What ffmpeg needs to know of the pair, and what the pair checks compare (declared rate and format)."""
    ref_raw, dis_raw = is_raw(args.ref), is_raw(args.dis)
    for path in (args.ref, args.dis):
        if not Path(path).is_file():
            raise ScoreError(f"no such file: {path}")
    probes = {p: probe_stream(exe, str(p), role) for p, raw, role in
              ((args.ref, ref_raw, "the reference"), (args.dis, dis_raw, "the distorted clip")) if not raw}
    if ref_raw:
        if not (args.width and args.height):
            raise ScoreError(f"{args.ref} is raw YUV (no header): pass --width and --height (and --pix-fmt)")
        w, h = args.width, args.height
        pix_fmt = args.pix_fmt or "yuv420p"
        raw_frames(args.ref, w, h, pix_fmt, "--width/--height")
    else:
        ref = probes[args.ref]
        w, h = args.width or ref["width"], args.height or ref["height"]
        pix_fmt = args.pix_fmt or ref["pix_fmt"]  # the container's own format, unless declared (then checked)
    dw, dh = w, h
    if dis_raw:
        dw, dh, flag = dis_raw_size(args, (w, h))
        raw_frames(args.dis, dw, dh, pix_fmt, flag)
    rates = [probes[p]["fps"] for p in (args.ref, args.dis) if p in probes and probes[p]["fps"]]
    fps = args.fps or (rates[0] if rates else RAW_FPS)
    clip = ClipGeometry(
        ref_path=str(Path(args.ref).resolve()), dis_path=str(Path(args.dis).resolve()), width=w, height=h,
        pix_fmt=pix_fmt, fps=fps, ref_is_raw=ref_raw, dis_is_raw=dis_raw, dis_width=dw, dis_height=dh,
    )
    return clip, {"fps": fps, "pix_fmt": pix_fmt}


def model_teacher(model: str | Path) -> Teacher:
    """The teacher a student was distilled from, from its metadata (a built-in, phone, or a model file)."""
    meta = ex.metadata_of(Path(model))
    _, name, transform = parse_model_spec(meta.get("vmafdistill.libvmaf_model", "version=vmaf_v0.6.1"))
    try:
        teacher = load_teacher(name or "vmaf_v0.6.1", transform)
    except ModelError as exc:
        raise ScoreError(f"{model}: its teacher's libvmaf model cannot be loaded: {exc}") from None
    want = meta.get("vmafdistill.features")
    if want and want != ",".join(teacher.features):
        raise ScoreError(f"{model}: it takes features {want}, its teacher {teacher.name} gives "
                         f"{','.join(teacher.features)}")
    return teacher


def run_libvmaf(exe: str, clip: ClipGeometry, declared: dict, teacher: Teacher) -> PassResult:
    """ONE libvmaf pass; a pair whose frame counts, rates or reference pixel format disagree is a ScoreError."""
    res = run_pass(exe, clip, teacher=teacher)
    problems = pair_problems(
        dis=res.dis, ref=res.ref, dis_name=clip.dis_path, ref_name=clip.ref_path, dis_is_raw=clip.dis_is_raw,
        ref_is_raw=clip.ref_is_raw, fps=declared["fps"], pix_fmt=declared["pix_fmt"],
        fps_hint="drop --fps (the container's rate is used) or pass the clip's own rate",
        pix_fmt_hint="drop --pix-fmt (the container's own is used) or pass the reference's own",
    )
    if problems:
        raise ScoreError("; ".join(problems))
    return res


#: Engines score.py can run a student on (``vmafdistill.engines``); ort-cpu is the gate's reference.
SCORE_ENGINES = ("ort-cpu", "onnx-reference", "openvino-f32", "openvino-default", "tract")
ENGINE_HELP = (
    "engine that runs the student (default ort-cpu, the gate's reference). openvino-default is OpenVINO as it "
    "runs out of the box: on CPUs with AVX512-BF16 or AMX it computes in bf16 and rounds scores to 8 significant "
    "bits (measured up to 0.6 VMAF off, the exact tier included); openvino-f32 compiles with "
    "INFERENCE_PRECISION_HINT=f32. A warning names the precision an engine chose when it is not float32."
)


def open_engine(name: str, model: str | Path) -> tuple[en.Engine, str | None]:
    """(the started engine, a warning line when it does not compute in float32 here)."""
    st = en.probe_engines([name], model)[name]
    if not st.available:
        raise ScoreError(f"engine {name} cannot run {model}: {st.reason}")
    eng = st.engine
    if eng.precision() == en.F32:
        return eng, None
    fix = f"; {eng.fix}" if eng.fix else ""
    return eng, (f"engine {name} computes in {eng.precision()} on this machine, not float32: scores are rounded "
                 f"(bf16: 8 significant bits, steps of 0.25-0.5 VMAF above 64){fix}")


def student_scores(model: str | Path, feats: np.ndarray, engine: en.Engine) -> tuple[np.ndarray, float, str]:
    """(per-frame student scores, the clip's student score by the model's pooling, pooling)."""
    pooling = ex.metadata_of(Path(model)).get("vmafdistill.pooling", "frame")
    per_frame = engine.run(model, feats).astype(np.float64)
    if pooling == "clip":
        clip = float(engine.run(model, feats.mean(axis=0, keepdims=True))[0])
    else:
        clip = float(per_frame.mean())
    return per_frame, clip, pooling


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", required=True, help="an exported student (.onnx)")
    ap.add_argument("--ref", required=True, help="reference clip (.yuv raw, or a container)")
    ap.add_argument("--dis", required=True, help="distorted clip (.yuv raw, or a container)")
    ap.add_argument("--width", type=int, default=0, help="reference width (required for raw .yuv)")
    ap.add_argument("--height", type=int, default=0, help="reference height (required for raw .yuv)")
    ap.add_argument("--dis-width", type=int, default=0,
                    help="raw distorted clip's width (default: a WxH in its file name, else the reference's)")
    ap.add_argument("--dis-height", type=int, default=0, help="raw distorted clip's height")
    ap.add_argument("--pix-fmt", default=None, choices=["yuv420p", "yuv420p10le"],
                    help="pixel format of raw inputs (default: a container reference's own, else yuv420p)")
    ap.add_argument("--fps", type=float, default=None,
                    help="declared frame rate (default: the containers'); frames are paired by index, not by time")
    ap.add_argument(
        "--ffmpeg", default=None, help="ffmpeg with libvmaf (default: env VMAF_FFMPEG, else imageio-ffmpeg's)"
    )
    ap.add_argument("--frames", default=None, help="write per-frame frame, features, teacher, student to this CSV")
    ap.add_argument("--engine", default="ort-cpu", choices=SCORE_ENGINES, help=ENGINE_HELP)
    args = ap.parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if not Path(args.model).is_file():
            raise ScoreError(f"no such model: {args.model}")
        exe, _ = resolve_ffmpeg(args.ffmpeg)
        clip, declared = geometry(args, exe)  # the inputs first: a bad one is named at once
        teacher = model_teacher(args.model)
        engine, engine_warning = open_engine(args.engine, args.model)
        if engine_warning:
            err.print(f"[bold yellow]warning:[/] {escape(engine_warning)}", markup=True)
        res = run_libvmaf(exe, clip, declared, teacher)
        feats, scores, version = res.features, res.vmaf, res.libvmaf_version
        student, student_clip, pooling = student_scores(args.model, feats, engine)
    except (ScoreError, FFmpegError) as exc:  # one line naming the input, no traceback
        err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        return 1
    meta = ex.metadata_of(Path(args.model))
    teacher_model = teacher
    teacher_clip = float(scores.mean())
    table = Table(title=f"{Path(args.dis).name} vs {Path(args.ref).name}: {len(scores)} frames")
    table.add_column("scorer")
    table.add_column("clip score", justify="right")
    table.add_row(f"teacher: libvmaf {version} {teacher_model.name} (mean of frames)", f"{teacher_clip:.4f}")
    arch, precision = meta.get("vmafdistill.arch", "?"), meta.get("vmafdistill.precision", "?")
    label = (f"student: {Path(args.model).name} ({arch}, {precision}, {pooling} pooling, "
             f"{args.engine} {engine.precision()})")
    table.add_row(label, f"{student_clip:.4f}")
    table.add_row("student - teacher", f"{student_clip - teacher_clip:+.4f}")
    Console(highlight=False).print(table)
    if engine_warning:  # once more at the end, where it cannot be missed
        err.print(f"[bold yellow]warning:[/] {escape(engine_warning)}", markup=True)
    if args.frames:
        import polars as pl  # only for --frames (0.6 s to import)

        out = pl.DataFrame({"frame": np.arange(len(scores)), **{f: feats[:, j] for j, f in enumerate(teacher.features)},
                            "teacher": scores, "student": student})
        write_csv(args.frames, out)
        err.print(f"per-frame scores written to {args.frames}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
