"""Reading every HR image of a dataset from a folder already found (or its embedded copy).

No lookup and no download here: `fetch` (building a derived set from its source's images) and
`sets` (the public loaders) both read HR images through this module, so neither imports the other
for it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .embedded import load_embedded
from .manifest import dataset_info
from .verify import hr_files, read_hr


def read_hr_named(name: str, root: str | None, verify: bool) -> list[tuple[str, np.ndarray]]:
    """(stem, HR) of every image of dataset `name` under `root` (None: embedded), decoded and
    verified (no cache)."""
    info = dataset_info(name)
    if info.embedded:
        return [(e.name, img) for e, img in load_embedded(info, verify)]
    items = hr_files(info, Path(root), verify)
    return [(stem, read_hr(info, stem, path, entry, verify)) for stem, path, entry in items]
