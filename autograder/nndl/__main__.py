"""``python -m nndl check [NOTEBOOK]``: the public checks of a saved notebook, as a table.

Run in the assignment's folder. Exit codes: 0 every public check passes, 1 some fail, 2 no such
notebook (or a wrong command line), 3 the notebook cannot be read or no kernel can start,
130 interrupted.
"""
import argparse
import sys

from .checks import assignment
from .notebook import EXIT_FAILED, EXIT_OK, TIMEOUT, CheckError, check_notebook, find_notebook, read_notebook
from .report import format_report

DESCRIPTION = """\
Runs your saved notebook in a fresh kernel (its check cells excepted), then every public check
of each function, as the grader will, and prints a table of each function's public points with
what failed and why. Save the notebook first: the check reads the file, not what is open in
Jupyter. Hidden checks run only when your instructor grades.

exit codes: 0 every public check passes; 1 some fail; 2 no such notebook; 3 the notebook cannot
be read (restore it from .ipynb_checkpoints/) or no kernel can start; 130 interrupted.

example, in the assignment's folder:
  python -m nndl check {assignment}.ipynb
"""


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m nndl", description="The public checks of this assignment.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="check")
    check = commands.add_parser("check", help="run a saved notebook and its public checks",
                                description=DESCRIPTION.format(assignment=assignment()),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("notebook", nargs="?", default=".",
                       help="the saved notebook, or its folder (default: the current folder)")
    check.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                       help=f"how long one code cell, or the checks of one function, may run before it is "
                            f"stopped (default: {TIMEOUT:g})")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        path = find_notebook(args.notebook)
        nb = read_notebook(path)
        print(f"checking {path.name}: running its code cells, then the public checks, in a fresh kernel...",
              file=sys.stderr, flush=True)
        outcomes, notes = check_notebook(nb, path.resolve().parent, args.timeout)
    except CheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    print(format_report(f"{path.name} ({assignment()})", outcomes, notes))
    return EXIT_OK if outcomes and all(o.passed for o in outcomes) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
