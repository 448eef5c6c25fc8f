"""``storyboard init``: a starter storyboard a team can edit, plus the schema for editors."""

from __future__ import annotations

import re
from pathlib import Path

from storyboard.errors import UsageError
from storyboard.resources import STORYBOARD_SCHEMA, schema_path
from storyboard.store import write_atomic

STARTER_FILE = "storyboard.yaml"

STARTER = """\
# yaml-language-server: $schema={schema}
#
# A starter storyboard. In this folder, `storyboard plan {file}` shows what it would
# cost; `storyboard run {file} --sandbox` renders it against the local sandbox for free.
storyboard: 1
name: {name}

vars:
  product: Lumen desk lamp
  look: "soft morning light, 35mm, shallow depth of field"

defaults:
  mode: std                      # std | pro
  aspect_ratio: "{{{{ '9:16' if format == 'tall' else '16:9' }}}}"
  sound: "off"                   # on | off

variants:
  id: "{{{{ format }}}}"
  matrix:
    format: [wide, tall]

budget:
  max_cost_usd: 5

clips:
  - id: opener                   # given shots: durations fixed or shared by weight
    duration: 8
    shots:
      - prompt: "A quiet studio at dawn, {{{{ look }}}}"
        duration: 3
      - prompt: "The {{{{ product }}}} switches on and fills the desk with light, {{{{ look }}}}"
  - id: hero                     # a single shot
    prompt: "The {{{{ product }}}} turning slowly on a white table, {{{{ look }}}}"
    duration: 5
"""


GITIGNORE = ".gitignore"
IGNORED = (".storyboard/", "renders/")  # the journal, cache and renders: rebuilt, never committed
IGNORE_NOTE = "# storyboard: state and renders are rebuilt from the journal, never committed"


def write_starter(directory: Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Write ``storyboard.yaml``, a copy of the schema its modeline points to, and a
    ``.gitignore`` for state and renders (added to one that exists, never replacing it)."""
    target = directory / STARTER_FILE
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it, or choose "
                         "another folder")
    from storyboard.compile.names import slug as make_slug

    slug = name or make_slug(directory.resolve().name, "name", "my-storyboard")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", slug):
        raise UsageError(f"--name {slug!r}: use lowercase letters, digits, '-' and '_'")
    schema_copy = directory / STORYBOARD_SCHEMA
    write_atomic(target, STARTER.format(schema=STORYBOARD_SCHEMA, file=STARTER_FILE,
                                        name=slug).encode("utf-8"))
    write_atomic(schema_copy, schema_path(STORYBOARD_SCHEMA).read_bytes())
    ignore = _ignore_state(directory / GITIGNORE)
    return [target, schema_copy, *([ignore] if ignore else [])]


def _ignore_state(path: Path) -> Path | None:
    """The ``.gitignore`` with the state and renders folders in it; None if it had them."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    have = {line.strip() for line in text.splitlines()}
    missing = [entry for entry in IGNORED
               if not have & {entry, entry.rstrip("/"), "/" + entry, "/" + entry.rstrip("/")}]
    if not missing:
        return None
    if text and not text.endswith("\n"):
        text += "\n"
    write_atomic(path, (text + "\n".join([IGNORE_NOTE, *missing]) + "\n").encode("utf-8"))
    return path
