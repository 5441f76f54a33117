"""Dataset names as users type them (Set5, BSD100, set5) and as reports print them (Set5)."""

from __future__ import annotations

from .manifest import canonical_name, dataset_info

__all__ = ["canonical_name", "display_name"]


def display_name(name: str) -> str:
    """How papers and reports print a dataset: the EDSR folder name where it is one word."""
    info = dataset_info(canonical_name(name))
    return info.folder if info.layout == "edsr" and "/" not in info.folder else info.name
