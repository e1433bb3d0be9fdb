"""The ``nndl`` command: the course's tools for students, instructors and maintainers.

Every subcommand returns one of the exit codes ``nndl --help`` lists (``help_text.EXIT_CODES``),
the same across commands, so scripts can rely on them. Errors are one sentence on stderr saying
what to do (``NNDL_DEBUG=1`` shows the traceback of an unexpected one); progress goes to stderr
too (``-q`` silences it), results to stdout (``--json`` for machine-readable output where a
command has results). The texts of ``--help`` are in ``help_text``; the options are declared here.
"""
import argparse
import os
import signal
import sys

from autograder.cli import course, grade, reports
from autograder.cli.common import CommandError, error
from autograder.cli.help_text import EXAMPLES, HELP
from autograder.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE


# --------------------------------------------------------------------------- the parser


def _version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nndl-grader")
    except PackageNotFoundError:
        return "(not installed)"


def _wrap(text, width=88):
    """Paragraph lines wrapped to ``width``; indented lines (lists, commands) kept as they are."""
    import textwrap

    return "\n".join(line if line.startswith(" ") or not line else textwrap.fill(line, width)
                     for line in text.split("\n"))


def _option(*flags, **settings):
    """One argument of a command: what ``add_argument`` takes."""
    return flags, settings


