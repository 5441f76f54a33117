"""Fixtures for the data_manifest tests: an isolated download cache, the offline data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
_HAVE_SHARED = (SHARED_DATA / "sr-benchmark").is_dir()


def needs_shared(func):
    """Mark a test as needing ../shared/data and skip it when that folder is absent."""
    return pytest.mark.needs_shared(pytest.mark.skipif(not _HAVE_SHARED, reason="needs ../shared/data")(func))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets an empty download cache, no BENCH_DATA_DIR, and no decoded-set cache."""
    import data_manifest

    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    data_manifest.clear_cache()
    yield
    data_manifest.clear_cache()
