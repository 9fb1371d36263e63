"""Synthetic feature vectors, labelled by the teacher (corpus-free).

The students are distilled from a teacher that is known exactly, so training vectors can be drawn
freely. ``sample_for`` picks the draw of a teacher: the v0.6.1 family's canonical 6 (``sample_features``,
below), any other teacher's around its own support vectors (``sample_generic``). ``synthetic_set``
labels a draw; ``synthetic_rows`` is the engine checks' own sample. The v0.6.1 sampler mixes four
components, all deterministic given a seed:

* ``manifold`` (the realistic draw): a coarse-to-fine chain for VIF — ``vif_scale3`` first, then
  each finer scale is the coarser one times a retention factor <= 1 (finer scales are hurt more by
  real distortions: blur, noise, compression), so ``vif0 <= vif1 <= vif2 <= vif3``; the retention
  factors mix blur-like (all scales hurt alike), noise-like (scale 0 collapses, coarse scales keep
  most) and compression-like patterns. ``adm2`` follows the overall damage with a wide random
  coupling (blur drives it down hard, noise much less), plus a few enhancement-like vectors
  (sharpening: adm2 and VIF slightly above 1).
* ``cone``: VIF drawn uniformly and sorted (the monotone cone), adm2 uniform over its whole range.
* ``box``: every feature independent and uniform over the feature box (extremes, non-monotone VIF).
* ``floor``: the bottom of the scale, every VIF scale near 0 and adm2 low (the coarsest codecs).

``motion2`` is drawn independently for all components: a share of exact zeros (a clip's first
frame), a log-normal bulk around small values and a uniform tail up to ``MOTION_MAX``.
"""

from __future__ import annotations

import numpy as np


#: Feature box the samplers cover (canonical order); real encodes stay inside it. adm2 reaches down to 0:
#: x264 at CRF 51 and quarter size scores adm2 ~0.16-0.21 (tuning corpus), where the phone transform's
#: slope (1.7) shows a student's error most; a box from 0.20 left those frames to extrapolation.
BOX_LOW = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
BOX_HIGH = np.array([1.20, 1.10, 1.10, 1.10, 1.10, 64.0])
MOTION_MAX = 64.0

#: Default mixture weights of the components.
DEFAULT_MIX = {"manifold": 0.38, "cone": 0.38, "box": 0.19, "floor": 0.05}


def _motion(rng: np.random.Generator, n: int) -> np.ndarray:
    u = rng.random(n)
    bulk = np.exp(rng.normal(np.log(2.5), 1.0, n))
    tail = rng.uniform(0.0, MOTION_MAX, n)
    m = np.where(u < 0.06, 0.0, np.where(u < 0.76, bulk, tail))
    return np.clip(m, 0.0, MOTION_MAX)


def _manifold(rng: np.random.Generator, n: int) -> np.ndarray:
    # overall damage of the coarsest scale, skewed towards good quality (most real frames)
    d3 = np.where(rng.random(n) < 0.5, rng.beta(0.7, 2.5, n), rng.uniform(0.0, 0.95, n))
    vif3 = 1.0 - d3
    # retention factors coarse -> fine; the pattern sets how fast finer scales collapse
    kind = rng.random(n)
    lo = np.where(kind < 0.33, 0.80, np.where(kind < 0.66, 0.45, 0.60))  # blur / noise / codec
    ret2 = rng.uniform(lo, 1.0)
    ret1 = rng.uniform(lo, 1.0)
    # scale 0 suffers most, a lot more for noise-like damage
    lo0 = np.where(kind < 0.33, 0.45, np.where(kind < 0.66, 0.03, 0.25))
    ret0 = lo0 + (1.0 - lo0) * rng.random(n) ** 1.5
    # stronger damage -> smaller retention (fine scales collapse first)
    ret2 = 1.0 - (1.0 - ret2) * np.sqrt(d3 / 0.95 + 0.05)
    ret1 = 1.0 - (1.0 - ret1) * np.sqrt(d3 / 0.95 + 0.05)
    ret0 = 1.0 - (1.0 - ret0) * np.minimum(1.0, 3.0 * (d3 + 0.05)) ** 0.5
    vif2 = vif3 * ret2
    vif1 = vif2 * ret1
    vif0 = vif1 * ret0
    vif = np.stack([vif0, vif1, vif2, vif3], axis=1)
    # adm2: follows the mean damage with a broad random coupling
    damage = 1.0 - vif[:, 1:].mean(axis=1)
    coupling = rng.uniform(0.2, 1.2, n)
    adm2 = 1.0 - coupling * damage + rng.normal(0.0, 0.03, n)
    # enhancement-like vectors (sharpening/contrast): adm2 and VIF a little above 1
    enh = rng.random(n) < 0.06
    adm2 = np.where(enh, rng.uniform(0.98, 1.18, n), adm2)
    vif = np.where(enh[:, None], np.minimum(vif + rng.uniform(0.0, 0.06, (n, 1)), 1.08), vif)
    # measurement-like jitter, then keep VIF monotone for most rows
    vif = vif + rng.normal(0.0, 0.01, vif.shape)
    keep_sorted = rng.random(n) < 0.9
    vif = np.where(keep_sorted[:, None], np.sort(vif, axis=1), vif)
    x = np.column_stack([adm2, vif, np.zeros(n)])
    return np.clip(x, BOX_LOW, BOX_HIGH)


