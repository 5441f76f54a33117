"""The `bench` command line (click). Each command lives in its own module of this package."""

from __future__ import annotations

from typing import Any

import click

from ..errors import BenchError


class BenchGroup(click.Group):
    """Turns BenchError into one line on stderr and exit code 2 (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BenchError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=BenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="srkd-bench")
def main() -> None:
    """srkd-bench: distillation methods for super-resolution, trained, scored and reported."""


def _register_commands() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}")


_register_commands()
