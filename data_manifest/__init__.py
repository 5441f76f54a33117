"""Datasets of srkd-bench: the manifest (datasets.yaml), verified loading, download, MATLAB imresize.

    list_datasets() -> list[str];  dataset_info(name) -> DatasetInfo
    canonical_name("Set5") -> "set5"; display_name("b100") -> "B100"   # CLI / report spellings
    resolve_data_dir(data_dir) -> Path | None      # argument, else $BENCH_DATA_DIR, else None
    load_eval_set(name, scale, data_dir=None, verify=True) -> list[EvalPair]
    load_train_images(name, data_dir=None, verify=True) -> list[np.ndarray]

A dataset folder is looked up in the data dir (EDSR layout, <dir>/<Folder> or <dir>/*/<Folder>),
then in the cache ($BENCH_CACHE_DIR or ~/.cache/srkd-bench/data), else downloaded with pooch.
Images are checked against pinned pixel hashes (not file bytes: mirrors differ in metadata).
"""

from .imresize import matlab_imresize
from .locate import cache_dir, resolve_data_dir
from .manifest import (
    DatasetInfo,
    ImageEntry,
    Source,
    canonical_name,
    dataset_info,
    list_datasets,
)
from .names import display_name
from .pixels import decode_rgb, modcrop, pixel_sha256
from .sets import EvalPair, clear_cache, load_eval_set, load_hr_named, load_train_images

__all__ = [
    "DatasetInfo",
    "EvalPair",
    "ImageEntry",
    "Source",
    "cache_dir",
    "canonical_name",
    "clear_cache",
    "dataset_info",
    "decode_rgb",
    "display_name",
    "list_datasets",
    "load_eval_set",
    "load_hr_named",
    "load_train_images",
    "matlab_imresize",
    "modcrop",
    "pixel_sha256",
    "resolve_data_dir",
]
