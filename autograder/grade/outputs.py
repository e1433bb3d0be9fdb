"""What a kernel sends back, recorded within limits: a notebook cell's outputs, a probe's answer.

``Outputs`` records the IOPub messages of one cell as nbformat outputs; ``ProbeFrames`` collects
the stdout text that carries the answers of a run of probes, cut per probe. Outputs are the
kernel's, so every kind is bounded: per cell (``CELL_LIMIT`` bytes, ``STREAM_LIMIT`` characters
of text) and for the whole notebook together (``NOTEBOOK_LIMIT``, kept in a ``Budget``),
``update_display_data`` included; a probe's answer past ``RESULT_LIMIT`` characters is dropped.
"""
import json
import time

import nbformat

STREAM_LIMIT = 100_000  # characters of stdout/stderr kept per cell
OUTPUT_LIMIT = CELL_LIMIT = 2_000_000  # bytes of all outputs (figures included) kept per cell
NOTEBOOK_LIMIT = 8_000_000  # bytes of the outputs of all cells together
RESULT_LIMIT = 64_000_000  # characters of a probe's output read before giving up on it


class Budget:
    """Bytes of output the whole notebook may still keep."""

    def __init__(self, total=NOTEBOOK_LIMIT):
        self.left = total


class Outputs:
    """The outputs of one execution, recorded from iopub messages, within the cell's and the notebook's limits."""

    foreign = False  # outputs under another request's header are not this cell's

    def __init__(self, keep=True, budget=None):
        self.keep = keep
        self.budget = budget if budget is not None else Budget()
        self.outputs = []
        self.sizes = []  # bytes charged for each output
        self.stream_chars = 0
        self.bytes = 0
        self.truncated = False
        self.clear_on_next = False
        self.display_ids = {}

    def _charge(self, size, stream=False):
        """Take ``size`` bytes (``size`` may be negative: a smaller replacement); False when there is no room."""
        if self.truncated:
            return False
        if (self.bytes + size > CELL_LIMIT or size > self.budget.left
                or (stream and self.stream_chars + size > STREAM_LIMIT)):
            self.truncated = True
            return False
        self.bytes += size
        self.budget.left -= size
        if stream:
            self.stream_chars += size
        return True

    def add(self, msg_type, content):
        if not self.keep:
            return
        if msg_type == "clear_output":
            if content.get("wait"):
                self.clear_on_next = True
            else:
                self._clear()
            return
        if msg_type == "update_display_data":
            self._update(content)
            return
        if msg_type not in ("stream", "display_data", "execute_result", "error"):
            return
        if self.clear_on_next:
            self._clear()
        if msg_type == "stream":
            text = str(content.get("text", ""))
            if not self._charge(len(text), stream=True):
                return
            last = self.outputs[-1] if self.outputs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == content.get("name"):
                last["text"] += text
                self.sizes[-1] += len(text)
            else:
                name = content.get("name") if content.get("name") in ("stdout", "stderr") else "stdout"
                self.outputs.append(nbformat.v4.new_output("stream", name=name, text=text))
                self.sizes.append(len(text))
            return
        size = _size(content)
        if not self._charge(size):
            return
        if msg_type == "error":
            traceback = content.get("traceback", [])
            self.outputs.append(nbformat.v4.new_output(
                "error", ename=str(content.get("ename", "")), evalue=str(content.get("evalue", "")),
                traceback=[str(line) for line in traceback] if isinstance(traceback, list) else []))
            self.sizes.append(size)
            return
        output = nbformat.v4.new_output(msg_type, data=_mapping(content.get("data")),
                                        metadata=_mapping(content.get("metadata")))
        if msg_type == "execute_result":
            count = content.get("execution_count")
            output["execution_count"] = count if isinstance(count, int) and not isinstance(count, bool) else None
        display_id = _mapping(content.get("transient")).get("display_id")
        if isinstance(display_id, str):
            self.display_ids.setdefault(display_id, []).append(len(self.outputs))
        self.outputs.append(output)
        self.sizes.append(size)

    def _update(self, content):
        """``update_display_data``: replace the data of earlier outputs, each replacement charged anew."""
        display_id = _mapping(content.get("transient")).get("display_id")
        if not isinstance(display_id, str):
            return
        size = _size({"data": content.get("data"), "metadata": content.get("metadata")})
        for index in self.display_ids.get(display_id, []):
            if not self._charge(size - self.sizes[index]):
                return
            self.sizes[index] = size
            self.outputs[index]["data"] = _mapping(content.get("data"))
            self.outputs[index]["metadata"] = _mapping(content.get("metadata"))

    def _clear(self):
        self.budget.left += self.bytes
        self.outputs, self.sizes, self.display_ids = [], [], {}
        self.bytes = self.stream_chars = 0
        self.clear_on_next = False

    def text(self, name="stdout"):
        return "".join(o["text"] for o in self.outputs if o["output_type"] == "stream" and o["name"] == name)

    def final(self):
        """The outputs to store in the notebook, with a note when some were dropped."""
        outputs = list(self.outputs)
        if self.truncated:
            outputs.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text=f"\n[output truncated by the grader: more than {STREAM_LIMIT // 1000} kB of text "
                     f"or {CELL_LIMIT // 1_000_000} MB of output in one cell, or "
                     f"{NOTEBOOK_LIMIT // 1_000_000} MB in the whole notebook]\n"))
        return outputs


