"""Plain-text tables for the terminal: the one formatter every command's table goes through."""


def table(rows, widest=None):
    """Rows of cells as aligned columns, a rule under the first (header) row.

    ``widest``: ``{column index: width}`` for columns whose long cells are cut short with "...".
    """
    rows = [[str(c) for c in row] for row in rows]
    if not rows:
        return ""
    count = max(len(r) for r in rows)
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(count)]
    for column, width in (widest or {}).items():
        if column < count:
            widths[column] = min(widths[column], width)
            for row in rows:
                if column < len(row) and len(row[column]) > width:
                    row[column] = row[column][: width - 3] + "..."
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
