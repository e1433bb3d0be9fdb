"""One submission's sandboxed kernel: run code with a timeout, read its messages into a recorder, recover.

``Session`` owns the kernel of one submission. ``run(code, timeout, sink)`` sends one execute
request and reads its messages into ``sink`` (``Outputs`` for a notebook cell, ``ProbeFrames``
for the answers of probes: ``outputs.py``) until the reply, the timeout or the kernel's death. A
cell that runs too long is interrupted, and the kernel restarted if it does not come back; a kernel
that dies (or asks to exit, or is stopped by the sandbox's memory guard) is restarted and the
cells that had completed are replayed. Every replay is charged to the notebook's budget
(``budget_end``), so a fault costs the same time whatever the order of events, and the runner's
total stays within what the coordinator's watchdog allows.

What happened is counted in ``faults`` (typed, set here: never read back from any message) and
told in ``messages`` (sentences for the instructor and the student); those about a problem of
the run are also in ``alerts``, so that reports need not guess from words which ones matter.
"""
import queue
import time
from dataclasses import dataclass

from autograder.grade import sandbox, spare
from autograder.grade.outputs import Outputs, _mapping

INTERRUPT_GRACE = 5.0  # seconds an interrupted kernel has to come back before it is restarted
POLL = 0.2  # seconds between liveness checks while waiting for the kernel
MAX_RESTARTS = 20  # kernel restarts allowed for one submission
FAULTS = ("timeouts", "deaths", "exits", "memory", "restarts")


@dataclass
class Run:
    status: str  # "ok", "error" (the code raised), "timeout", "died", "no kernel"
    execution_count: int = None
    seconds: float = 0.0
    exited: bool = False  # the code completed but asked the kernel to exit (it was restarted)
    memory: bool = False  # the sandbox's memory guard stopped the kernel


