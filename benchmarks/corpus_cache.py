"""The benchmark corpora's cache: each corpus built once and each teacher's table measured once.

`frames(corpus, exe, teachers)`: the clips live in `corpora.CACHE_DIR/<name>-<key>/` (key:
`CorpusDef.key`: every build command, the dataset file, the ffmpeg binary's sha256), each teacher's
per-frame table in its `frames/` folder, keyed on the teacher's model file and the libvmaf pass's
argv (`teacher_id`). Teachers missing from the cache are measured together, one pass per clip.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from corpora import (CACHE_DIR, DATASET_FILE, CorpusDef, binary_id, build, file_sha256, measure,
                     teacher_diff)
from vmafdistill import atomic, corpus
from vmafdistill.ffmpeg import ClipGeometry, libvmaf_argv
from vmafdistill.libvmaf_model import libvmaf_models_option
from vmafdistill.teacher import Teacher


def teacher_id(t: Teacher) -> str:
    """A teacher's table as a cache key: its name, the sha256 of its model file and the libvmaf pass's
    argv for it (the transform is in the name)."""
    geo = ClipGeometry("DIS", "REF", 64, 64, "yuv420p", 25.0, True, False, 64, 64)
    argv = libvmaf_argv("ffmpeg", geo, "LOG", model=libvmaf_models_option([t.model]))[1:]
    pass_id = hashlib.sha256(json.dumps(argv).encode()).hexdigest()[:16]
    return f"{t.name}@{file_sha256(Path(t.model.path))[:16]}@{pass_id}"


@dataclass
class CorpusFrames:
    """A corpus's per-frame tables (teacher name -> table) and how they were obtained."""

    corpus: CorpusDef
    key: str
    folder: Path
    tables: dict[str, pl.DataFrame]
    build_s: float  # when it was built (cached or now)
    measure_s: dict[str, float]  # wall seconds of the pass that measured each teacher
    teacher_diff: dict[str, float]
    built_now: bool
    measured_now: list[str]


def frames(
    c: CorpusDef, exe: str, teachers: list[Teacher], *, workers: int = 2, rebuild: bool = False,
    cache_dir: Path = CACHE_DIR,
) -> CorpusFrames:
    """The corpus's per-frame table of each teacher, built and measured only when the cache lacks it.

    The clips live in `cache_dir/<name>-<key>/` (key: `CorpusDef.key`); each teacher's table in its
    `frames/` folder, measured (with every other missing teacher, in one pass per clip) unless a
    table of the same model file is there. `rebuild` starts from nothing."""
    key = c.key(exe)
    folder = Path(cache_dir) / f"{c.name}-{key}"
    meta = folder / "build.json"
    if rebuild or not meta.is_file():
        shutil.rmtree(folder, ignore_errors=True)  # nothing, or a partial build
        t0 = time.perf_counter()
        clips = build(c, folder, exe, workers=workers)
        build_s = time.perf_counter() - t0
        atomic.write_json(meta, {"key": key, "ffmpeg": binary_id(exe), "clips": len(clips), "build_s": build_s,
                                 "workers": workers})
        built_now = True
    else:
        clips = corpus.load_corpus(str(folder), DATASET_FILE, default_fps=float(c.settings.fps))
        build_s, built_now = float(json.loads(meta.read_text())["build_s"]), False
    tables, measure_s, diff, missing = {}, {}, {}, []
    for t in teachers:
        table, tmeta = folder / "frames" / f"{t.name}.parquet", folder / "frames" / f"{t.name}.json"
        if table.is_file() and tmeta.is_file() and json.loads(tmeta.read_text()).get("teacher") == teacher_id(t):
            rec = json.loads(tmeta.read_text())
            tables[t.name], measure_s[t.name], diff[t.name] = pl.read_parquet(table), rec["measure_s"], rec["max_diff"]
        else:
            missing.append(t)
    if missing:
        t0 = time.perf_counter()
        new = measure(clips, exe, missing, workers=workers)
        seconds = time.perf_counter() - t0
        for t in missing:
            tables[t.name], measure_s[t.name], diff[t.name] = new[t.name], seconds, teacher_diff(t, new[t.name])
            atomic.write_parquet(folder / "frames" / f"{t.name}.parquet", new[t.name])
            atomic.write_json(folder / "frames" / f"{t.name}.json", {
                "teacher": teacher_id(t), "measure_s": seconds, "max_diff": diff[t.name], "workers": workers,
                "pass_teachers": [m.name for m in missing]})
    return CorpusFrames(c, key, folder, tables, build_s, measure_s, diff, built_now, [t.name for t in missing])
