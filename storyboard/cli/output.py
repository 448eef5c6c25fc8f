"""Writing to the terminal without importing click, for ``storyboard validate FILE...``.

pre-commit runs that command on every commit, and importing click was a tenth of its
time (issue 9's fast start); ``echo`` is the one way the output of that path is written,
through click and without it alike.
"""

from __future__ import annotations

import sys

_ESCAPE = "\x1b"
_WINDOWS = sys.platform == "win32"  # click writes to a Windows console its own way


def echo(text: str, *, err: bool = False) -> None:
    """``click.echo(text, nl=False, err=err)``, byte for byte, without importing click for
    plain text. What click would change it writes itself: text holding an escape (click
    strips ANSI codes on a stream that is no terminal), text the stream cannot encode
    (click re-opens an ASCII-configured stream as UTF-8), a missing stream, Windows."""
    stream = sys.stderr if err else sys.stdout
    if stream is not None and _ESCAPE not in text and not _WINDOWS:
        try:
            stream.write(text)  # encodes all of it before writing any of it
        except UnicodeEncodeError:
            pass
        else:
            stream.flush()
            return
    import click

    click.echo(text, nl=False, err=err)
