"""The on-disk MATLAB-bicubic LR cache (implemented in data_manifest, which eval sets also use)."""

from data_manifest.lr_cache import cached_lr, lr_cache_dir

__all__ = ["cached_lr", "lr_cache_dir"]