class Session:
    """One sandboxed kernel and the history needed to rebuild its state after a restart."""

    def __init__(self, files, policy, env, messages, cell_timeout, budget_end, allow_unsandboxed=False,
                 bootstrap="pass", warm=False):
        self.files, self.policy, self.env, self.messages = files, policy, env, messages
        self.cell_timeout, self.budget_end = cell_timeout, budget_end
        self.allow_unsandboxed, self.bootstrap, self.warm = allow_unsandboxed, bootstrap, warm
        self.kernel = None
        self.mode = None  # the sandbox mode the kernel ran in
        self.missing = []  # what that mode does not enforce
        self.history = []  # (cell number, code) of the cells that completed, in order: replayed after a restart
        self.faults = dict.fromkeys(FAULTS, 0)
        self.start_error = None  # why no kernel could be started (the submission is then not graded)
        self.alerts = []  # the sentences of ``messages`` that tell of a problem of the run (also in ``messages``)

    # -- starting and stopping

    def _new_kernel(self):
        kwargs = {"env": self.env}
        if self.policy is not None:
            kwargs["policy"] = self.policy
        for option in ("allow_unsandboxed", "warm"):  # only when set: a test's stand-in may not take them
            if getattr(self, option):
                kwargs[option] = getattr(self, option)
        return sandbox.start_kernel(self.files, **kwargs)

    def spare_key(self):
        """What this session's kernel is started with (``spare.key``): a spare of the same key can stand in."""
        return spare.key(self.files, self.policy, self.env, self.allow_unsandboxed, self.bootstrap)

    def start(self, spare_ok=False):
        """Start the kernel; False (``start_error`` says why) when the sandbox could not start one.

        With ``spare_ok``, a kernel this process started ahead of need with the same files,
        policy and options (``spare.prepare``) is taken instead, when there is one.
        ``sandbox.SandboxUnavailable`` (this machine cannot isolate at all) is raised: it is not
        one submission's problem, and grading must stop.
        """
        ready = spare.take(self.spare_key()) if spare_ok else None
        if ready is not None:
            self.kernel, self.mode, self.missing = ready.kernel, ready.mode, ready.missing
            ready.kernel = None
            return True
        try:
            self.kernel = self._new_kernel()
        except sandbox.SandboxUnavailable:
            raise
        except Exception as exc:  # the sandbox reports its failures as exceptions of several kinds
            self.start_error = f"no kernel could be started ({describe(exc)})"
            self.kernel = None
            return False
        self.mode = getattr(self.kernel, "mode", None)
        self.missing = [str(m) for m in getattr(self.kernel, "missing", None) or []]
        if not self._bootstrap():
            self.alert("The kernel did not answer its first request.")
        return True

    def alert(self, sentence):
        """Tell what went wrong while the notebook ran (a timeout, a death, a restart): an alert for reports."""
        self.messages.append(sentence)
        self.alerts.append(sentence)

    def shutdown(self):
        if self.kernel is not None:
            try:
                self.kernel.shutdown()
            except Exception:  # shutting down a dead or broken kernel may fail; nothing is lost
                pass
            self.kernel = None

    def _bootstrap(self):
        return self._execute(self.bootstrap, self.cell_timeout, Outputs(keep=False), store_history=False).status == "ok"

    def alive(self):
        if self.kernel is None:
            return False
        try:
            return bool(self.kernel.is_alive())
        except Exception:
            return False

    def left(self):
        """Seconds left of the notebook's budget (cells and replays)."""
        return self.budget_end - time.monotonic()

    # -- running code

    def run(self, code, timeout, sink, store_history=True, what="a cell"):
        """Run ``code``; on a timeout or a death, bring a usable kernel back. Returns a ``Run``.

        A ``ProbeFrames`` sink moves the deadline per probe and names the probe in the sentences."""
        if self.kernel is None:
            return Run("no kernel")
        result = self._execute(code, timeout, sink, store_history)
        if hasattr(sink, "current"):
            what, timeout = sink.current(died=result.status == "died")
        if result.exited:
            self.faults["exits"] += 1
            self.alert(f"{_capital(what)} asked the kernel to exit.")
            self._restart()
        elif result.status == "timeout":
            self.faults["timeouts"] += 1
            self._recover_from_timeout(what, timeout)
        elif result.status == "died":
            self.faults["deaths"] += 1
            if result.memory:
                self.faults["memory"] += 1
                limit = getattr(self.policy or sandbox.Policy(), "total_memory_bytes", None)
                amount = f"more than {limit / 2**30:g} GiB" if limit else "too much memory"
                self.alert(f"The kernel's processes used {amount} together while running {what}; "
                                     "the sandbox stopped them.")
            else:
                self.alert(f"The kernel died while running {what}.")
            self._restart()
        return result

    def _execute(self, code, timeout, sink, store_history):
        start = time.monotonic()
        deadline = start + max(timeout, 0.0)
        client = self.kernel.client
        try:
            msg_id = client.execute(code, silent=False, store_history=store_history, allow_stdin=False,
                                    stop_on_error=False)
        except Exception:
            return self._ended("died" if not self.alive() else "error", start)
        status = self._wait(msg_id, deadline, sink)
        if status in ("timeout", "died"):
            return self._ended(status, start)
        content = status.get("content", {})
        payload = content.get("payload") or []
        exited = any(isinstance(p, dict) and p.get("source") == "ask_exit" and not p.get("keepkernel")
                     for p in payload)
        count = content.get("execution_count")
        return Run("ok" if content.get("status") == "ok" else "error",
                   execution_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
                   seconds=time.monotonic() - start, exited=exited)

    def _ended(self, status, start):
        memory = status == "died" and getattr(self.kernel, "stop_reason", None) == "memory"
        return Run(status, seconds=time.monotonic() - start, memory=memory)

    def _wait(self, msg_id, deadline, sink):
        """Read iopub and shell until the reply and the idle status of ``msg_id``; the reply, or a status."""
        client = self.kernel.client
        idle, reply = False, None
        moving, end = getattr(sink, "deadline", None), deadline  # a run of probes: each has its own time
        while not (idle and reply is not None):
            remaining = (min(end, moving()) if moving else end) - time.monotonic()
            if remaining <= 0:
                return "timeout"
            if not idle:
                try:
                    msg = client.get_iopub_msg(timeout=min(POLL, remaining))
                except queue.Empty:
                    if not self.alive():
                        return "died"
                    reply = reply or self._reply(msg_id, 0)
                    continue
                except Exception:  # a closed channel: the kernel is gone
                    return "died" if not self.alive() else "timeout"
                msg_type = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
                content = _mapping(msg.get("content"))
                if _mapping(msg.get("parent_header")).get("msg_id") != msg_id:
                    if sink.foreign:  # output the student's code sent under another request's header
                        sink.add(msg_type, content)
                    continue
                if msg_type == "status":
                    idle = content.get("execution_state") == "idle"
                else:
                    sink.add(msg_type, content)
            else:
                reply = self._reply(msg_id, min(POLL, remaining))
                if reply is None and not self.alive():
                    return "died"
        return reply

    def _reply(self, msg_id, timeout):
        """The shell reply to ``msg_id`` if one arrives within ``timeout`` s (replies to older requests are dropped)."""
        client = self.kernel.client
        end = time.monotonic() + timeout
        while True:
            try:
                msg = client.get_shell_msg(timeout=max(end - time.monotonic(), 0.0))
            except Exception:  # queue.Empty, or a closed channel
                return None
            if _mapping(msg.get("parent_header")).get("msg_id") == msg_id:
                return msg

    # -- recovering

    def _recover_from_timeout(self, what, timeout):
        try:
            self.kernel.interrupt()
        except Exception:
            pass
        if self._execute("pass", INTERRUPT_GRACE, Outputs(keep=False), store_history=False).status == "ok":
            self.alert(f"{_capital(what)} timed out after {timeout:g} s and was interrupted.")
            return
        self.alert(f"{_capital(what)} timed out after {timeout:g} s and the kernel did not "
                             "come back from the interrupt.")
        self._restart()

    def _restart(self):
        """A fresh kernel with the completed cells replayed; ``self.kernel`` is None when that fails.

        The replay is charged to the notebook's budget: when the budget runs out, the kernel keeps
        only the cells replayed so far.
        """
        if self.faults["restarts"] >= MAX_RESTARTS:
            self.alert(f"The kernel was not restarted again: it was restarted {MAX_RESTARTS} times already.")
            self.shutdown()
            return
        self.faults["restarts"] += 1
        self.shutdown()
        try:
            self.kernel = self._new_kernel()
        except Exception as exc:
            self.alert(f"The kernel could not be restarted ({describe(exc)}).")
            self.kernel = None
            return
        if not self._bootstrap():
            self.alert("The restarted kernel did not answer its first request.")
        for position, (number, code) in enumerate(self.history):
            timeout = min(self.cell_timeout, self.left())
            if timeout <= 0:
                self.alert(f"Replaying the notebook after the restart stopped at cell {number}: the "
                                     "notebook's time was used up; the kernel holds only the cells before it.")
                self.history = self.history[:position]
                return
            result = self._execute(code, timeout, Outputs(keep=False), store_history=True)
            if result.status in ("timeout", "died") or result.exited:
                outcome = "it asked the kernel to exit" if result.exited else (
                    "it timed out" if result.status == "timeout" else "the kernel died")
                self.alert(f"Replaying the notebook after the restart stopped at cell {number} ({outcome}); "
                                     "the kernel holds only the cells before it.")
                self.history = self.history[:position]
                if result.status == "timeout" and not result.exited:
                    self._interrupt_or_restart()
                else:
                    self._restart()
                return
        self.alert(f"The kernel was restarted and the {len(self.history)} notebook cell(s) that had "
                             "completed before were run again.")

    def _interrupt_or_restart(self):
        try:
            self.kernel.interrupt()
        except Exception:
            pass
        if self._execute("pass", INTERRUPT_GRACE, Outputs(keep=False), store_history=False).status != "ok":
            self._restart()


def _capital(text):
    return text[:1].upper() + text[1:]


def describe(exc):
    """``Type: message`` of an exception, the message cut at 300 characters."""
    text = str(exc)
    text = text[:300] + "..." if len(text) > 300 else text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
