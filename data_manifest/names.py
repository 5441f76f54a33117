"""Dataset names as users type them (Set5, BSD100, set5) and as reports print them (Set5)."""

from __future__ import annotations

from benchmarks.errors import BenchError

from .manifest import dataset_info, list_datasets


def canonical_name(name: str) -> str:
    """The manifest name of `name`, matching names and aliases case-insensitively."""
    wanted = name.strip().lower()
    for candidate in list_datasets():
        info = dataset_info(candidate)
        if wanted == candidate or wanted in {a.lower() for a in info.aliases} or wanted == info.folder.lower():
            return candidate
    raise BenchError(f"unknown dataset {name!r}; valid choices: {', '.join(list_datasets())}")


def display_name(name: str) -> str:
    """How papers and reports print a dataset: the EDSR folder name where it is one word."""
    info = dataset_info(canonical_name(name))
    return info.folder if info.layout == "edsr" and "/" not in info.folder else info.name
