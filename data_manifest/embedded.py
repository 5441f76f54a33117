"""The embedded default sets: photos shipped inside the scikit-image wheel (no download)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.errors import MissingFileError

from .manifest import DatasetInfo, ImageEntry
from .pixels import file_sha256, pixel_sha256, to_rgb


def skimage_data_dir() -> Path:
    """scikit-image's installed data folder (never skimage.data's fetchers, which may download)."""
    import skimage

    return Path(skimage.__file__).resolve().parent / "data"


def read_embedded(path: Path) -> np.ndarray:
    """Read one bundled photo with skimage.io.imread -> uint8 HxWx3 RGB."""
    import skimage
    from skimage.io import imread

    if not path.is_file():
        raise MissingFileError(
            f"embedded image {path.name} is not in scikit-image {skimage.__version__}'s data folder "
            f"{path.parent}; install a scikit-image wheel that bundles it (>=0.21)"
        )
    try:
        return to_rgb(np.asarray(imread(path), dtype=np.uint8))
    except Exception as exc:  # noqa: BLE001 - any decoder failure is a bad file
        raise MissingFileError(f"cannot decode embedded image {path}: {exc}") from None


def load_embedded(info: DatasetInfo, verify: bool = True) -> list[tuple[ImageEntry, np.ndarray]]:
    """Every image of an embedded set, cropped as the manifest says and checked against its hash."""
    data = skimage_data_dir()
    out = []
    for entry in info.images:
        path = data / (entry.source or "")
        full = read_embedded(path)
        top, left, h, w = entry.crop or (0, 0, full.shape[0], full.shape[1])
        if full.shape[0] < top + h or full.shape[1] < left + w:
            raise MissingFileError(
                f"embedded image {path}: size {full.shape[:2]} is smaller than the manifest's crop "
                f"{entry.crop}; this scikit-image changed the photo"
            )
        img = np.ascontiguousarray(full[top : top + h, left : left + w])
        if verify and entry.sha256:
            actual = pixel_sha256(img)
            if actual != entry.sha256 and not (entry.file_sha256 and file_sha256(path) == entry.file_sha256):
                import skimage

                raise MissingFileError(
                    f"embedded image {path} (scikit-image {skimage.__version__}) fails its pixel check: "
                    f"expected sha256 {entry.sha256}, got {actual}"
                )
        out.append((entry, img))
    return out
