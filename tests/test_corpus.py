"""Corpus ingestion: the three layouts, the safe dataset-file parser and every refusal."""

from __future__ import annotations

import builtins
import csv
import hashlib
import os
import posixpath
import random
import shutil
from pathlib import Path

import pytest

from vmafdistill import corpus
from vmafdistill.corpus import (
    SPLIT_SALT,
    Clip,
    CorpusError,
    clip_id_for,
    frame_bytes,
    load_corpus,
    load_dataset_text,
    parse_dataset_text,
    split_bucket,
)

NFLX = Path(__file__).resolve().parents[2] / "shared" / "formats" / "NFLX_dataset_public.py"

W, H = 64, 36  # tiny raw geometry for the hand-made corpora
FB = W * H * 3 // 2  # 3456 bytes per yuv420p frame


def touch(path: Path, size: int) -> Path:
    """A sparse file of `size` bytes (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def write_manifest(root: Path, rows: list[dict], name: str = "manifest.csv") -> Path:
    cols = ["source", "ref_path", "dis_path", "width", "height", "pix_fmt", "fps", "dmos"]
    path = root / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        for r in rows:
            w.writerow({"width": W, "height": H, "pix_fmt": "yuv420p", "fps": 25, "dmos": "", **r})
    return path


def row(source: str, ref: str, dis: str, **kw) -> dict:
    return {"source": source, "ref_path": ref, "dis_path": dis, **kw}


def two_source_manifest(root: Path, frames: int = 3) -> None:
    for s in ("A", "B"):
        touch(root / f"ref/{s}_25fps.yuv", FB * frames)
        touch(root / f"dis/{s}_1.yuv", FB * frames)
    write_manifest(
        root,
        [
            row("A", "ref/A_25fps.yuv", "dis/A_1.yuv", dmos=50),
            row("B", "ref/B_25fps.yuv", "dis/B_1.yuv"),
        ],
    )


DATASET_HEAD = """\
dataset_name = 'tiny'
yuv_fmt = 'yuv420p'
width = 64
height = 36
ref_dir = '[path to dataset videos]/ref'
dis_dir = '[path to dataset videos]/dis'
"""


def dataset_text(refs: list[tuple[int, str, str]], dis: list[str]) -> str:
    """A small Netflix-style file: refs (content_id, name, path expr), dis entry strings."""
    lines = [DATASET_HEAD, "ref_videos = ["]
    lines += [f" {{'content_id': {c}, 'content_name': {n!r}, 'path': {p}}}," for c, n, p in refs]
    lines += ["]", "dis_videos = ["]
    lines += [f" {d}," for d in dis]
    lines += ["]", ""]
    return "\n".join(lines)


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


# --------------------------------------------------------------------------------------------
# manifest and naming convention, with awkward file names

AWKWARD = ['Café: "a, b".yuv', "it's here.yuv", "naïve ümlaut, 2.mp4", "sp ace.mkv"]


def test_manifest_with_awkward_names(tmp_path):
    root = tmp_path / "root"
    touch(root / "ref/Søurce one_25fps.yuv", FB * 2)
    touch(root / "ref/B_24fps.yuv", FB * 2)
    rows = []
    for i, name in enumerate(AWKWARD):
        touch(root / "dis" / name, FB * 2 if name.endswith(".yuv") else 100)
        rows.append(row("Søurce one", "ref/Søurce one_25fps.yuv", f"dis/{name}", dmos=i))
    rows.append(row("B", str(root / "ref/B_24fps.yuv"), "ref/B_24fps.yuv", fps=24, dmos=""))
    write_manifest(root, rows)
    clips = load_corpus(str(root))
    by_id = {c.clip_id: c for c in clips}
    assert sorted(by_id) == [
        "dis__Cafe___a__b_",
        "dis__it_s_here",
        "dis__naive_umlaut__2",
        "dis__sp_ace",
        "ref__B_24fps",
    ]
    cafe = by_id["dis__Cafe___a__b_"]
    assert cafe.dis_rel == 'dis/Café: "a, b".yuv' and cafe.dmos == 0.0
    assert cafe.dis_path == os.path.join(os.path.realpath(root), "dis", 'Café: "a, b".yuv')
    assert cafe.source == "Søurce one" and cafe.n_frames == 2
    assert not by_id["dis__sp_ace"].dis_is_raw
    b = by_id["ref__B_24fps"]
    assert b.self_pair and b.dmos is None and b.fps == 24.0 and b.ref_rel == "ref/B_24fps.yuv"


@pytest.mark.parametrize(
    "override, pattern",
    [
        ({"width": "sixty"}, r"manifest\.csv:3: column width must be a positive integer"),
        ({"fps": "0"}, r"manifest\.csv:3: column fps must be a positive number"),
        ({"dmos": "nan"}, r"manifest\.csv:3: column dmos must be a finite number"),
        ({"source": " "}, r"manifest\.csv:3: column source is empty"),
        (
            {"pix_fmt": "yuv422p"},
            r"manifest\.csv:3: unsupported pix_fmt 'yuv422p'; supported: yuv420p, yuv420p10le",
        ),
        ({"height": "20"}, r"manifest\.csv:3: reference 'ref/A_25fps.yuv' is declared as"),
    ],
)
def test_manifest_bad_rows_name_file_and_line(tmp_path, override, pattern):
    touch(tmp_path / "ref/A_25fps.yuv", FB)
    touch(tmp_path / "dis/A_1.yuv", FB)
    touch(tmp_path / "dis/A_2.yuv", FB)
    write_manifest(
        tmp_path,
        [
            row("A", "ref/A_25fps.yuv", "dis/A_1.yuv"),
            {**row("A", "ref/A_25fps.yuv", "dis/A_2.yuv"), **override},
        ],
    )
    with pytest.raises(CorpusError, match=pattern):
        load_corpus(str(tmp_path))


def test_manifest_bad_header_and_short_row(tmp_path):
    (tmp_path / "manifest.csv").write_text("source,ref_path,dis_path,width\n", encoding="utf-8")
    with pytest.raises(
        CorpusError, match=r"manifest\.csv:1: bad header: missing column\(s\) height"
    ):
        load_corpus(str(tmp_path))
    (tmp_path / "manifest.csv").write_text(
        "source,ref_path,dis_path,width,height,pix_fmt,fps\nA,ref/a.yuv,dis/a.yuv,64\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"manifest\.csv:2: row has 4 fields, the header has 7"):
        load_corpus(str(tmp_path))


def test_naming_convention(tmp_path):
    for name in ("A_25fps.yuv", "A_B_30fps.yuv", "Café: x_24fps.yuv"):
        touch(tmp_path / "ref" / name, FB * 2)
    for name in ("A_1.yuv", "A_B_2.yuv", 'Café: x_"q, 1".yuv'):
        touch(tmp_path / "dis" / name, FB * 2)
    touch(tmp_path / "dis/A_B_c.mp4", 10)
    touch(tmp_path / "dis/.DS_Store", 1)
    clips = load_corpus(str(tmp_path), width=W, height=H)
    got = {c.clip_id: (c.source, c.fps, c.self_pair) for c in clips}
    assert got == {
        "dis__A_1": ("A", 25.0, False),
        "dis__A_B_2": ("A_B", 30.0, False),  # longest matching source wins
        "dis__A_B_c": ("A_B", 30.0, False),
        "dis__Cafe__x__q__1_": ("Café: x", 24.0, False),
        "ref__A_25fps": ("A", 25.0, True),
        "ref__A_B_30fps": ("A_B", 30.0, True),
        "ref__Cafe__x_24fps": ("Café: x", 24.0, True),
    }
    assert all(c.dmos is None for c in clips)


def test_naming_convention_needs_geometry_and_matching_sources(tmp_path):
    touch(tmp_path / "ref/A_25fps.yuv", FB)
    touch(tmp_path / "ref/B_25fps.yuv", FB)
    (tmp_path / "dis").mkdir()
    with pytest.raises(CorpusError, match=r"width=.*height="):
        load_corpus(str(tmp_path))
    touch(tmp_path / "dis/Zed_1.yuv", FB)
    with pytest.raises(CorpusError, match=r"dis/Zed_1\.yuv: no reference matches"):
        load_corpus(str(tmp_path), width=W, height=H)
    (tmp_path / "dis/Zed_1.yuv").unlink()
    touch(tmp_path / "ref/notes.txt", 3)
    with pytest.raises(CorpusError, match=r"ref/notes\.txt: a reference must be"):
        load_corpus(str(tmp_path), width=W, height=H)
    (tmp_path / "ref/notes.txt").unlink()
    with pytest.raises(CorpusError, match=r"unsupported pix_fmt 'gray'"):
        load_corpus(str(tmp_path), width=W, height=H, pix_fmt="gray")
    ten = load_corpus(str(tmp_path), width=32, height=18, pix_fmt="yuv420p10le")
    assert [c.n_frames for c in ten] == [FB // frame_bytes(32, 18, "yuv420p10le")] * 2


# --------------------------------------------------------------------------------------------
# escapes


def test_escape_by_dotdot_absolute_and_symlink(tmp_path):
    root = tmp_path / "root"
    two_source_manifest(root)
    outside = touch(tmp_path / "outside.yuv", FB * 3)
    base = [row("A", "ref/A_25fps.yuv", "dis/A_1.yuv"), row("B", "ref/B_25fps.yuv", "dis/B_1.yuv")]

    write_manifest(root, base + [row("A", "ref/A_25fps.yuv", "dis/../../outside.yuv")])
    with pytest.raises(
        CorpusError, match=r"manifest\.csv:4: dis_path 'dis/\.\./\.\./outside\.yuv' escapes"
    ):
        load_corpus(str(root))
    with pytest.raises(CorpusError, match=r"escapes data_root"):
        load_corpus(str(root), check_files=False)

    write_manifest(root, base + [row("A", "ref/A_25fps.yuv", str(outside))])
    with pytest.raises(CorpusError, match=r"manifest\.csv:4: dis_path '.*outside\.yuv' is an abs"):
        load_corpus(str(root), check_files=False)

    os.symlink(outside, root / "dis/evil.yuv")
    write_manifest(root, base + [row("A", "ref/A_25fps.yuv", "dis/evil.yuv")])
    with pytest.raises(
        CorpusError, match=r"'dis/evil\.yuv' escapes data_root .* through a symlink"
    ):
        load_corpus(str(root))

    os.symlink(tmp_path, root / "up")
    write_manifest(root, base + [row("A", "ref/A_25fps.yuv", "up/outside.yuv")])
    with pytest.raises(CorpusError, match=r"'up/outside\.yuv' escapes data_root .* symlink"):
        load_corpus(str(root))

    # a symlink that stays inside data_root is fine, and resolved
    os.symlink("A_1.yuv", root / "dis/A_link.yuv")
    write_manifest(root, base + [row("A", "ref/A_25fps.yuv", "dis/A_link.yuv")])
    link = {c.clip_id: c for c in load_corpus(str(root))}["dis__A_link"]
    assert link.dis_path == os.path.realpath(root / "dis/A_1.yuv")
    assert link.dis_rel == "dis/A_link.yuv"


def test_escape_in_dataset_file_and_dataset_argument(tmp_path):
    text = dataset_text(
        [(0, "A", "'[path to dataset videos]/../x.yuv'")],
        [],
    )
    with pytest.raises(CorpusError, match=r"d\.py:\d+: ref_videos\[0\]: path .* escapes"):
        parse_dataset_text(text, "d.py", str(tmp_path))
    text = dataset_text([(0, "A", "'/etc/passwd'")], [])
    with pytest.raises(CorpusError, match=r"absolute path outside data_root"):
        parse_dataset_text(text, "d.py", str(tmp_path / "root"))
    (tmp_path / "root").mkdir()
    (tmp_path / "elsewhere.csv").write_text("x\n")
    with pytest.raises(CorpusError, match=r"not inside data_root"):
        load_corpus(str(tmp_path / "root"), "../elsewhere.csv")


# --------------------------------------------------------------------------------------------
# file checks


def test_yuv_size_not_a_multiple_of_the_frame_size(tmp_path):
    two_source_manifest(tmp_path)
    touch(tmp_path / "dis/B_1.yuv", FB * 3 + 5)
    with pytest.raises(CorpusError) as exc:
        load_corpus(str(tmp_path))
    msg = str(exc.value)
    assert "dis/B_1.yuv" in msg and f"size {FB * 3 + 5} bytes" in msg
    assert f"frame size {FB} bytes ({W}x{H} yuv420p)" in msg


def test_zero_length_yuv(tmp_path):
    two_source_manifest(tmp_path)
    touch(tmp_path / "ref/A_25fps.yuv", 0)
    with pytest.raises(CorpusError, match=rf"'ref/A_25fps\.yuv' is empty \(0 bytes\).*{FB} bytes"):
        load_corpus(str(tmp_path))


def test_frame_count_mismatch_names_both(tmp_path):
    two_source_manifest(tmp_path)
    touch(tmp_path / "dis/A_1.yuv", FB * 2)
    with pytest.raises(CorpusError) as exc:
        load_corpus(str(tmp_path))
    msg = str(exc.value)
    assert str(os.path.realpath(tmp_path / "ref/A_25fps.yuv")) + " has 3 frames" in msg
    assert str(os.path.realpath(tmp_path / "dis/A_1.yuv")) + " has 2 frames" in msg


def test_missing_file_and_check_files_false(tmp_path):
    two_source_manifest(tmp_path)
    (tmp_path / "dis/B_1.yuv").unlink()
    with pytest.raises(
        CorpusError, match=r"manifest\.csv:3: clip 'dis/B_1\.yuv': .*does not exist"
    ):
        load_corpus(str(tmp_path))
    clips = load_corpus(str(tmp_path), check_files=False)
    assert [c.n_frames for c in clips] == [None, None]
    os.symlink("gone.yuv", tmp_path / "dis/B_1.yuv")
    with pytest.raises(CorpusError, match=r"'dis/B_1\.yuv' is a dangling symlink"):
        load_corpus(str(tmp_path))
    (tmp_path / "dis/B_1.yuv").unlink()
    (tmp_path / "dis/B_1.yuv").mkdir()
    with pytest.raises(CorpusError, match=r"'dis/B_1\.yuv' is not a regular file"):
        load_corpus(str(tmp_path))


def test_frame_bytes_and_unsupported_pix_fmt():
    assert frame_bytes(1920, 1080, "yuv420p") == 1920 * 1080 * 3 // 2
    assert frame_bytes(1920, 1080, "yuv420p10le") == 1920 * 1080 * 3
    with pytest.raises(CorpusError, match=r"'rgb24'; supported: yuv420p, yuv420p10le"):
        frame_bytes(4, 4, "rgb24")
    with pytest.raises(CorpusError, match=r"geometry"):
        frame_bytes(0, 4, "yuv420p")


def test_duplicate_clip_ids(tmp_path):
    two_source_manifest(tmp_path)
    touch(tmp_path / "dis/a b.yuv", FB * 3)
    touch(tmp_path / "dis/a_b.yuv", FB * 3)
    write_manifest(
        tmp_path,
        [
            row("A", "ref/A_25fps.yuv", "dis/a b.yuv"),
            row("B", "ref/B_25fps.yuv", "dis/a_b.yuv"),
        ],
    )
    with pytest.raises(
        CorpusError, match=r"duplicate clip id 'dis__a_b'.*'dis/a b\.yuv' and 'dis/a_b\.yuv'"
    ):
        load_corpus(str(tmp_path))


def test_single_source_and_empty_corpus(tmp_path):
    touch(tmp_path / "ref/A_25fps.yuv", FB)
    touch(tmp_path / "dis/A_1.yuv", FB)
    write_manifest(tmp_path, [row("A", "ref/A_25fps.yuv", "dis/A_1.yuv")])
    with pytest.raises(CorpusError, match=r"leave-one-source-out needs at least 2 sources.*'A'"):
        load_corpus(str(tmp_path))
    write_manifest(tmp_path, [])
    with pytest.raises(CorpusError, match=r"no clips"):
        load_corpus(str(tmp_path))


def test_bad_data_root_and_unknown_layout(tmp_path):
    with pytest.raises(CorpusError, match=r"data_root '.*nowhere' does not exist"):
        load_corpus(str(tmp_path / "nowhere"))
    touch(tmp_path / "file", 1)
    with pytest.raises(CorpusError, match=r"is not a directory"):
        load_corpus(str(tmp_path / "file"))
    with pytest.raises(CorpusError, match=r"not set"):
        load_corpus("")
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    with pytest.raises(CorpusError) as exc:
        load_corpus(str(tmp_path))
    msg = str(exc.value)
    assert "a.py, b.py" in msg and "manifest.csv" in msg and "ref/" in msg and "dis/" in msg


def test_manifest_chosen_when_several_py_files(tmp_path):
    two_source_manifest(tmp_path)
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    assert len(load_corpus(str(tmp_path))) == 2


# --------------------------------------------------------------------------------------------
# ids and split buckets


def test_clip_ids():
    assert clip_id_for("dis/BigBuckBunny_20_288_375.yuv") == "dis__BigBuckBunny_20_288_375"
    assert clip_id_for('dis/Café: "a, b".mp4') == "dis__Cafe___a__b_"
    assert clip_id_for("a/b.c/d") == "a__b.c__d"
    assert clip_id_for("dis/ß漢.yuv") == "dis____"
    for p in ["a.b", ".h", "d/.h", "d/..x.yuv", "a..b", "d.x/y", "x", "d/a.", "..", "d/.a.b"]:
        assert corpus.strip_ext(p) == posixpath.splitext(p)[0], p


def test_split_bucket_definition_and_range():
    rel = "dis/BigBuckBunny_20_288_375.yuv"
    digest = hashlib.sha256(f"{SPLIT_SALT}\0{rel}".encode()).digest()
    assert split_bucket(rel) == int.from_bytes(digest[:8], "big") / 2**64
    assert SPLIT_SALT == "vmafdistill-split-v1"
    assert split_bucket(rel, "other") != split_bucket(rel)
    values = [split_bucket(f"dis/c{i}.yuv") for i in range(2000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert 0.4 < sum(values) / len(values) < 0.6


def test_split_buckets_do_not_depend_on_creation_order(tmp_path):
    names = [f"S{s}_{q}.yuv" for s in range(3) for q in range(6)]
    results = []
    for k, seed in enumerate((1, 2)):
        root = tmp_path / f"t{k}"
        order = names + [f"S{s}_25fps.yuv" for s in range(3)]
        random.Random(seed).shuffle(order)
        for name in order:
            touch(root / ("ref" if name.endswith("fps.yuv") else "dis") / name, FB)
        results.append(
            [(c.clip_id, c.bucket, c.ref_rel) for c in load_corpus(str(root), width=W, height=H)]
        )
    assert results[0] == results[1]
    assert len(results[0]) == 21


# --------------------------------------------------------------------------------------------
# read-only


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, n))
            out[os.path.relpath(os.path.join(dirpath, n), root)] = (
                st.st_mtime_ns,
                st.st_size,
                st.st_mode,
            )
    return out


def test_read_only_data_root_is_never_written(tmp_path, monkeypatch):
    root = tmp_path / "ro"
    two_source_manifest(root / "m")
    touch(root / "c/ref/A_25fps.yuv", FB)
    touch(root / "c/ref/B_25fps.yuv", FB)
    (root / "c/dis").mkdir()
    (root / "d").mkdir()
    (root / "d/set.py").write_text(
        dataset_text(
            [(0, "A", "'ref/A.yuv'"), (1, "B", "'ref/B.yuv'")],
            ["{'asset_id': 0, 'content_id': 0, 'path': 'ref/A.yuv'}"]
            + ["{'asset_id': 1, 'content_id': 1, 'path': 'ref/B.yuv'}"],
        )
    )
    touch(root / "d/ref/A.yuv", FB)
    touch(root / "d/ref/B.yuv", FB)
    before = snapshot(root)

    opened: list[tuple[str, object]] = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *a, **k):
        opened.append((str(file), mode))
        return real_open(file, mode, *a, **k)

    def spy_os_open(path, flags, *a, **k):
        opened.append((str(path), flags))
        return real_os_open(path, flags, *a, **k)

    os.system(f"chmod -R a-w '{root}'")
    try:
        monkeypatch.setattr(builtins, "open", spy_open)
        monkeypatch.setattr(os, "open", spy_os_open)
        assert len(load_corpus(str(root / "m"))) == 2
        assert len(load_corpus(str(root / "c"), width=W, height=H)) == 2
        assert len(load_corpus(str(root / "d"))) == 2
        monkeypatch.undo()
    finally:
        os.system(f"chmod -R u+w '{root}'")
    assert snapshot(root) == before
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    for path, mode in opened:
        if isinstance(mode, str):
            assert not set(mode) & set("wax+"), (path, mode)
        else:
            assert not mode & write_flags, (path, mode)
    assert any(p.endswith("manifest.csv") for p, _ in opened)


def test_clip_is_frozen():
    c = Clip(
        "i", "s", "/r", "/d", "r", "d", 1, 1, "yuv420p", 25.0, None, False, 0.5, True, True, 1, 1, 1
    )
    with pytest.raises(AttributeError):
        c.clip_id = "x"  # type: ignore[misc]
