"""Bad input through the whole workflow: a clear message naming the input, non-zero exit, nothing
written under data_root, no partial output left behind. Inputs ffmpeg cannot use (empty, cut short,
audio only, not media) get one line naming the file and what is wrong, from the workflow and from
scripts/score.py."""

import re
import shutil
import stat
import subprocess
import sys

import pytest

from tiny import FPS, H, ROOT, W, build_tiny_corpus, snakemake
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill import export as ex
from vmafdistill.teacher import load_teacher


def _snapshot(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*"))


def _read_only(root):
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _writable(root):
    for p in [root, *root.rglob("*")]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(scope="module")
def base_corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("base"))


def _copy(base, tmp_path, name="corpus"):
    root = tmp_path / name
    shutil.copytree(base, root)
    return root


def _partial_outputs(work):
    return [p for p in (work / "results").rglob("*") if p.is_file() and ".tmp" in p.name]


def _ffmpeg(*args) -> None:
    subprocess.run([resolve_ffmpeg()[0], "-nostdin", "-loglevel", "error", "-y", *map(str, args)], check=True)


def _encode(ref, out, *args) -> None:
    """The tiny corpus's raw reference `ref` into the container `out` (ffmpeg's `args` for the codec)."""
    _ffmpeg("-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{W}x{H}", "-r", FPS, "-i", ref, *args, out)


