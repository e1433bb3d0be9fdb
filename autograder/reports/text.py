"""Plain text: the table formatter every command's table goes through (``table``, shared with the student's
package, where it lives), the progress line, a number of points."""
import sys
import time

from autograder.nndl.report import table  # noqa: F401  (re-exported: the grader's tables go through it)


def number(value):
    """A score as people write it: ``22``, ``7.5``, ``0.3333``."""
    text = f"{float(value):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


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