def _mapping(value):
    return value if isinstance(value, dict) else {}


def _size(content):
    try:
        return len(json.dumps(content, default=str))
    except (TypeError, ValueError, RecursionError):
        return CELL_LIMIT + 1  # what cannot even be measured is not kept


class ProbeFrames:
    """Collects the stdout text of a run of probes (``probe_request.probes_code``), cut into one segment per probe.

    Stdout under any request's header counts: a student who replaced ``sys.stdout`` leaves the
    kernel's own stream tagged with an older request, and only the nonces tell our answers apart.
    A probe's segment is the text from the end of the one before to the end marker of its own
    nonce: each probe's answer is read from its segment alone, and a segment past
    ``RESULT_LIMIT`` characters is dropped (``None``) while its end is still looked for. Each
    probe has its own time: ``deadline()`` is ``limit`` seconds after the one before it ended, and
    never past ``end`` (the probes' budget); ``current()`` says which probe is running (``whats``:
    the checks' names) and the time it was given, for the session's sentences when it runs too long
    or the kernel dies.
    """

    foreign = True

    def __init__(self, nonces, whats, limit, end):
        self.nonces, self.whats, self.limit, self.end = list(nonces), list(whats), limit, end
        self.segments = []  # the text of each probe that finished, in order (None: too large)
        self._parts, self._size, self._too_large, self._tail = [], 0, False, ""
        self.started = time.monotonic()  # when the running probe began, as far as the grader can tell

    @property
    def finished(self):
        return len(self.segments) >= len(self.nonces)

    @property
    def overflowing(self):
        """Whether the running probe's segment is already past ``RESULT_LIMIT``."""
        return self._too_large

    def timeout(self):
        """Seconds the running probe was given."""
        return min(self.limit, self.end - self.started)

    def deadline(self):
        return self.started + self.timeout()

    def current(self, died=False):
        """``(what, seconds)`` of the running probe; ``died``: what may have been running when the kernel died.

        A kernel that dies can take with it the answer of the probe before the one that killed
        it (printed and flushed, but still in the kernel's sockets), so the probes from the first
        unanswered one on are named, unless that one was the last.
        """
        index = min(len(self.segments), len(self.nonces) - 1)
        if died and index < len(self.nonces) - 1:
            return f"the checks from {self.whats[index]} on", self.timeout()
        return f"the check {self.whats[index]}", self.timeout()

    def add(self, msg_type, content):
        if msg_type != "stream" or content.get("name") != "stdout":
            return
        text = content.get("text", "")
        if not isinstance(text, str):
            return
        while text and not self.finished:
            marker = f"<</{self.nonces[len(self.segments)]}>>"
            window = self._tail + text
            cut = window.find(marker)
            if cut < 0:
                self._keep(text)
                self._tail = window[-(len(marker) - 1):]
                return
            upto = cut + len(marker) - len(self._tail)  # the marker ends in ``text`` (the tail alone is too short)
            self._keep(text[:upto])
            self.segments.append(None if self._too_large else "".join(self._parts))
            self._parts, self._size, self._too_large, self._tail = [], 0, False, ""
            self.started = time.monotonic()
            text = text[upto:]

    def _keep(self, piece):
        self._size += len(piece)
        if self._size > RESULT_LIMIT:
            self._too_large, self._parts = True, []
        elif not self._too_large:
            self._parts.append(piece)
