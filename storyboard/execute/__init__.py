"""The execute phase: a plan's generations created, polled and downloaded, journaled at every
step, so no paid job is lost and none is paid for twice.

``run(plan, client=..., journal=..., workspace=..., api=...)`` is the library's entry; the
modules are its stages: ``workspace`` (where files go), ``options``, ``prepare`` (what each
generation needs), ``preflight`` (before the first paid create), ``executor``,
``manifest``, ``status`` and ``rescue`` (job ids the journal could not take).
"""

from storyboard.execute.entry import run

__all__ = ["run"]
