"""Corpus ingestion, the manifest.csv and ref/dis naming-convention layouts (awkward file names, bad rows and
headers, geometry and source matching), clip ids, the seeded split buckets and the frozen Clip record."""

from __future__ import annotations

import hashlib
import os
import posixpath
import random

import pytest

from vmafdistill import corpus
from vmafdistill.corpus import (
    SPLIT_SALT,
    Clip,
    CorpusError,
    clip_id_for,
    frame_bytes,
    load_corpus,
    split_bucket,
)

from corpus_for_tests import FB, H, W, row, touch, write_manifest


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


def test_clip_is_frozen():
    c = Clip(
        "i", "s", "/r", "/d", "r", "d", 1, 1, "yuv420p", 25.0, None, False, 0.5, True, True, 1, 1, 1
    )
    with pytest.raises(AttributeError):
        c.clip_id = "x"  # type: ignore[misc]
