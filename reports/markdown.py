"""PaperTables as Markdown (GitHub-flavoured) for READMEs: best in **bold**, second underlined with
<ins>, the metric's direction in the header, published values as an italic second row.

Every piece of text from results or matrices goes through `escape`, so a label cannot open a
link, an HTML tag or a new table cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .paper_tables import PaperTable, TableCell, TableRow

_ESCAPED = re.compile(r"([\\`*_{}\[\]<>|~&])")


def escape(text: object) -> str:
    """Backslash-escape Markdown punctuation (CommonMark prints an escaped character literally);
    line breaks become spaces."""
    return _ESCAPED.sub(r"\\\1", " ".join(str(text).split()))


def _cell(cell: TableCell) -> str:
    if not cell.number:
        return f"*{escape(cell.text)}*" if cell.text and cell.text != "—" else "—"
    text = escape(cell.text)
    if cell.mark == "best":
        text = f"**{text}**"
    elif cell.mark == "second":
        text = f"<ins>{text}</ins>"
    return text + (f" ± {escape(cell.spread)}" if cell.spread else "")


def _rows(first: str, row: TableRow, table: PaperTable) -> list[str]:
    label = f"*{escape(row.label)}*" if row.reference else escape(row.label)
    params = [escape(row.params)] if table.show_params else []
    out = ["| " + " | ".join([first, label] + params + [_cell(c) for c in row.cells]) + " |"]
    if row.published is not None:
        out.append("| " + " | ".join(["", "&nbsp;&nbsp;*published*"] + ([""] if table.show_params else [])
                                     + [f"*{escape(c.text)}*" if c.text else "" for c in row.published]) + " |")
    return out


def table_md(table: PaperTable) -> str:
    """A heading, the caption and the table."""
    head = ["Scale", "Method"] + (["Params"] if table.show_params else []) + \
        [f"{escape(c)} {table.arrow}".strip() for c in table.columns]
    align = ["---", "---"] + (["--:"] if table.show_params else []) + ["--:"] * len(table.columns)
    lines = [f"### {escape(table.label)} {table.arrow}".rstrip(), "", escape(table.caption()), "",
             "| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
    for block in table.blocks:
        for i, row in enumerate(block.rows):
            lines += _rows(f"×{block.scale}" if i == 0 else "", row, table)
    return "\n".join(lines) + "\n"


def document_md(tables: Sequence[PaperTable], title: str) -> str:
    parts = [f"## {escape(title)}", ""]
    for table in tables:
        parts += [table_md(table), ""]
    return "\n".join(parts)
