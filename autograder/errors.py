"""The exit codes every ``nndl`` command shares, and the error that carries one."""

EXIT_OK = 0  # done
EXIT_FAILED = 1  # done, but something failed: checks failed, some submissions or files not handled
EXIT_USAGE = 2  # the command line is wrong: an unknown option, a missing argument, no such file
EXIT_BAD_INPUT = 3  # bad input: unreadable notebook, corrupt gradebook, unknown assignment or student, nothing to do
EXIT_INTERRUPTED = 130  # Ctrl-C or kill (SIGTERM)


class UserError(Exception):
    """Something a person must change before the work can be done.

    ``str(exc)`` is the sentence for stderr (what is wrong and what to do); ``code`` the exit code.
    """

    def __init__(self, message, code=EXIT_BAD_INPUT):
        super().__init__(message)
        self.code = code
