"""The optional media stack: PyAV (FFmpeg's libraries in its wheels) and Pillow.

They are the ``media`` extra, so a plan-only CI job installs neither; a command that
needs them and lacks them says, in one line, how to get them.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from storyboard.errors import MediaMissing

INSTALL = "pip install 'storyboard[media]'"


def load(module: str) -> ModuleType:
    """``av`` or ``PIL.Image``…, imported on first use."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MediaMissing(f"assembling video needs PyAV and Pillow, which are not "
                           f"installed: {INSTALL}") from exc
