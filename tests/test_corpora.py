"""The tuning and unseen corpora (benchmarks/corpora.py, tuning_corpus.py, unseen_corpus.py), built and
measured for real at a small size.

Each corpus: 2 sources x 3 HRCs at 318x318 (the smallest frames every built-in teacher scores: one
side >= 216 for cambi, both >= 318 for 3d0h_2160's speed_chroma), 10 frames, its own frame rate.
ONE ffmpeg+libvmaf pass per clip computes every built-in teacher and phone; each teacher's float64
model must reproduce libvmaf's score on every frame. The corpora must not share a source or an HRC
kind with each other or with the demo corpus.
"""

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml

import corpora
import student_eval
import tuning_corpus
import unseen_corpus
from inference import export_svm_onnx
from vmafdistill import demo
from vmafdistill.ffmpeg import resolve_ffmpeg
from vmafdistill.teacher import builtin_names, load_teacher

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT.parent / "shared" / "peers"
SIDE = 318
TEACHERS = [load_teacher(n) for n in builtin_names()] + [load_teacher("vmaf_v0.6.1", "phone")]
SMALL = {
    "tuning": tuning_corpus.TUNING.subset(("Camera", "IHC"), ("gblur-s6", "noise-a30", "mjpeg-q31"),
                                          demo.DemoSettings(SIDE, SIDE, 25, 10 / 25)),
    "unseen": unseen_corpus.UNSEEN.subset(("Mandelbrot", "Coins"), ("xvid-q31-q", "vvc-qp51", "crush-3bit"),
                                          demo.DemoSettings(SIDE, SIDE, 24, 10 / 24)),
}


@pytest.fixture(scope="module")
def exe():
    return resolve_ffmpeg()[0]


@pytest.fixture(scope="module")
def built(exe, tmp_path_factory):
    """name -> (folder, clips, teacher name -> per-frame table) of each small corpus."""
    out = {}
    for name, c in SMALL.items():
        folder = tmp_path_factory.mktemp(name)
        clips = corpora.build(c, folder, exe)
        out[name] = (folder, clips, corpora.measure(clips, exe, TEACHERS))
    return out


def test_every_teacher_scores_every_corpus_geometry():
    assert len(TEACHERS) == 10
    for c in (tuning_corpus.TUNING, unseen_corpus.UNSEEN, *SMALL.values()):
        assert corpora.size_problems(TEACHERS, c.settings) == [], c.name
    # the small geometry is the smallest: two pixels less on either side and some teacher refuses it
    for w, h in ((SIDE - 2, SIDE), (SIDE, SIDE - 2)):
        assert corpora.size_problems(TEACHERS, demo.DemoSettings(w, h, 25, 1.0))
    # the demo's other frame rate: no corpus measures the same temporal sampling as another
    assert unseen_corpus.UNSEEN.settings.fps != tuning_corpus.TUNING.settings.fps


