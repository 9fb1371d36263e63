"""Shared test set-up: the library under scripts/ is importable as `vmafdistill`."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
