"""Subjective DMOS studies (SRGAN-KD paper, Tables 3-4): blinded export and scoring.

`export.export_study` writes the rating set and its hidden key; `score.score_files` validates
the raters' CSV and computes DMOS per the paper's eqs. 4-6 (see `score` for the sign question).
"""

from .export import ExportResult, export_study
from .score import DmosResult, RatingsError, compute_dmos, read_key, read_ratings, score_files

__all__ = ["ExportResult", "export_study", "DmosResult", "RatingsError", "compute_dmos",
           "read_key", "read_ratings", "score_files"]
