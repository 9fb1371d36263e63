"""Saving and loading trained students (torch state + the metadata that travels with them)."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from .atomic import write_bytes
from .students import build_student


def save_student(path: str | Path, model: torch.nn.Module, arch: str, hparams: dict, meta: dict) -> None:
    """Atomically write a student: arch, hparams, state_dict (scaler buffers included), metadata."""
    buf = io.BytesIO()
    torch.save({"arch": arch, "hparams": hparams, "state_dict": model.state_dict(), "meta": meta}, buf)
    write_bytes(path, buf.getvalue())


def load_student(path: str | Path) -> tuple[torch.nn.Module, dict]:
    blob = torch.load(path, map_location="cpu", weights_only=False)
    model = build_student(blob["arch"], blob["hparams"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, blob
