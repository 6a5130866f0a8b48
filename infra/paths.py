"""Where the app finds what it deploys."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
SHARED_PACKAGE = ROOT / "layers" / "shared" / "hookwise"
DEPENDENCIES = ROOT / "layers" / "deps" / "requirements.txt"
CONFIG = ROOT / "hookwise.yaml"
BUILD = ROOT / "build"