def test_corpora_share_no_source_and_no_hrc_kind():
    demo_cfg = yaml.safe_load((ROOT / "config.yaml").read_text())["demo"]
    tuning, unseen = tuning_corpus.TUNING, unseen_corpus.UNSEEN
    kinds = {"demo": corpora.demo_kinds(demo_cfg), "tuning": corpora.corpus_kinds(tuning),
             "unseen": corpora.corpus_kinds(unseen)}
    allowed = {("demo", "tuning"): tuning_corpus.SHARED_WITH_DEMO}  # x264 CRF 51 at quarter size, nothing else
    corpora.check_disjoint(kinds, allowed)
    assert kinds["demo"][1] & kinds["tuning"][1] == tuning_corpus.SHARED_WITH_DEMO == {"codec:libx264"}
    assert {"filter:gblur", "filter:noise", "codec:mjpeg"} <= kinds["tuning"][1]
    assert len(kinds["unseen"][0]) == len(unseen.sources) >= 7 and len(kinds["unseen"][1]) >= 8

    def clash(**changed) -> str:
        with pytest.raises(corpora.CorpusBuildError) as err:
            corpora.check_disjoint({**kinds, **{k: corpora.corpus_kinds(v) for k, v in changed.items()}}, allowed)
        return str(err.value)

    # reusing a tuning HRC, a demo codec, a tuning photo or a demo photo anywhere fails
    assert "filter:gblur in both tuning and unseen" in clash(unseen=replace(unseen, hrcs=unseen.hrcs + tuning.hrcs[:1]))
    x265 = {"name": "hevc", "vf": "", "enc": ["-c:v", "libx265", "-crf", "40"], "ext": "mp4"}
    assert "codec:libx265 in both demo and unseen" in clash(unseen=replace(unseen, hrcs=(x265,)))
    assert "codec:libx265 in both demo and tuning" in clash(tuning=replace(tuning, hrcs=(x265,)))
    assert "skimage/data/camera.png in both tuning and unseen" in clash(
        unseen=replace(unseen, sources=unseen.sources + tuning.sources[:1]))
    astronaut = next(s for s in demo_cfg["sources"] if s["name"] == "Astronaut")
    assert "skimage/data/astronaut.png in both demo and tuning" in clash(
        tuning=replace(tuning, sources=tuning.sources + ({**astronaut, "name": "Other"},)))
    # a kind hides neither behind a quoted comma nor behind lossless storage
    assert corpora.hrc_kinds(next(h for h in unseen.hrcs if h["name"] == "crush-3bit")) == {"filter:lutyuv"}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_corpus_is_real_and_reaches_low_scores(built, name):
    folder, clips, tables = built[name]
    c = SMALL[name]
    # real clips, ingested by the project's own dataset-file reader
    assert len(clips) == 6 and {cl.source for cl in clips} == {s["name"] for s in c.sources}
    assert all(cl.ref_is_raw and not cl.dis_is_raw and (cl.width, cl.height) == (SIDE, SIDE) for cl in clips)
    assert all(cl.n_frames == 10 and cl.fps == c.settings.fps for cl in clips)
    assert (folder / corpora.DATASET_FILE).read_text().count("'asset_id'") == 6

    assert set(tables) == {t.name for t in TEACHERS}
    for t in TEACHERS:
        table = tables[t.name]
        assert table.columns == ["clip_id", "source", "hrc", "frame", *t.features, "vmaf"]
        assert table.height == 60 and sorted(table["hrc"].unique()) == sorted(h["name"] for h in c.hrcs)
        x = table.select(t.features).to_numpy()
        assert np.isfinite(x).all(), t.name
        # every feature varies, but speed_chroma: libvmaf gives 0 on every frame this small (and up to
        # 768x432 for 5d0h, 960x540 for 3d0h_2160), where the teacher's chroma correction stands in
        live = [j for j, f in enumerate(t.features) if not f.startswith("speed_chroma")]
        assert (x[:, live].std(axis=0) > 0).all(), t.name
        # the float64 teacher on this pass's features reproduces libvmaf's own per-frame score
        assert corpora.teacher_diff(t, table) < corpora.TEACHER_TOLERANCE, t.name
    # the v1.0.16 models' adm3 differ by options (2160p display, viewing distance): the same stable
    # name, other libvmaf values
    a, b = tables["vmaf_v1.0.16_3d0h"], tables["vmaf_v1.0.16_3d0h_2160"]
    assert not np.allclose(a["adm3"].to_numpy(), b["adm3"].to_numpy())
    for teacher in ("vmaf_v0.6.1", "vmaf_v1.0.16_3d0h"):
        clip_scores = corpora.clip_table(tables[teacher])["vmaf"].to_numpy()
        assert clip_scores.min() < 30 and clip_scores.max() - clip_scores.min() > 40, (teacher, clip_scores)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_rebuild_gives_the_same_bytes(built, exe, tmp_path, name):
    folder = built[name][0]
    corpora.build(SMALL[name], tmp_path, exe)
    files = sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    assert len(files) == 2 + 6 + 1
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    assert [digest(tmp_path / rel) for rel in files] == [digest(folder / rel) for rel in files]


def test_students_are_paired_with_their_teacher_and_scored_per_clip(built, tmp_path):
    """The teacher SVM as a float32 ONNX file with export metadata is found, paired and scored: it
    follows libvmaf to float32 precision (a wrong feature order, teacher or pooling would not)."""
    v061 = load_teacher("vmaf_v0.6.1")
    (tmp_path / "exports" / "sub").mkdir(parents=True)
    path = export_svm_onnx(v061, tmp_path / "exports" / "svm.onnx")
    model = onnx.load(path)
    onnx.helper.set_model_props(model, {"vmafdistill.teacher": v061.name, "vmafdistill.tier": "svm",
                                        "vmafdistill.pooling": "frame", "vmafdistill.features": ",".join(v061.features),
                                        "vmafdistill.libvmaf_model": "version=vmaf_v0.6.1"})
    onnx.save(model, path)
    onnx.save(onnx.load(path), tmp_path / "exports" / "sub" / "bare.onnx")  # same graph...
    bare = onnx.load(tmp_path / "exports" / "sub" / "bare.onnx")
    del bare.metadata_props[:]
    onnx.save(bare, tmp_path / "exports" / "sub" / "bare.onnx")  # ...without metadata: skipped

    students, notes = student_eval.exported_students(tmp_path / "exports")
    assert [s.label for s in students] == ["svm"] and students[0].teacher.name == "vmaf_v0.6.1"
    assert len(notes) == 1 and "bare.onnx" in notes[0]
    table = built["unseen"][2][v061.name]
    row = student_eval.evaluate(students[0], table)
    assert row["clips"] == 6 and row["teacher"] == "vmaf_v0.6.1"
    assert row["clip_rmse"] < 1e-3 and row["frame_max_abs"] < 2e-3, row
    # clip pooling scores the mean features instead: not libvmaf's pooling, visibly off somewhere
    clip = student_eval.evaluate(replace(students[0], pooling="clip"), table)
    assert clip["frame_max_abs"] is None and clip["clip_max_abs"] > 10 * row["clip_max_abs"]
    # the phone transform and a built-in are read back from the metadata's libvmaf model
    phone = student_eval.teacher_of({"vmafdistill.libvmaf_model": "version=vmaf_v0.6.1:enable_transform=true"})
    assert phone.name == "vmaf_v0.6.1_phone"

    # a published peer (when the developer folder exists) runs on it too
    for peer in student_eval.peer_students(PEERS)[:1]:
        assert np.isfinite(student_eval.evaluate(peer, table)["clip_rmse"])
