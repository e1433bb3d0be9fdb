"""The grader's side of a starting sandbox: the init's status lines, then the kernel's first answers.

The init reports each step on a status pipe (``WAITING``, ``READY <pid>``, ``LOCKED`` or ``ERROR
<sentence>``); ``_connect`` then waits until the kernel answers on its shell and IOPub channels.
Every failure is a ``SandboxError`` ending with what the init and the kernel wrote (``_log_tail``).
"""
import os
import queue
import select
import time

from autograder.grade.sandbox.isolation import SandboxError


def _await_status(kernel, word, deadline):
    """The init's next status line starting with ``word``; SandboxError on ``ERROR``, its end or the deadline.

    The pipe stays open (``unshare`` holds its write end): a failure of the kernel's own
    ``execve`` comes after ``READY`` and is read by ``_log_tail``.
    """
    fd = kernel._status_fd
    while True:
        while b"\n" in kernel._status_buffer:
            raw, _, kernel._status_buffer = kernel._status_buffer.partition(b"\n")
            line = raw.decode(errors="replace").strip()
            if line.startswith("ERROR"):
                raise SandboxError(f"the sandbox could not start the kernel: {line}" + _log_tail(kernel))
            if line.split(" ", 1)[0] == word:
                return line
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxError(f"the sandbox did not say {word} within {kernel.startup_timeout} s" + _log_tail(kernel))
        ready, _, _ = select.select([fd], [], [], min(0.5, remaining))
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise SandboxError(f"the sandbox ended before it said {word}" + _log_tail(kernel))
            kernel._status_buffer += chunk
        elif kernel._proc.poll() is not None:
            raise SandboxError(f"the sandbox ended (status {kernel._proc.returncode}) before it said {word}"
                               + _log_tail(kernel))


def _unread_status(kernel):
    """What the init or the kernel wrote to the status pipe and was not read yet."""
    fd, data = kernel._status_fd, kernel._status_buffer
    kernel._status_buffer = b""
    if fd is None:
        return data.decode(errors="replace").strip()
    try:
        while select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data.decode(errors="replace").strip()


def _connect(kernel):
    """A started client, once the kernel answers (or SandboxError with the kernel's output)."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient()
    client.load_connection_info(kernel._connection)
    client.start_channels()
    kernel.client = client
    deadline = time.monotonic() + kernel.startup_timeout
    asked, sent = None, 0
    while True:
        if not kernel.is_alive():
            why = " (its memory monitor stopped it)" if kernel.stop_reason == "memory" else ""
            raise SandboxError(f"the kernel died as it started{why}" + _log_tail(kernel))
        if time.monotonic() > deadline:
            raise SandboxError(f"the kernel did not answer within {kernel.startup_timeout} s" + _log_tail(kernel))
        if asked is None or time.monotonic() - asked > 5:
            client.kernel_info()  # requests queue up while the kernel starts: any reply will do
            asked, sent = time.monotonic(), sent + 1
        try:
            reply = client.get_shell_msg(timeout=0.5)
        except queue.Empty:
            continue
        if reply.get("msg_type") != "kernel_info_reply":
            continue
        try:  # IOPub is connected when the status messages of a request come through
            client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            asked = None
            continue
        break
    unanswered = sent - 1  # the replies to the other requests, not to be taken for a later request's
    while unanswered > 0:
        try:
            if client.get_shell_msg(timeout=2).get("msg_type") == "kernel_info_reply":
                unanswered -= 1
        except queue.Empty:
            break
    while True:  # and their statuses on IOPub
        try:
            client.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            break


def _log_tail(kernel):
    text = "\n".join(t for t in (_unread_status(kernel), kernel.log().strip()) if t)
    return f"; the kernel wrote:\n{text[-4000:]}" if text else ""
