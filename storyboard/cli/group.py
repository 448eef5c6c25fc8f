"""The `storyboard` group: each command's module is imported when that command runs.

A command's module loads click's option machinery for its options; ``storyboard plan``
has no use for those of ``cut`` or ``sandbox``. The group knows each command by the
dotted name of its object (click's documented lazy-loading pattern); listing the
commands for ``--help`` loads them all, as it must to show their help.
"""

from __future__ import annotations

import importlib

import click

from storyboard import __version__

COMMANDS = {  # name: "module.object"
    "validate": "storyboard.cli.validate.validate",
    "compile": "storyboard.cli.validate.compile_command",
    "schema": "storyboard.cli.validate.schema",
    "init": "storyboard.cli.validate.init",
    "plan": "storyboard.cli.plan.plan",
    "diff": "storyboard.cli.plan.diff",
    "run": "storyboard.cli.run.run",
    "reroll": "storyboard.cli.run.reroll",
    "cut": "storyboard.cli.media.cut",
    "pick": "storyboard.cli.media.pick",
    "report": "storyboard.cli.media.report",
    "status": "storyboard.cli.status.status",
    "sandbox": "storyboard.cli.sandbox.sandbox",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, by name."""

    def __init__(self, *args: object, lazy_commands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module, name = self.lazy_commands[cmd_name].rsplit(".", 1)
        command = getattr(importlib.import_module(module), name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="storyboard")
def cli() -> None:
    """Compile storyboards into Kling O3 video requests, plan their cost, and render them."""