def _cone(rng: np.random.Generator, n: int) -> np.ndarray:
    vif = np.sort(rng.uniform(0.0, 1.05, (n, 4)), axis=1)
    adm2 = rng.uniform(0.25, 1.15, n)
    return np.column_stack([adm2, vif, np.zeros(n)])


def _floor(rng: np.random.Generator, n: int) -> np.ndarray:
    """The bottom of the scale: every VIF scale near 0 (log-uniform from 1e-4 to 0.2, finer scales lower)
    and adm2 from 0 to 0.6, as the coarsest codecs leave frames (x264 CRF 51 at quarter size: VIF 0.002-0.02,
    adm2 ~0.2; tuning corpus). The other components almost never draw all four VIF scales that low."""
    vif3 = 10.0 ** rng.uniform(-4.0, np.log10(0.2), n)
    ret = rng.uniform(0.1, 1.0, (n, 3))
    vif2 = vif3 * ret[:, 0]
    vif1 = vif2 * ret[:, 1]
    vif0 = vif1 * ret[:, 2]
    adm2 = rng.uniform(0.0, 0.6, n)
    return np.column_stack([adm2, vif0, vif1, vif2, vif3, np.zeros(n)])


def _box(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(BOX_LOW, BOX_HIGH, (n, 6))


def sample_features(n: int, seed: int, mix: dict[str, float] | None = None) -> np.ndarray:
    """``n`` synthetic canonical-6 raw feature vectors, float64 [n, 6]; deterministic in ``seed``."""
    mix = dict(DEFAULT_MIX if mix is None else mix)
    names = [k for k in ("manifold", "cone", "box", "floor") if mix.get(k, 0.0) > 0]
    w = np.array([mix[k] for k in names], dtype=np.float64)
    counts = np.floor(w / w.sum() * n).astype(int)
    counts[0] += n - counts.sum()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    draw = {"manifold": _manifold, "cone": _cone, "box": _box, "floor": _floor}
    parts = [draw[k](rng, c) for k, c in zip(names, counts) if c > 0]
    x = np.concatenate(parts, axis=0) if parts else np.zeros((0, 6))
    x[:, 5] = _motion(rng, len(x))
    return x[rng.permutation(len(x))]


# ------------------------------------------------------------------------------------------------
# any other teacher: drawn around the model's own support vectors, inside its feature box

#: Share of the generic draw: near one support vector, between two, uniform over the box.
GENERIC_MIX = {"near": 0.35, "between": 0.35, "box": 0.3}
#: Without a declared limit, a box end is the support vectors' span widened by this share of its width.
WIDEN = 0.5
#: Share of rows given each declared limit exactly (libvmaf clamps a feature at its limit, so real frames
#: pile up there: speed_chroma at speed_max_val under noise, adm at adm_min_val under heavy blur).
AT_LIMIT = 0.04
#: Range limits a feature's extractor options impose (option name -> which end).
_LIMITS = {"cambi_max_val": "high", "speed_max_val": "high", "motion_max_val": "high", "adm_min_val": "low"}


def physical_bounds(teacher) -> tuple[np.ndarray, np.ndarray]:  # a teacher.Teacher
    """Per canonical feature, the values libvmaf can produce: >= 0 (every v1.0.16 and v0.6.1 feature but
    adm's enhancement side), capped by the extractor's *_max_val / adm_min_val options."""
    lo, hi = declared_limits(teacher)
    return np.where(np.isnan(lo), 0.0, lo), np.where(np.isnan(hi), np.inf, hi)


def declared_limits(teacher) -> tuple[np.ndarray, np.ndarray]:
    """Per canonical feature, the limits its extractor's options declare (NaN where none)."""
    m = teacher.model
    lo, hi = np.full(len(m.features), np.nan), np.full(len(m.features), np.nan)
    for i, opts in enumerate(m.feature_opts):
        for key, end in _LIMITS.items():
            if key in opts:
                (hi if end == "high" else lo)[i] = float(opts[key])
    perm = m.canonical_to_model()
    return lo[perm], hi[perm]


def generic_box(teacher) -> tuple[np.ndarray, np.ndarray]:
    """The box a generic teacher's students are trained on: each end at the extractor's declared limit
    (adm_min_val, cambi/speed/motion max_val: where the lowest-quality and most extreme frames land), else
    the support vectors' raw span (``Teacher.feature_box``) widened by WIDEN, inside the physical bounds."""
    lo, hi = teacher.feature_box()
    plo, phi = physical_bounds(teacher)
    dlo, dhi = declared_limits(teacher)
    w = hi - lo
    low = np.where(np.isfinite(dlo), dlo, np.maximum(lo - WIDEN * w, plo))
    high = np.where(np.isfinite(dhi), dhi, np.minimum(hi + WIDEN * w, phi))
    return low, high


def sample_generic(teacher, n: int, seed: int) -> np.ndarray:
    """``n`` vectors [n, F] (canonical order) for a teacher outside the v0.6.1 family: near a random
    support vector (the model's training data: real frames), between two, or uniform over ``generic_box``;
    then AT_LIMIT of the rows get each declared limit exactly, and, with a chroma correction, 5% exact zeros
    of speed_chroma (grayscale or tiny chroma)."""
    m = teacher.model
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x6E6E]))
    sv = m.denormalise(m.support_vectors, slice(1, None))[:, m.canonical_to_model()]
    lo, hi = generic_box(teacher)
    w = hi - lo
    counts = np.floor(np.array(list(GENERIC_MIX.values())) * n).astype(int)
    counts[0] += n - counts.sum()
    near = sv[rng.integers(0, len(sv), counts[0])] + rng.normal(0.0, 0.05, (counts[0], len(lo))) * w
    t = rng.random((counts[1], 1))
    between = t * sv[rng.integers(0, len(sv), counts[1])] + (1 - t) * sv[rng.integers(0, len(sv), counts[1])]
    between += rng.normal(0.0, 0.02, between.shape) * w
    box = rng.uniform(lo, hi, (counts[2], len(lo)))
    x = np.clip(np.concatenate([near, between, box]), *physical_bounds(teacher))
    for j, limit in [(j, v) for ends in declared_limits(teacher) for j, v in enumerate(ends) if np.isfinite(v)]:
        x[rng.random(len(x)) < AT_LIMIT, j] = limit
    if m.chroma_correction is not None:
        g = next(i for i, f in enumerate(teacher.features) if f.startswith("speed_chroma"))
        x[rng.random(len(x)) < 0.05, g] = 0.0
    return x[rng.permutation(len(x))]