# the options several commands declare alike
COURSE = _option("--course-dir", default=".", help="the nbgrader course folder (default: the current folder)")
SEED = _option("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
JSON_REPORT = _option("--json", action="store_true", help="print the report as JSON")
QUIET = _option("-q", "--quiet", action="store_true", help="no progress on stderr (for scripts and CI)")


def _add(sub, name, run, *options):
    """The command ``name``: its texts from ``HELP``, its ``options`` in order, then ``-q`` (every command has it)."""
    summary, description, examples = HELP[name]
    p = sub.add_parser(name, help=summary, description=_wrap(description), epilog="examples:\n" + examples,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=run)
    for flags, settings in (*options, QUIET):
        p.add_argument(*flags, **settings)
    sub.parsers[name] = p
    return p


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nndl", description="Neural networks from scratch: the course's autograder and tools.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.parsers = parser.subcommands = {}  # name -> its parser, for errors in its own usage

    _add(sub, "quickstart", course.cmd_quickstart,
         _option("assignments", nargs="*", help="assignments to include (default: all five)"),
         _option("--dir", default="nndl-quickstart", help="the course folder to create (default ./nndl-quickstart)"),
         SEED)

    _add(sub, "generate", course.cmd_generate,
         _option("assignments", nargs="*", help="assignments to generate (default: all five)"),
         _option("--course-dir", default=".", help="the course folder (default: the current folder)"))

    _add(sub, "check", course.cmd_check,
         _option("notebook", help="your saved notebook (.ipynb), or the assignment folder holding it"),
         _option("--assignment", help="the assignment, when the file name does not say which"),
         JSON_REPORT)

    _add(sub, "grade", grade.cmd_grade,
         _option("target", nargs="?", metavar="TARGET", help="an assignment, or a notebook file"),
         _option("--all", action="store_true", help="every assignment of the course that has submissions"),
         _option("--assignment", help="a notebook's assignment, when its file name does not say which"),
         COURSE,
         _option("--workers", type=int, help="local worker processes (default: one per CPU; 0 grades in this "
                                             "process); with --scheduler, the submissions in flight at once"),
         _option("--scheduler", help="a Dask scheduler address (tcp://host:port); its workers need this "
                                     "package, not the course folder; if the scheduler goes away, what was "
                                     "graded is kept and the same command grades the rest"),
         _option("--seed", type=int, help="the seed of the hidden checks (default: the one recorded for the "
                                          "assignment, or a new secret one; 0 for a notebook with none recorded)"),
         _option("--force", action="store_true", help="grade every submission again (with a new secret seed "
                                                      "unless --seed is given)"),
         _option("--allow-unsandboxed", action="store_true",
                 help="grade even where this machine cannot isolate student code (see 'nndl doctor'): the "
                      "students' code then runs with your permissions and can read the reference; every "
                      "report says so. Also c.SandboxedGrading.allow_unsandboxed in nbgrader_config.py"),
         _option("--watch", action="store_true",
                 help="feedback on submit: every --interval seconds collect new submissions from nbgrader's "
                      "exchange, grade them and release their feedback, until Ctrl-C (restart it the same way: "
                      "nothing is graded twice or lost)"),
         _option("--interval", type=float, default=5.0, help="with --watch, seconds between rounds (default 5)"),
         _option("--run-demos", action="store_true",
                 help="also run the cells the course tags 'demo' (plots, timings, long training runs no check "
                      "needs), which grading skips; the scores are the same either way"),
         _option("--json", action="store_true", help="print the report as JSON (no progress)"))

    _add(sub, "doctor", grade.cmd_doctor,
         COURSE,
         _option("--json", action="store_true", help="print the findings as JSON"))

    _add(sub, "feedback", reports.cmd_feedback,
         _option("assignment", nargs="?", help="only this assignment (default: all)"),
         _option("--student", action="append", metavar="S", help="only this student (repeatable)"),
         COURSE)

    _add(sub, "export", reports.cmd_export,
         _option("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (canvas, gradescope)"),
         _option("--format", choices=["nbgrader", "canvas", "gradescope"], default="nbgrader",
                 help="the layout (default nbgrader)"),
         _option("--to", metavar="PATH", help="the file (nbgrader, canvas) or folder (gradescope) to write"),
         _option("--roster", metavar="CSV", help="Canvas's gradebook export, to match students (canvas only)"),
         COURSE)

    _add(sub, "dashboard", reports.cmd_dashboard,
         _option("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (default: all graded)"),
         _option("--out", metavar="DIR", help="the folder to write (default reports/dashboard/ in the course)"),
         COURSE)

    _add(sub, "collect-zip", course.cmd_collect_zip,
         _option("archive", help="the .zip downloaded from the LMS"),
         _option("assignment", help="the assignment the archive holds"),
         COURSE,
         _option("--regexp", metavar="R", help="how file paths name students: named groups student_id and file_id"),
         _option("--force", action="store_true", help="replace students' earlier submissions (moved aside)"),
         JSON_REPORT)

    _add(sub, "mutants", course.cmd_mutants,
         _option("-a", "--assignment", help="only this assignment (default: all five)"),
         SEED)

    _add(sub, "figures", course.cmd_figures,
         _option("--image-set", default="digits", help="digits (default, bundled) or catvnoncat"),
         _option("--data-dir", help="folder holding the image set's train_/test_ files"),
         _option("--planar", action="store_true", help="also the planar flower and its hidden-size sweep"),
         _option("--skip-images", action="store_true", help="skip the image models"))

    _add(sub, "data", course.cmd_data,
         _option("action", choices=["install-classic", "verify"]),
         _option("folder", nargs="?", help="folder holding train_<name>.h5 and test_<name>.h5"),
         _option("--name", default="digits", help="image set for verify (default digits)"))
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "data" and args.action == "install-classic" and not args.folder:
        parser.subcommands["data"].error("install-classic needs the FOLDER that holds the two classic files")
    if args.command == "grade" and not args.target and not args.all:
        parser.subcommands["grade"].error("give a TARGET (an assignment or a notebook) or --all")
    previous = grade.on_sigterm()
    try:
        return args.run(args)
    except CommandError as exc:
        error(exc)
        return exc.code
    except KeyboardInterrupt:
        print("\ninterrupted: what was finished is kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one sentence, the traceback on request
        if os.environ.get("NNDL_DEBUG"):
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set NNDL_DEBUG=1 to see where it happened; please "
               "report it)")
        return EXIT_FAILED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
