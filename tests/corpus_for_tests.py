"""Hand-made corpora for the corpus-ingestion tests (test_corpus_*.py): sparse raw files at a tiny geometry,
a manifest.csv writer and a small Netflix-style dataset file."""

from __future__ import annotations

import csv
from pathlib import Path

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
