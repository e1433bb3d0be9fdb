"""A sandboxed kernel started ahead of need: the next submission's kernel starts while this one runs.

Starting a sandboxed kernel and answering its first request takes about 0.75 s (the namespaces,
the init, Python and ipykernel 0.4 s, the preloaded modules 0.35 s), which a worker would otherwise
wait for between two submissions. ``prepare`` starts one kernel in a thread,
as a ``Session`` of its own would (same files, policy, environment, options, bootstrap); the next
``Session.start`` of this process ``take``s it if everything it was started with is the same
(``key``: the files compared by their content) and it is alive and answered its bootstrap. Else it
is shut down and a kernel is started as before, so a spare can save time and never change a grade.

A spare is a fresh kernel: no student's code has run in it, and it is never given to two sessions.
A process holds at most one (a worker grades one submission at a time). One not taken is shut
down when the next is prepared, when one with another key is asked for, after ``IDLE_LIMIT``
seconds, and when the process exits; if the process dies, the sandbox's init sees its grader go
and takes the kernel with it.
"""
import atexit
import hashlib
import os
import threading

_lock = threading.Lock()
_spare = None  # the _Spare of this process, or None
_exit_hooked = None  # the pid whose exit shuts its spare down (a forked worker must hook its own)
counts = {"prepared": 0, "taken": 0, "discarded": 0}  # what happened to the spares of this process
IDLE_LIMIT = 120.0  # seconds a spare waits to be taken before it is shut down


def content_digest(contents):
    """The sha256 of a set of files, ``{relative name: bytes}``, by name and content (not by where they are)."""
    digest = hashlib.sha256()
    for name in sorted(contents):
        digest.update(name.encode() + b"\0" + hashlib.sha256(contents[name]).digest())
    return digest.hexdigest()


def key(files, policy, env, allow_unsandboxed, bootstrap):
    """What a kernel was started with, as one string: files by content, so two copies of one support package agree.

    None when a file cannot be read (no spare is then prepared or taken).
    """
    try:
        contents = {name: path.read_bytes() for name, path in files.items()}
    except OSError:
        return None
    return "\n".join([content_digest(contents), repr(policy), repr(sorted((env or {}).items())),
                      repr(bool(allow_unsandboxed)), bootstrap])


class _Spare:
    def __init__(self, key, session):
        self.key, self.session, self.started = key, session, False
        self.thread = threading.Thread(target=self._start, name="nndl-spare-kernel", daemon=True)
        self.thread.start()
        self.timer = threading.Timer(IDLE_LIMIT, _expire, args=(self,))
        self.timer.daemon = True
        self.timer.start()

    def _start(self):
        try:
            self.started = self.session.start() and not self.session.alerts
        except BaseException:  # noqa: BLE001 - the session that asks for a kernel meets the error itself
            self.started = False

    def discard(self):
        self.timer.cancel()
        self.thread.join()
        self.session.shutdown()
        counts["discarded"] += 1

    def discard_later(self):
        """``discard`` in a thread: one still starting is waited for there, not by the caller."""
        self.timer.cancel()
        threading.Thread(target=self.discard, name="nndl-spare-discard", daemon=True).start()


def _expire(found):
    """A spare nobody took within ``IDLE_LIMIT`` (a long-lived process that graded its last) is shut down."""
    global _spare
    with _lock:
        if _spare is not found:
            return
        _spare = None
    found.discard()


def prepare(session):
    """Start ``session`` (a ``Session`` not started) in a thread, for the next ``take`` of its key."""
    global _spare
    wanted = session.spare_key()
    if wanted is None:
        return
    _hook_exit()
    with _lock:
        old, _spare = _spare, _Spare(wanted, session)
        counts["prepared"] += 1
    if old is not None:
        old.discard_later()


def take(wanted):
    """The started session prepared with key ``wanted``, or None; a spare of another key is shut down."""
    global _spare
    with _lock:
        found, _spare = _spare, None
    if found is None:
        return None
    if found.key != wanted:  # shut down beside the kernel this session starts, not before it
        found.discard_later()
        return None
    found.thread.join()  # still starting: waiting for it is never slower than starting another
    if not found.started or not found.session.alive():
        found.discard()
        return None
    found.timer.cancel()
    counts["taken"] += 1
    return found.session


def discard():
    """Shut down the spare of this process, if any."""
    global _spare
    with _lock:
        found, _spare = _spare, None
    if found is not None:
        found.discard()


def _hook_exit():
    """Shut the spare down when this process exits: atexit, and a multiprocessing worker's finalizers
    (it leaves through ``os._exit``, and a forked child starts with its parent's finalizers cleared)."""
    global _exit_hooked
    if _exit_hooked == os.getpid():
        return
    _exit_hooked = os.getpid()
    atexit.register(discard)
    from multiprocessing import util

    util.Finalize(None, discard, exitpriority=10)
