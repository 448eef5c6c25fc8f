"""The media phase: what reads, verifies and makes video.

PyAV (FFmpeg's libraries inside its wheels, so no system ``ffmpeg``) and Pillow are
an optional extra, ``storyboard[media]``: a plan-only CI job installs
``storyboard`` without them and never pays for importing them. So no module of
the package imports ``av`` or ``PIL`` at its top; the functions here import them
when called, after ``require`` has turned their absence into one line naming the
install command. ``timeline`` needs neither: the plan shows it before anything is paid.
"""

from __future__ import annotations

import importlib
import sys
from importlib.util import find_spec
from types import ModuleType

from storyboard.errors import MediaMissing

INSTALL = "pip install 'storyboard[media]'"


def require(purpose: str) -> None:
    """Raise ``MediaMissing`` (one line: what needs it, how to install) unless PyAV and
    Pillow are importable. Finding them imports nothing, so this is cheap to call early,
    before anything is paid for."""
    if not (_installed("av") and _installed("PIL")):
        raise MediaMissing(f"{purpose} needs PyAV and Pillow, which are not installed: "
                           f"{INSTALL}")


def _installed(name: str) -> bool:
    """``find_spec(name) is not None``, the search done once: a run checks every video it
    downloads, and Pillow (not imported by then) was searched for on ``sys.path`` each
    time. What ``sys.modules`` holds still counts first, as for ``find_spec``."""
    if name in sys.modules:
        return sys.modules[name] is not None
    if name not in _found and find_spec(name) is not None:
        _found.add(name)
    return name in _found


_found: set[str] = set()  # modules found installed (they do not go away during a run)


def load(module: str, purpose: str = "assembling video") -> ModuleType:
    """``av``, ``PIL.Image``…, imported when first used, after ``require``."""
    require(purpose)
    return importlib.import_module(module)
