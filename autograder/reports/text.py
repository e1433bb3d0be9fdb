"""Plain text: the one table formatter every command's table goes through, the progress line, a number of points."""
import sys
import time


def number(value):
    """A score as people write it: ``22``, ``7.5``, ``0.3333``."""
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


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


class Progress:
    """done/total, rate, ETA and the last student on stderr: one line rewritten on a terminal, else a line each."""

    def __init__(self, total, stream=None, enabled=True):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr
        self.enabled = enabled and total > 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.last = ""
        self.width = 0

    def line(self):
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed * 60 if elapsed > 0 and self.done else 0.0
        eta = (self.total - self.done) / (rate / 60) if rate else None
        filled = int(20 * self.done / self.total) if self.total else 20
        bar = "#" * filled + "." * (20 - filled)
        eta_text = _duration(eta) if eta is not None else "?"
        return (f"[{bar}] {self.done}/{self.total}  {rate:.1f}/min  ETA {eta_text}"
                + (f"  last: {self.last}" if self.last else ""))

    def advance(self, student, note=""):
        self.done += 1
        self.last = student + (f" ({note})" if note else "")
        self.show()

    def show(self):
        if not self.enabled:
            return
        text = self.line()
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
