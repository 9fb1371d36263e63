"""Corpus ingestion, the Netflix-style dataset file: the real NFLX_dataset_public.py, the safe parser that
refuses code (never runs it), malformed entries and module keys, and loading a dataset file's clips."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from vmafdistill.corpus import (
    CorpusError,
    frame_bytes,
    load_corpus,
    load_dataset_text,
    parse_dataset_text,
)

from corpus_for_tests import DATASET_HEAD, FB, H, W, dataset_text, touch

NFLX = Path(__file__).resolve().parents[2] / "shared" / "formats" / "NFLX_dataset_public.py"


# --------------------------------------------------------------------------------------------
# the real Netflix file


def nflx_text() -> str:
    if not NFLX.is_file():
        pytest.skip(f"{NFLX} is absent (../shared beside the repository)")
    return NFLX.read_text(encoding="utf-8")


def test_real_netflix_file_parses(tmp_path):
    spec = parse_dataset_text(nflx_text(), "NFLX_dataset_public.py", str(tmp_path))
    assert spec.dataset_name == "NFLX_public"
    assert (spec.yuv_fmt, spec.width, spec.height) == ("yuv420p", 1920, 1080)
    assert len(spec.ref_videos) == 9
    assert len({r.content_name for r in spec.ref_videos}) == 9
    assert len(spec.dis_videos) == 79
    ref_rels = {r.rel for r in spec.ref_videos}
    self_pairs = [d for d in spec.dis_videos if d.rel in ref_rels]
    assert len(self_pairs) == 9 and all(d.dmos == 100.0 for d in self_pairs)
    by_asset = {d.asset_id: d for d in spec.dis_videos}
    assert by_asset[11].dmos == 49.166666666666664
    assert by_asset[11].rel == "dis/BigBuckBunny_40_384_750.yuv"
    assert by_asset[11].path == os.path.join(str(tmp_path), "dis/BigBuckBunny_40_384_750.yuv")
    assert spec.ref_videos[8].path == os.path.join(str(tmp_path), "ref/Tennis_24fps.yuv")


def test_real_netflix_file_on_sparse_stand_in_corpus(tmp_path):
    text = nflx_text()
    root = tmp_path / "nflx"
    spec = parse_dataset_text(text, "x.py", str(root))
    fb = frame_bytes(1920, 1080, "yuv420p")
    for rel in {r.rel for r in spec.ref_videos} | {d.rel for d in spec.dis_videos}:
        touch(root / rel, fb * 3)
    shutil.copy(NFLX, root / NFLX.name)
    clips = load_corpus(str(root))
    assert len(clips) == 79
    assert [c.clip_id for c in clips] == sorted(c.clip_id for c in clips)
    assert len({c.source for c in clips}) == 9
    selfs = [c for c in clips if c.self_pair]
    assert len(selfs) == 9 and all(c.dmos == 100.0 and c.ref_path == c.dis_path for c in selfs)
    by_id = {c.clip_id: c for c in clips}
    c = by_id["dis__BigBuckBunny_20_288_375"]
    assert (c.source, c.fps, c.dmos, c.n_frames) == ("BigBuckBunny", 25.0, 22.5, 3)
    assert (c.width, c.height, c.dis_width, c.dis_height, c.pix_fmt) == (
        1920,
        1080,
        1920,
        1080,
        "yuv420p",
    )
    assert c.ref_is_raw and c.dis_is_raw and not c.self_pair
    assert c.ref_path == os.path.realpath(root / "ref/BigBuckBunny_25fps.yuv")
    assert c.ref_rel == "ref/BigBuckBunny_25fps.yuv"
    assert by_id["dis__Tennis_90_1080_4300"].fps == 24.0
    assert by_id["ref__BirdsInCage_30fps"].fps == 30.0
    assert all(0.0 <= c.bucket < 1.0 for c in clips)


# --------------------------------------------------------------------------------------------
# the dataset-file parser refuses code


EVIL = [
    ("x = __import__('os').system('touch {marker}')", "function call"),
    ("open({marker!r}, 'w')", "function call"),
    ("import os", "import"),
    ("from os import system", "import"),
    ("x = dataset_name.upper", "attribute access"),
    ("x = lambda: open({marker!r}, 'w')", "lambda"),
    ("x = f'{{width}}'", "f-string"),
    ("x = ref_dir[0]", "subscript"),
    ("x = [open({marker!r}, 'w') for _ in (1,)]", "comprehension"),
    ("def f():\n    pass", "function definition"),
    ("class C:\n    pass", "class definition"),
    ("for i in (1,):\n    pass", "for loop"),
    ("width += 1", "augmented assignment"),
    ("a, b = 1, 2", "assignment to"),
    ("a = b = 1", "chained assignment"),
    ("x = 2 * 3", "operator Mult"),
    ("x = 1 + 2", "'+' on something other than two strings"),
    ("x = {{1, 2}}", "a set"),
    ("x = b'bytes'", "constant of type bytes"),
    ("x = undefined_name", "not assigned earlier"),
    ("x = {{(1, [2]): 3}}", "unhashable dict key"),
    ("x = {{**{{}}}}", "dict unpacking"),
    ("x = -'a'", "a sign on something other than a number"),
]


@pytest.mark.parametrize("code, what", EVIL, ids=[w for _, w in EVIL])
def test_dataset_file_code_is_refused_not_run(tmp_path, code, what):
    marker = tmp_path / "EXECUTED"
    text = DATASET_HEAD + code.format(marker=str(marker)) + "\n"
    line = DATASET_HEAD.count("\n") + 1
    with pytest.raises(CorpusError) as exc:
        parse_dataset_text(text, "evil.py", str(tmp_path))
    msg = str(exc.value)
    assert f"evil.py:{line}:" in msg
    assert what in msg
    assert not marker.exists()


def test_dataset_file_code_refused_through_load_corpus(tmp_path):
    marker = tmp_path / "EXECUTED"
    root = tmp_path / "root"
    root.mkdir()
    (root / "d.py").write_text(
        DATASET_HEAD + f"x = __import__('os').system('touch {marker}')\n", encoding="utf-8"
    )
    with pytest.raises(CorpusError, match=r"d\.py:7: a function call"):
        load_corpus(str(root))
    assert not marker.exists()


def test_dataset_file_warnings_are_not_printed(tmp_path, recwarn):
    spec = parse_dataset_text(dataset_text([(0, "A", "'ref/A\\d.yuv'")], []), "w.py", str(tmp_path))
    assert spec.ref_videos[0].rel == "ref/A\\d.yuv"
    assert not recwarn.list


def test_dataset_file_syntax_error_names_file_and_line(tmp_path):
    text = "dataset_name = 'x'\nyuv_fmt = 'yuv420p'\nwidth = = 3\n"
    with pytest.raises(CorpusError, match=r"bad\.py:3: syntax error"):
        parse_dataset_text(text, "bad.py", str(tmp_path))


def test_dataset_file_allows_docstring_comments_negatives_and_extras(tmp_path):
    text = (
        '"""A docstring."""\n# a comment\nquality_width = 1920\nresampling_type = "bicubic"\n'
        "offset = -3.5\nflag = True\nnothing = None\npair = (1, 'a')\n"
        + dataset_text(
            [(0, "A", "ref_dir + '/A_30fps.yuv'"), (1, "B", "'ref/' + 'B.yuv'")],
            ["{'asset_id': 0, 'content_id': 0, 'dmos': -1, 'path': dis_dir + '/A_1.yuv',}"],
        )
    )
    spec = parse_dataset_text(text, "ok.py", str(tmp_path))
    assert [r.rel for r in spec.ref_videos] == ["ref/A_30fps.yuv", "ref/B.yuv"]
    assert spec.dis_videos[0].dmos == -1.0 and spec.dis_videos[0].rel == "dis/A_1.yuv"


@pytest.mark.parametrize(
    "dis, pattern",
    [
        ("{'asset_id': 0, 'content_id': 7, 'path': 'dis/x.yuv'}", r"content_id 7 matches no"),
        ("{'asset_id': 0, 'content_id': 0}", r"missing key 'path'"),
        ("{'asset_id': 0, 'path': 'dis/x.yuv'}", r"missing key 'content_id'"),
        ("{'asset_id': 0, 'content_id': 0, 'path': 3}", r"'path' must be a string"),
        ("{'asset_id': 0, 'content_id': 0, 'dmos': 'x', 'path': 'a'}", r"'dmos' must be"),
        ("{'asset_id': 0, 'content_id': 0, 'width': 32, 'path': 'a'}", r"both 'width' and"),
        ("'dis/x.yuv'", r"entry must be a dict"),
    ],
)
def test_dataset_file_bad_entries(tmp_path, dis, pattern):
    text = dataset_text([(0, "A", "'ref/A.yuv'")], [dis])
    line = text.splitlines().index(f" {dis},") + 1
    with pytest.raises(CorpusError, match=rf"e\.py:{line}: dis_videos\[0\].*{pattern}"):
        parse_dataset_text(text, "e.py", str(tmp_path))


def test_dataset_file_missing_module_keys_and_bad_pix_fmt(tmp_path):
    with pytest.raises(CorpusError, match=r"m\.py: required assignment 'ref_videos'"):
        parse_dataset_text("yuv_fmt = 'yuv420p'\nwidth = 4\nheight = 4\n", "m.py", str(tmp_path))
    with pytest.raises(CorpusError, match=r"m\.py:1: unsupported pix_fmt .*'yuv422p'.*yuv420p10le"):
        parse_dataset_text("yuv_fmt = 'yuv422p'\n", "m.py", str(tmp_path))
    with pytest.raises(CorpusError, match=r"m\.py:2: width must be a positive integer"):
        parse_dataset_text("yuv_fmt = 'yuv420p'\nwidth = 1.5\n", "m.py", str(tmp_path))


def test_dataset_default_fps_and_dis_at_other_geometry(tmp_path):
    root = tmp_path / "r"
    touch(root / "ref/A.yuv", FB * 2)
    touch(root / "ref/B_30fps.yuv", FB * 2)
    touch(root / "dis/A_small.yuv", frame_bytes(32, 18, "yuv420p") * 2)
    touch(root / "dis/B_1.mkv", 10)
    text = dataset_text(
        [(0, "A", "ref_dir + '/A.yuv'"), (1, "B", "ref_dir + '/B_30fps.yuv'")],
        [
            "{'asset_id': 0, 'content_id': 0, 'width': 32, 'height': 18, "
            "'path': dis_dir + '/A_small.yuv'}",
            "{'asset_id': 1, 'content_id': 1, 'width': 32, 'height': 18, "
            "'path': dis_dir + '/B_1.mkv'}",
        ],
    )
    (root / "set.py").write_text(text, encoding="utf-8")
    clips = {c.clip_id: c for c in load_corpus(str(root), "set.py", default_fps=50.0)}
    a, b = clips["dis__A_small"], clips["dis__B_1"]
    assert (a.fps, a.dis_width, a.dis_height, a.n_frames, a.dmos) == (50.0, 32, 18, 2, None)
    assert (b.fps, b.dis_is_raw, b.dis_width, b.dis_height) == (30.0, False, W, H)
    touch(root / "dis/A_small.yuv", frame_bytes(32, 18, "yuv420p") * 3)
    with pytest.raises(CorpusError, match=r"has 2 frames .* has 3 frames \(32x18"):
        load_corpus(str(root), "set.py")


def test_load_dataset_text_for_a_corpus_not_built_yet(tmp_path):
    text = dataset_text(
        [(0, "A", "ref_dir + '/A_25fps.yuv'"), (1, "B", "ref_dir + '/B_25fps.yuv'")],
        ["{'asset_id': 0, 'content_id': 0, 'path': ref_dir + '/A_25fps.yuv'}"]
        + ["{'asset_id': 1, 'content_id': 1, 'path': dis_dir + '/B q.mp4'}"],
    )
    root = tmp_path / "not" / "built"
    clips = load_dataset_text(text, str(root / "demo.py"), str(root), check_files=False)
    assert [c.clip_id for c in clips] == ["dis__B_q", "ref__A_25fps"]
    assert clips[1].self_pair and clips[1].n_frames is None
    assert clips[0].dis_path == os.path.join(os.path.realpath(tmp_path), "not/built/dis/B q.mp4")
    assert not root.exists()
