"""The conditions a number was made under: hardware, library versions, git revision."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

_PACKAGES = ("srkd-bench", "torch", "torchvision", "numpy", "pyiqa", "lpips", "pytorch-fid", "pandas")


def hardware(device: torch.device | None = None) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        import os

        cores = os.cpu_count()
    except Exception:  # pragma: no cover
        cores = None
    gpu = torch.cuda.get_device_name(device) if (device is not None and device.type == "cuda") else "none"
    return f"CPU: {cpu} ({cores} cores); GPU: {gpu}; {platform.system()} {platform.release()}"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_revision() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def describe(device: torch.device | None = None) -> dict[str, object]:
    return {"hardware": hardware(device), "versions": versions(), "git_revision": git_revision()}