def sample_for(teacher, n: int, seed: int, mix: dict[str, float] | None = None) -> np.ndarray:
    """The pretraining draw of a teacher: the v0.6.1 family's manifold sampler, else ``sample_generic``."""
    if teacher.family == "v0.6.1":
        return sample_features(n, seed, mix)
    return sample_generic(teacher, n, seed)


def feature_floor(teacher) -> np.ndarray:
    """Lower limits for jittered copies of corpus rows (motion >= 0 for the v0.6.1 family)."""
    if teacher.family == "v0.6.1":
        return np.array([-np.inf] * 5 + [0.0])
    return physical_bounds(teacher)[0]


def synthetic_set(
    n: int, seed: int, mix: dict[str, float] | None = None, clip: bool = True, *, teacher
) -> tuple[np.ndarray, np.ndarray]:
    """``(X [n,F] float64, y [n] float64)``: synthetic vectors and their scores by ``teacher`` (a teacher.Teacher).

    ``clip=False`` gives the teacher's score before its clip (a smooth target).
    """
    x = sample_for(teacher, n, seed, mix)
    return x, teacher.predict(x, clip=clip)


#: The engine checks' own synthetic sample (the export's card, the gate): a seed no training draw uses
#: (pretraining 1234..1236, fine-tuning per fold).
SYNTHETIC_SEED = 0x6A7E
SYNTHETIC_ROWS = 10_000


def synthetic_rows(teacher, n: int = SYNTHETIC_ROWS, seed: int = SYNTHETIC_SEED) -> np.ndarray:
    """The engine checks' synthetic sample for ``teacher``: its pretraining draw at an unused seed."""
    return sample_for(teacher, n, seed)


__all__ = ["BOX_LOW", "BOX_HIGH", "DEFAULT_MIX", "SYNTHETIC_ROWS", "SYNTHETIC_SEED", "declared_limits", "feature_floor",
           "generic_box", "physical_bounds", "sample_features", "sample_for", "sample_generic", "synthetic_rows",
           "synthetic_set"]
