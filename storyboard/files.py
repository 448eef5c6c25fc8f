"""Reading a user's file: never more than a limit, whatever the path names.

Every file storyboard reads — a storyboard, a rows file, an include, a price table, a
saved plan — is input, and a path can name ``/dev/zero``, a 40 MB file or a folder.
``read_limited`` is the one place that reads them: at most ``limit`` bytes are read
(one more tells that the file is larger), and a problem is a reason a user can act on.
"""

from __future__ import annotations

import os

MIB = 1024 * 1024


class Unreadable(Exception):
    """Why a file cannot be used, worded to follow its name: ``f"{name}: {reason}"``."""


class TooLarge(Unreadable):
    """The file holds more than the limit (``/dev/zero`` never ends)."""


def describe_size(size: int) -> str:
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size:,} bytes"


def read_limited(path: str | os.PathLike[str], limit: int, *, kind: str = "file") -> bytes:
    """The bytes of the file at ``path``, if it holds at most ``limit`` of them.

    ``kind`` names what the file should be ("price table", "include"), for the reason.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise Unreadable("no such file; check the path and the current directory") from None
    except IsADirectoryError:
        raise Unreadable(f"is a directory; give the path of a {kind}") from None
    except PermissionError:
        raise Unreadable("permission denied; make the file readable") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc}); check the path") from None
    if len(data) > limit:
        raise TooLarge(f"the file is larger than {describe_size(limit)}; a {kind} is a "
                         "small text file — check that this is the right file")
    return data


__all__ = ["TooLarge", "Unreadable", "describe_size", "read_limited"]
