"""The healthcheck (no corpus, seconds): ffmpeg has libvmaf, the golden fixture reproduces through
libvmaf and the teacher, and every exported model loads in ORT and matches its card."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .. import export as ex
from .. import onnxrun
from ..ffmpeg import FFmpegError, check_libvmaf
from ..golden import entry, load_fixture, record_fixture
from .checks import Check, check_golden_libvmaf, check_golden_teacher, places_equal, read, read_json


def check_ffmpeg(exe: str, origin: str = "") -> Check:
    try:
        info = check_libvmaf(exe, origin)
    except FFmpegError as exc:
        return Check("ffmpeg_libvmaf", "", False, str(exc))
    return Check("ffmpeg_libvmaf", "", True, f"{exe} ({origin}) has libvmaf; {info['ffmpeg_version']}", values=info)


def check_export_file(model: Path, fixture: dict | None) -> Check:
    """An exported .onnx loads in ORT and matches its card: sha256, bytes, and the card's golden score at
    4 places (the card and the file belong together)."""
    model = Path(model)
    card_path = model.with_suffix(".json")
    card, err = read_json(card_path)
    if card is None:
        return Check("export", model.stem, False, err or f"no card {card_path}")
    data = model.read_bytes()
    problems = []
    if card.get("sha256") != ex.sha256_bytes(data):
        got, want = ex.sha256_bytes(data)[:12], str(card.get("sha256"))[:12]
        problems.append(f"sha256 {got}… differs from the card's {want}…")
    if card.get("bytes") != len(data):
        problems.append(f"{len(data):,} bytes, the card says {card.get('bytes')}")
    pooling = str(card.get("pooling", "frame"))
    try:
        ex.check_contract(data)
        score = onnxrun.clip_score(data, fixture["frame_features"], pooling) if fixture is not None else None
    except Exception as exc:  # noqa: BLE001
        return Check("export", model.stem, False, f"{model} does not load/run in ORT or breaks the contract: {exc}")
    want = (card.get("golden") or {}).get("score")
    if score is None:
        problems.append("no golden fixture to score")
    elif want is None or not places_equal(score, float(want)):
        problems.append(f"golden score {score:.6f} vs card {want}")
    if problems:
        return Check("export", model.stem, False, f"{model}: " + "; ".join(problems))
    return Check("export", model.stem, True, f"{model} ({card.get('id')}): sha256, bytes and golden score "
                 f"{score:.4f} match the card", values={"golden": score})


def health_checks(exe: str, origin: str, export_dirs: dict[str, str | Path], golden: str | Path,
                  teachers: dict) -> list[Check]:
    """ffmpeg, then per teacher (``teachers``: name -> teacher.Teacher; ``export_dirs``: name -> its exports)
    the golden fixture through libvmaf (every teacher in one pass) and through the teacher, and each export;
    each check's subject names its teacher."""
    checks = [check_ffmpeg(exe, origin)]
    run, run_err = None, "not run: no usable ffmpeg with libvmaf"
    if checks[0].passed:
        try:
            run, run_err = record_fixture(exe, list(teachers.values())), None
        except FFmpegError as exc:
            run_err = f"libvmaf on the golden fixture failed: {exc}"
    for name, teacher in teachers.items():
        record, err = read(Path(golden), lambda p: load_fixture(p, name))  # noqa: B023 - read calls it at once
        mine = None if run is None else entry(run, name, "this run's pass over the golden fixture")
        own = [check_golden_libvmaf(mine, record, run_err, err), check_golden_teacher(mine, run_err, teacher)]
        models = sorted(Path(export_dirs[name]).glob("*.onnx"))
        if not models:
            own.append(Check("export", "", True, f"no exported models yet in {export_dirs[name]}", informative=True,
                             note="info"))
        own += [check_export_file(m, mine or record) for m in models]
        checks += [replace(c, subject=f"{name}/{c.subject}" if c.subject else name) for c in own]
    return checks