def _cut(path, fraction: float) -> None:
    """Keep the first `fraction` of a file's bytes, as an interrupted copy or download does."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


def test_frame_count_mismatch_of_a_container_is_an_error(base_corpus, tmp_path):
    """A clip that is simply shorter (its container says 6 frames) and one cut short (its container says
    10, ffmpeg decodes 5 and stops without an error): one line each in the table job's log and stderr."""
    root = _copy(base_corpus, tmp_path)
    short = root / "dis" / "Carphone_libx264_crf26_160x96.mp4"
    _encode(root / "ref" / f"Carphone_{FPS}fps.yuv", short, "-frames:v", 6, "-c:v", "libx264")
    cut = root / "dis" / "Bikes_cut60.mkv"
    _encode(root / "ref" / f"Bikes_{FPS}fps.yuv", cut, "-c:v", "ffv1", "-threads", 1)
    _cut(cut, 0.6)
    (root / "dis" / "Bikes_libx264_crf26_160x96.mp4").unlink()
    dataset = root / "tiny_dataset.py"
    dataset.write_text(dataset.read_text().replace("Bikes_libx264_crf26_160x96.mp4", cut.name))
    work = tmp_path / "work"
    proc = snakemake(work, "--cores", "2", "features", "--config", f"data_root={root}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    log = (work / "logs/teachers/vmaf_v0.6.1/features_table.log").read_text()
    shorter = ("error: clip dis__Carphone_libx264_crf26_160x96: the distorted clip "
               "dis/Carphone_libx264_crf26_160x96.mp4 "
               f"has 6 frames but its reference ref/Carphone_{FPS}fps.yuv has 10; ")
    stopped = ("error: clip dis__Bikes_cut60: the distorted clip dis/Bikes_cut60.mkv is cut short or damaged: decoding "
               f"stopped after 5 of 10 frames (the count its container declares); its reference ref/Bikes_{FPS}fps.yuv "
               "has 10")
    for text in (log, proc.stderr):
        (a,) = [x for x in text.splitlines() if "clip dis__Carphone_libx264_crf26_160x96:" in x]
        (b,) = [x for x in text.splitlines() if "clip dis__Bikes_cut60:" in x]
        assert a.startswith(shorter) and "decoding stopped" not in a and b == stopped
    assert not (work / "results/teachers/vmaf_v0.6.1/features/clips.parquet").exists()
    assert "features_table" in out


# --- inputs ffmpeg cannot use: one line naming the file and what is wrong ---------------------------

#: (the clip's distorted file, the bad file, its role, what the line says is wrong) in the corpus of
#: `unusable_corpus`: a bad distorted clip is paired with a sound raw reference, a bad reference with a
#: sound distorted clip
UNUSABLE = [
    ("dis/Bikes_empty.mkv", "dis/Bikes_empty.mkv", "the distorted clip",
     "cannot be opened: the file is empty (0 bytes)"),
    ("dis/Bikes_cut40.mkv", "dis/Bikes_cut40.mkv", "the distorted clip",
     "is cut short or damaged: decoding stopped after 0 of 10 frames (ffmpeg: File ended prematurely"),
    ("dis/Bikes_audio.mka", "dis/Bikes_audio.mka", "the distorted clip",
     "has no video stream (its streams: audio pcm_s16le)"),
    ("dis/Bikes_notes.mp4", "dis/Bikes_notes.mp4", "the distorted clip",
     "cannot be opened: not media ffmpeg can read (invalid data: moov atom not found)"),
    ("dis/Bikes_garbage.mp4", "dis/Bikes_garbage.mp4", "the distorted clip",
     "cannot be opened: not media ffmpeg can read (invalid data: moov atom not found)"),
    ("dis/Carphone_vs_empty.mp4", "ref/Carphone_empty.mkv", "the reference",
     "cannot be opened: the file is empty (0 bytes)"),
    ("dis/Carphone_vs_cut40.mp4", "ref/Carphone_cut40.mkv", "the reference",
     "is cut short or damaged: decoding stopped after 0 of 10 frames (ffmpeg: File ended prematurely"),
    ("dis/Carphone_vs_audio.mp4", "ref/Carphone_audio.mp4", "the reference",
     "has no video stream (its streams: audio aac)"),
]
GOOD = {"Bikes": "dis/Bikes_libx264_crf26_160x96.mp4", "Carphone": "dis/Carphone_libx264_crf26_160x96.mp4"}


def _clip_id(dis_rel: str) -> str:
    return dis_rel.replace("/", "__").rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def unusable_corpus(base_corpus, tmp_path_factory):
    """A manifest corpus of the tiny corpus's raw references and two sound clips, plus every case of UNUSABLE."""
    root = tmp_path_factory.mktemp("unusable") / "corpus"
    (root / "dis").mkdir(parents=True)
    shutil.copytree(base_corpus / "ref", root / "ref")
    rows = []
    for source, good in GOOD.items():
        shutil.copy(base_corpus / good, root / good)
        rows.append((source, f"ref/{source}_{FPS}fps.yuv", good))
    for name in ("Bikes_cut40.mkv", "Carphone_cut40.mkv"):
        out = root / ("dis" if name.startswith("Bikes") else "ref") / name
        _encode(root / "ref" / f"{name.split('_')[0]}_{FPS}fps.yuv", out, "-c:v", "libx264", "-threads", 1)
        _cut(out, 0.4)
    (root / "dis/Bikes_empty.mkv").write_bytes(b"")
    (root / "ref/Carphone_empty.mkv").write_bytes(b"")
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=0.4", "-c:a", "pcm_s16le", root / "dis/Bikes_audio.mka")
    _ffmpeg("-f", "lavfi", "-i", "sine=duration=0.4", "-c:a", "aac", root / "ref/Carphone_audio.mp4")
    (root / "dis/Bikes_notes.mp4").write_text("notes on the Bikes encodes, not a video\n")
    (root / "dis/Bikes_garbage.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    _encode(root / "ref" / f"Bikes_{FPS}fps.yuv", root / "Bikes_cut60.mkv", "-c:v", "ffv1", "-threads", 1)
    _cut(root / "Bikes_cut60.mkv", 0.6)  # decodes 5 frames without an error (not in the manifest)
    for dis, bad, role, _ in UNUSABLE:
        source = dis.split("/")[1].split("_")[0]
        if role == "the reference":
            shutil.copy(base_corpus / GOOD[source], root / dis)
        rows.append((source, bad if role == "the reference" else f"ref/{source}_{FPS}fps.yuv", dis))
    lines = ["source,ref_path,dis_path,width,height,pix_fmt,fps"]
    lines += [f"{source},{ref},{dis},{W},{H},yuv420p,{FPS}" for source, ref, dis in rows]
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def unusable_run(unusable_corpus, tmp_path_factory):
    """Every clip job of `unusable_corpus` (--keep-going) from a read-only data_root: (process, work dir)."""
    before = _snapshot(unusable_corpus)
    _read_only(unusable_corpus)
    work = tmp_path_factory.mktemp("unusable_work")
    try:
        proc = snakemake(work, "--cores", "2", "--keep-going", "features", "--config", f"data_root={unusable_corpus}")
        (work / "snakemake.stderr").write_text(proc.stderr)
    finally:
        _writable(unusable_corpus)
    assert _snapshot(unusable_corpus) == before
    return proc, work


@pytest.mark.parametrize("dis,bad,role,reason", UNUSABLE, ids=[c[1] for c in UNUSABLE])
def test_unusable_input_is_one_line_naming_it(unusable_corpus, unusable_run, dis, bad, role, reason):
    """The clip job prints one line (clip, input, what is wrong) before Snakemake's error block and ends
    its log with it; nothing of the clip is left in results/."""
    proc, work = unusable_run
    clip = _clip_id(dis)
    line = f"error: clip {clip}: {role} {unusable_corpus / bad} {reason}"
    assert proc.returncode != 0
    shown_lines = [x for x in proc.stderr.splitlines() if x.startswith(f"error: clip {clip}: ")]
    log_path = work / f"logs/features/{clip}.log"
    about = "\n".join(x for x in proc.stderr.splitlines() if clip in x)[-3000:]
    assert len(shown_lines) == 1, about + "\n" + (log_path.read_text() if log_path.is_file() else "no log")
    (shown,) = shown_lines
    assert shown.startswith(line)
    # before Snakemake's own report of the failed command (the whole ffmpeg command line)
    raw = [m.start() for m in re.finditer("CalledProcessError", proc.stderr)]
    own = next(i for i in raw if f"--clip {clip} " in proc.stderr[i : proc.stderr.index("returned non-zero", i)])
    assert proc.stderr.index(shown) < own
    log = (work / f"logs/features/{clip}.log").read_text()
    assert log.splitlines()[-1] == shown and len(log.splitlines()) > 1  # after ffmpeg's own words
    assert not list((work / "results/features/clips").glob(f"{clip}.*"))


def test_unusable_inputs_leave_no_partial_output(unusable_run):
    proc, work = unusable_run
    assert proc.returncode != 0 and _partial_outputs(work) == []
    assert not list((work / "results").rglob("*.report"))
    assert not (work / "results/teachers/vmaf_v0.6.1/features/clips.parquet").exists()
    for good in GOOD.values():  # the sound clips were measured (--keep-going)
        assert (work / f"results/features/clips/{_clip_id(good)}.json").is_file()


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from students_for_tests import random_student
    path = tmp_path_factory.mktemp("model") / "nano.onnx"
    tier = ex.TierSpec("nano", "nano", "frame", "fp32", 10240)
    path.write_bytes(ex.build_onnx(random_student("nano"), "fp32", ex.metadata(tier, "0" * 64, "test", load_teacher()),
                                   20))
    return path


@pytest.mark.parametrize("dis,bad,role,reason", UNUSABLE, ids=[c[1] for c in UNUSABLE])
def test_score_names_an_unusable_input_in_one_line(unusable_corpus, model, dis, bad, role, reason):
    source = dis.split("/")[1].split("_")[0]
    if role == "the reference":
        pair = ["--ref", unusable_corpus / bad, "--dis", unusable_corpus / GOOD[source]]
    else:
        pair = ["--ref", unusable_corpus / f"ref/{source}_{FPS}fps.yuv", "--dis", unusable_corpus / bad,
                "--width", W, "--height", H]
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/score.py"), "--model", str(model), *map(str, pair)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (shown,) = [x for x in proc.stderr.splitlines() if x.startswith("error: ")]
    assert shown.startswith(f"error: {role} {unusable_corpus / bad} {reason}")


def test_score_names_a_clip_cut_short(unusable_corpus, model):
    """ffmpeg decodes 5 of the 10 frames the container declares, without an error: the pair check says so."""
    ref, dis = unusable_corpus / f"ref/Bikes_{FPS}fps.yuv", unusable_corpus / "Bikes_cut60.mkv"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/score.py"), "--model", str(model), "--ref", str(ref),
                           "--dis", str(dis), "--width", str(W), "--height", str(H)], capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (shown,) = [x for x in proc.stderr.splitlines() if x.startswith("error: ")]
    assert shown == (f"error: the distorted clip {dis} is cut short or damaged: decoding stopped after 5 of 10 frames "
                     f"(the count its container declares); its reference {ref} has 10")


def test_missing_ffmpeg_is_named(base_corpus, tmp_path):
    proc = snakemake(tmp_path, "-n", "features", "--config", f"data_root={base_corpus}", "ffmpeg=/opt/none/ffmpeg")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "/opt/none/ffmpeg" in out and "VMAF_FFMPEG" in out


def test_ffmpeg_without_libvmaf_fails_the_run_naming_it(base_corpus, tmp_path):
    """An ffmpeg built without libvmaf: the check job (run first) fails naming the binary and how to
    point at another; no feature table is written."""
    fake = tmp_path / "bin" / "ffmpeg-nolibvmaf"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        "  *-filters*) echo ' ... scale             V->V       Scale the input video size.' ;;\n"
        "  *-version*) echo 'ffmpeg version 0.0-fake' ;;\n"
        "  *) echo \"No such filter: 'libvmaf'\" >&2; exit 8 ;;\n"
        "esac\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    work = tmp_path / "work"
    proc = snakemake(work, "--cores", "1", "features", "--config", f"data_root={base_corpus}", f"ffmpeg={fake}")
    out = proc.stdout + proc.stderr + (work / "logs/features/ffmpeg_check.log").read_text()
    assert proc.returncode != 0
    assert str(fake) in out and "no libvmaf filter" in out and "VMAF_FFMPEG" in out
    assert not (work / "results/teachers/vmaf_v0.6.1/features/clips.parquet").exists()
    assert not (work / "results/features/ffmpeg.json").exists()


def test_single_source_corpus_is_refused(base_corpus, tmp_path):
    root = _copy(base_corpus, tmp_path)
    text = (root / "tiny_dataset.py").read_text()
    keep = [line for line in text.splitlines() if "'content_id': 1" not in line and "'content_id': 2" not in line]
    (root / "tiny_dataset.py").write_text("\n".join(keep) + "\n")
    proc = snakemake(tmp_path / "w", "-n", "features", "--config", f"data_root={root}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "at least 2 sources" in out


def test_names_with_spaces_quotes_colons_commas_and_accents(base_corpus, tmp_path):
    """Clip files named like real-world exports go through ingestion, ffmpeg and the tables."""
    root = _copy(base_corpus, tmp_path, "corpus, 'été': v1")
    nasty = "Bikes x264 \"q\", 'crf': 38 — été.mp4"
    (root / "dis" / "Bikes_libx264_crf38_160x96.mp4").rename(root / "dis" / nasty)
    text = (root / "tiny_dataset.py").read_text().replace("Bikes_libx264_crf38_160x96.mp4", nasty.replace("'", "\\'"))
    (root / "tiny_dataset.py").write_text(text)
    work = tmp_path / "work dir, 'x': é"
    # such a data_root goes through the environment (`--config` values are parsed as YAML)
    proc = snakemake(work, "--cores", "2", "features", env={"VMAF_DATA_ROOT": str(root)})
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    import polars as pl

    clips = pl.read_parquet(work / "results/teachers/vmaf_v0.6.1/features/clips.parquet")
    row = clips.filter(pl.col("dis_rel") == f"dis/{nasty}")
    assert row.height == 1 and row["vmaf"][0] > 0
    assert row["clip_id"][0].isascii() and " " not in row["clip_id"][0]
