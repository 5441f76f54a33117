"""The `bench` command line (click). Each command lives in its own module of this package."""

from __future__ import annotations

import os
import warnings
from typing import Any

import click

# Before torch loads OpenMP: on a busy CPU, threads that spin while waiting for each other made
# a training step ~10x slower (docs/benchmarks.md, step time); passive waiting costs little idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ..errors import BenchError


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on stderr as one line each ("warning: ..."), like the CLI's errors."""
    return "warning: " + " ".join(str(message).split()) + "\n"


warnings.formatwarning = _one_line_warning


class BenchGroup(click.Group):
    """The one top-level handler: whatever fails in a command ends in one line on stderr.

    A BenchError (bad input) prints its own message; an OSError (a folder that cannot be
    created, a file that cannot be read or written) names the path and the cause; anything else
    (a plug-in that raises on import, a file that cannot be decoded, ...) names the exception
    and where it was raised (the deepest frame of the project or of a plug-in, not of a library).
    All exit with code 2; a failed cell inside a matrix stays a recorded failure (exit 1).
    `bench --debug ...` (or BENCH_DEBUG=1) lets the traceback through, for bug reports.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            click.echo("Error: " + " ".join(one_line(exc).split()), err=True)
            ctx.exit(getattr(exc, "exit_code", 2) if isinstance(exc, BenchError) else 2)


def one_line(exc: BaseException) -> str:
    """The exception as one line naming the thing that failed and the cause."""
    if isinstance(exc, BenchError):
        return str(exc)
    hint = " (run `bench --debug ...` for the traceback)"
    if isinstance(exc, OSError) and exc.filename is not None:
        other = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        return f"{_doing(exc)}{exc.filename}{other}: {exc.strerror or exc}"
    if isinstance(exc, SyntaxError):
        return f"{exc.filename}, line {exc.lineno}: SyntaxError: {exc.msg}{hint}"
    cause = " ".join(f"{type(exc).__name__}: {exc}".split())
    where = _where(exc)
    return f"{cause} ({where}){hint}" if where else cause + hint


_VERBS = {"mkdir": "cannot create folder ", "makedirs": "cannot create folder ", "open": "cannot open ",
          "read_text": "cannot read ", "read_bytes": "cannot read ", "write_text": "cannot write ",
          "write_bytes": "cannot write ", "replace": "cannot move ", "rename": "cannot move ", "unlink": "cannot remove "}


def _doing(exc: BaseException) -> str:
    """What the failing call was doing ("cannot create folder "), from the innermost known call."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    return next((_VERBS[f.name] for f in reversed(frames) if f.name in _VERBS), "")


def _where(exc: BaseException) -> str:
    """file:line of the deepest frame that is the project's or a plug-in's, not a library's."""
    import sysconfig
    import traceback

    libraries = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    for frame in reversed(frames):
        name = frame.filename
        if name.startswith("<") or name.startswith(libraries) or "site-packages" in name:
            continue
        return f"at {_short(name)}:{frame.lineno} in {frame.name}"
    return f"in {frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _short(path: str) -> str:
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


@click.group(cls=BenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="srkd-bench")
@click.option("--debug", is_flag=True, envvar="BENCH_DEBUG",
              help="Show the full traceback of an error (for bug reports) instead of one line.")
def main(debug: bool) -> None:
    """srkd-bench: distillation methods for super-resolution, trained, scored and reported."""


def _register_commands() -> None:
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{info.name}")


_register_commands()
