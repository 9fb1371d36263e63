"""The healthcheck (no corpus, seconds): ffmpeg has libvmaf, the golden fixture reproduces through
libvmaf and the teacher, and every exported model loads in ORT and matches its card."""

from __future__ import annotations

from pathlib import Path

from .. import export as ex
from .checks import Check, check_golden_libvmaf, check_golden_teacher, places_equal, read, read_json


def check_ffmpeg(exe: str, origin: str = "") -> Check:
    from ..ffmpeg import FFmpegError, check_libvmaf

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
        score = ex.golden_score(data, fixture["frame_features"], pooling) if fixture is not None else None
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
                 f"{score:.4f} match the card", values={"golden": score})  # fmt: skip


def health_checks(exe: str, origin: str, export_dir: str | Path, golden: str | Path, teacher=None) -> list[Check]:  # noqa: ANN001
    from ..golden import load_fixture, measure_fixture
    from ..teacher import load_teacher

    teacher = teacher or load_teacher()
    record, err = read(Path(golden), lambda p: load_fixture(p, teacher.name))
    checks = [check_ffmpeg(exe, origin)]
    run, run_err = None, "not run: no usable ffmpeg with libvmaf"
    if checks[0].passed:
        try:
            run, run_err = measure_fixture(exe, teacher), None
        except Exception as exc:  # noqa: BLE001 - ffmpeg/libvmaf failure
            run_err = f"libvmaf on the golden fixture failed: {exc}"
    checks.append(check_golden_libvmaf(run, record, run_err, err))
    checks.append(check_golden_teacher(run, run_err, teacher))
    models = sorted(Path(export_dir).glob("*.onnx"))
    if not models:
        checks.append(Check("export", "", True, f"no exported models yet in {export_dir}", informative=True, note="info"))
    checks += [check_export_file(m, run or record) for m in models]
    return checks
