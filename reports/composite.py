"""The index page of a composite matrix's report (one summary row per paper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2

TEMPLATES = Path(__file__).with_name("templates")


def render_index(out_dir: Path, name: str, description: str, profile: str, summaries: Sequence[Any],
                 conditions: Mapping[str, Any]) -> Path:
    """Write out_dir/index.html: each paper's link and its reproduced / differ / not computed counts."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    totals = {k: sum(getattr(s, k) for s in summaries if s.comparable)
              for k in ("published", "reproduced", "differ", "not_computed")}
    html = env.get_template("composite.html.j2").render(
        title=f"srkd-bench: {name} ({profile} profile)", name=name, description=description, profile=profile,
        summaries=summaries, totals=totals, comparable=any(s.comparable for s in summaries),
        conditions=conditions)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
