"""Corpus ingestion, data_root's files: paths that escape data_root (.., absolute, symlinks), the checks on
the files themselves (sizes, frame counts, missing or odd files, duplicate ids, too few sources, a bad
data_root or unknown layout), and a read-only data_root that is never written."""

from __future__ import annotations

import builtins
import os
from pathlib import Path

import pytest

from vmafdistill.corpus import CorpusError, frame_bytes, load_corpus, parse_dataset_text

from corpus_for_tests import FB, H, W, dataset_text, row, touch, write_manifest


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
