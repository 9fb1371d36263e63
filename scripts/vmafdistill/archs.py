"""The student archs: each arch's default hparams (``ARCHS``), as plain data (no torch: the
workflow reads it at DAG time). ``students.build_student`` builds the modules."""

from __future__ import annotations

import copy

#: arch -> default hparams. ``kind``/``hidden``/``act`` build the module; the ``pre_*``/``ft_*`` keys
#: are training knobs read by ``train.py`` (``train_base.TRAIN_DEFAULTS`` fill the rest). Budgets were set
#: by measurement on 1 CPU thread: pretraining (once per arch, corpus-free) ~3 / 55 / 18 / 48 / 0 s (exact: at
#: its former 12000 + 3000 steps), fine-tuning per fold ~0.5 / 1.2 / 1.4 / 2.9 / 1.5 s (in the ARCHS order).
ARCHS: dict[str, dict] = {
    "linear": {"kind": "linear", "pre_steps": 3000, "pre_lr": 1e-2, "ft_steps": 300, "ft_lr": 1e-3},
    # nano: 1,613 parameters, fp32 ONNX 8.5 KB (9.4 KB with v1.0.16's chroma fix and transform; < 10 KB); GELU
    # over SiLU, 6-26-26-26-1 with 40000 steps over 6-32-32-1 with 20000 on the tuning corpus (benchmarks/tune.py,
    # nano_shape*: clip RMSE 0.0066 vs 0.0110, mean of vmaf_v0.6.1, 4K, phone and v1.0.16_3d0h)
    "nano": {"kind": "mlp", "hidden": (26, 26, 26), "act": "gelu", "pre_steps": 40000, "pre_lr": 2e-2},
    "mlp_64x2": {"kind": "mlp", "hidden": (64, 64), "act": "gelu", "pre_steps": 16000, "pre_lr": 2e-2},
    "mlp_128x3": {"kind": "mlp", "hidden": (128, 128, 128), "act": "gelu", "pre_steps": 12000, "pre_lr": 1e-2},
    # engine-exact: integer-valued float32 arithmetic, every partial sum < 2^24 (vmafdistill.exact);
    # 6-48-48-1 with a rounded-knee ReLU ("srelu"), float pretraining then quantisation-aware training
    # budgets from the tuning corpus (benchmarks/tune.py, exact_recipe, exact_budget2): 24000 float + 6000 QAT
    # steps took v1.0.16_3d0h's exact student from 0.0176 to 0.0113 clip RMSE there, 3d0h_2160's from 0.0493 to
    # 0.0074; 48000 + 12000 took vmaf_4k_v0.6.1's from 0.0203 to 0.0114 and the phone model's from 0.0226 to 0.0150
    "exact": {"kind": "exact", "hidden": (48, 48), "pre_steps": 48000, "qat_steps": 12000},
    # starts as the exact teacher: no pretraining, a short fine-tune (early stopping keeps it if no gain)
    "reweight_svm": {"kind": "reweight_svm", "pre_steps": 0, "ft_steps": 150, "ft_batch": 256,
                     "ft_replay_batch": 256, "ft_lr": 1e-3, "ft_val_every": 25},
}


def resolve_hparams(arch: str, hparams: dict | None = None) -> dict:
    """Default hparams of ``arch`` updated with ``hparams``."""
    if arch not in ARCHS:
        raise KeyError(f"unknown arch {arch!r}; known: {sorted(ARCHS)}")
    hp = copy.deepcopy(ARCHS[arch])
    hp.update(hparams or {})
    return hp


def needs_pretraining(arch: str, hparams: dict | None = None) -> bool:
    """Whether ``arch`` has a corpus-free pretraining job: not ``linear`` (fitted in closed form in its
    fold job) and not an arch with no pretraining steps (``reweight_svm`` starts as the exact teacher)."""
    hp = resolve_hparams(arch, hparams)
    return hp["kind"] != "linear" and int(hp.get("pre_steps", 0)) > 0



__all__ = ["ARCHS", "needs_pretraining", "resolve_hparams"]
