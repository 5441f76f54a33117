"""HTML reports of srkd-bench results: paper-style tables, published deltas, plots."""

from .render import render_report
from .tables import mark_best, summary_table, with_published

__all__ = ["render_report", "summary_table", "mark_best", "with_published"]
