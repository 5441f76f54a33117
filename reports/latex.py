"""PaperTables as LaTeX: booktabs rules, best in \\textbf, second in \\underline, the metric's
direction (arrow) in the header, published values as a smaller italic second row.

`table_tex` gives one `table` environment (a fragment to \\input in a paper); `document_tex` a
standalone document that \\inputs the fragments and compiles with pdflatex (booktabs, graphicx).
Every piece of text from results or matrices (labels, test set names) goes through `escape`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .paper_tables import PaperTable, TableCell, TableRow

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': "''"}
_UNICODE = {"×": r"$\times$", "−": "-", "±": r"$\pm$", "—": "---", "–": "--", "↑": r"$\uparrow$",
            "↓": r"$\downarrow$", "≈": r"$\approx$", "…": r"\ldots{}", "µ": r"$\mu$"}
_ARROWS = {"↑": r"$\uparrow$", "↓": r"$\downarrow$", "": ""}


def escape(text: object) -> str:
    """Plain text -> LaTeX that prints it literally (specials escaped, common symbols mapped,
    other non-ASCII characters left to inputenc's utf8)."""
    out = []
    for ch in str(text):
        out.append(_SPECIAL.get(ch) or _UNICODE.get(ch) or ch)
    return "".join(out)


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9:.-]+", "-", text).strip("-") or "x"


def _cell(cell: TableCell) -> str:
    if not cell.number:
        return r"\textit{" + escape(cell.text) + "}" if cell.text and cell.text != "—" else "--"
    text = escape(cell.text)
    if cell.mark == "best":
        text = r"\textbf{" + text + "}"
    elif cell.mark == "second":
        text = r"\underline{" + text + "}"
    if cell.spread:
        text += r"{\scriptsize$\pm$" + escape(cell.spread) + "}"
    return text


def _pub_cell(cell: TableCell) -> str:
    return r"{\footnotesize\textit{" + escape(cell.text) + "}}" if cell.text else ""


def _row(first: str, row: TableRow, table: PaperTable) -> list[str]:
    label = escape(row.label)
    if row.reference:
        label = r"\textit{" + label + "}"
    params = [escape(row.params)] if table.show_params else []
    lines = [" & ".join([first, label] + params + [_cell(c) for c in row.cells]) + r" \\"]
    if row.published is not None:
        pub_params = [""] if table.show_params else []
        lines.append(" & ".join(["", r"\quad{\footnotesize\textit{published}}"] + pub_params
                                + [_pub_cell(c) for c in row.published]) + r" \\")
    return lines


def table_tex(table: PaperTable, label_prefix: str = "tab:srkd") -> str:
    """One `table` environment (booktabs) for `table`."""
    n = len(table.columns)
    lead = 3 if table.show_params else 2
    spec = "ll" + ("r" if table.show_params else "") + "c" * n
    metric = escape(table.label) + (" " + _ARROWS[table.arrow] if table.arrow else "")
    head_first = ["", ""] + ([""] if table.show_params else [])
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small",
             r"\caption{" + escape(table.caption()) + "}",
             r"\label{" + f"{label_prefix}-{_label(table.id)}" + "}",
             r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
             r"\begin{tabular}{" + spec + "}", r"\toprule",
             " & ".join(head_first + [r"\multicolumn{" + str(n) + "}{c}{" + metric + "}"]) + r" \\",
             r"\cmidrule(lr){" + f"{lead + 1}-{lead + n}" + "}",
             " & ".join(["Scale", "Method"] + (["Params"] if table.show_params else [])
                        + [escape(c) for c in table.columns]) + r" \\",
             r"\midrule"]
    for k, block in enumerate(table.blocks):
        if k:
            lines.append(r"\midrule")
        for i, row in enumerate(block.rows):
            lines += _row(r"$\times$" + str(block.scale) if i == 0 else "", row, table)
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def document_tex(fragments: Sequence[str], title: str) -> str:
    """A standalone article that \\inputs each fragment (paths relative to the document)."""
    body = "\n".join(r"\input{" + f + "}" for f in fragments)
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{booktabs}",
        r"\usepackage{graphicx}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\begin{document}",
        r"\section*{" + escape(title) + "}",
        body,
        r"\end{document}",
        ""])
