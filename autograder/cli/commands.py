"""The ``nndl`` command: the course's tools for students, instructors and maintainers.

Every subcommand returns one of the exit codes below, the same across commands, so scripts can
rely on them. Errors are one sentence on stderr saying what to do (``NNDL_DEBUG=1`` shows the
traceback of an unexpected one); progress goes to stderr too (``-q`` silences it), results to
stdout (``--json`` for machine-readable output where a command has results).
"""
import argparse
import os
import signal
import sys

from autograder.cli import course, grade, reports
from autograder.cli.common import CommandError, error
from autograder.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

EXIT_CODES = """exit codes (the same for every command):
  0    done
  1    done, but something failed (public checks failed, submissions not graded, files not collected)
  2    usage error (bad option or argument, no such file)
  3    bad input: an unreadable notebook, a missing or corrupt gradebook, an unknown assignment
       or student, nothing to do
  130  interrupted (Ctrl-C or kill); what was finished is kept
"""

EXAMPLES = """students:
  nndl check python_basics.ipynb    run your saved notebook and its public checks, as the grader will

instructors (in the nbgrader course folder, or with --course-dir):
  nndl quickstart                   build the release, grade sample submissions, print the scores
  nndl generate                     regenerate source/*/nndl/ and release/ after editing the course
  nndl collect-zip ~/Downloads/submissions.zip python_basics   an LMS download into submitted/
  nndl grade python_basics          grade every submission of an assignment, in parallel, into the gradebook
  nndl grade --all                  every assignment that has submissions
  nndl grade submitted/ada/python_basics/python_basics.ipynb   one notebook: its full report
  nndl doctor                       can this machine grade safely? the sandbox mode and why
  nndl feedback python_basics       HTML feedback for every graded student
  nndl export --format canvas --roster canvas_export.csv   grades for the LMS
  nndl dashboard                    the class dashboard (HTML with plots)

maintainers:
  nndl mutants                      every catalogued mistake against the checks, with the kill rate
  nndl figures                      the reference's accuracies on the default digits set
  nndl data install-classic ~/classic   verify and install the classic cat files

'nndl COMMAND --help' explains a command with examples.

""" + EXIT_CODES


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


def _add(sub, name, run, help, description, examples):
    p = sub.add_parser(name, help=help, description=_wrap(description), epilog="examples:\n" + examples,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(run=run)
    sub.parsers[name] = p
    return p


def _quiet(p):
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr (for scripts and CI)")


def _course(p):
    p.add_argument("--course-dir", default=".", help="the nbgrader course folder (default: the current folder)")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nndl", description="Neural networks from scratch: the course's autograder and tools.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.parsers = parser.subcommands = {}  # name -> its parser, for errors in its own usage

    p = _add(sub, "quickstart", course.cmd_quickstart, "build the release, grade sample submissions and print the scores",
             "In a fresh course folder (default ./nndl-quickstart): generate the student release with nbgrader, "
             "write sample submissions (a student who solved everything, one who handed in the stubs, two with "
             "typical mistakes), autograde them, write feedback and grades.csv, and print the score table.",
             "  nndl quickstart\n  nndl quickstart python_basics --dir /tmp/try -q\n")
    p.add_argument("assignments", nargs="*", help="assignments to include (default: all five)")
    p.add_argument("--dir", default="nndl-quickstart", help="the course folder to create (default ./nndl-quickstart)")
    p.add_argument("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
    _quiet(p)

    p = _add(sub, "generate", course.cmd_generate, "regenerate the assignments' support files and the student release",
             "Write source/<assignment>/nndl/ (helpers, data, public checks) and run nbgrader "
             "generate_assignment for each assignment, into release/.",
             "  nndl generate\n  nndl generate logistic_regression --course-dir ~/course\n")
    p.add_argument("assignments", nargs="*", help="assignments to generate (default: all five)")
    p.add_argument("--course-dir", default=".", help="the course folder (default: the current folder)")
    _quiet(p)

    p = _add(sub, "check", course.cmd_check, "students: run your notebook's public checks, as the grader will",
             "Run the code cells of your saved notebook in a fresh kernel, in order, then the public checks of "
             "the assignment (the ones in the notebook's test cells), exactly as the grader runs them. Prints "
             "each function's public points, what failed and why, and any known mistake the result looks "
             "like. Only public checks run: the hidden ones run when your instructor grades. Save the notebook "
             "first: the file is what is checked.\n\n"
             "Exit code 0 when every public check passes, 1 when some fail, 2 when there is no such file, "
             "3 when the notebook cannot be read (e.g. not valid JSON) or its assignment cannot be told.",
             "  nndl check python_basics.ipynb\n"
             "  nndl check .                          the notebook of the assignment folder you are in\n"
             "  nndl check my_copy.ipynb --assignment logistic_regression\n"
             "  nndl check python_basics.ipynb --json > report.json\n")
    p.add_argument("notebook", help="your saved notebook (.ipynb), or the assignment folder holding it")
    p.add_argument("--assignment", help="the assignment, when the file name does not say which")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _quiet(p)

    p = _add(sub, "grade", grade.cmd_grade, "instructors: grade one notebook, one assignment, or every assignment",
             "TARGET is an assignment, a notebook file, or --all.\n\n"
             "An assignment: grade submitted/*/ASSIGNMENT/ with the sandboxed grader, in local worker processes "
             "or on a Dask cluster, and record the scores in nbgrader's gradebook and autograded/ as 'nbgrader "
             "autograde' does (then feedback and export work as usual). The seed of the hidden checks is "
             "recorded in .nndl/runs/ASSIGNMENT.json; a run that is stopped resumes where it was, and "
             "submissions already graded with the same seed and notebook are skipped.\n\n"
             "--all: the same for every assignment that has submissions.\n\n"
             "A notebook: grade that one notebook in the sandbox with every check, public and hidden, and "
             "print its report (each function's score, each check, diagnosed mistakes); nothing is recorded. "
             "The seed is --seed, else the one recorded for the assignment in the course, else 0.\n\n"
             "Student code runs in a sandbox (see 'nndl doctor'); where this machine cannot isolate it, "
             "grading refuses with exit code 3 and writes nothing, unless --allow-unsandboxed.\n\n"
             "Exit code 0 when everything was graded, 1 when some submissions could not be (nothing is "
             "recorded for them; the next run tries them again), 2 for usage errors, 3 for an unknown "
             "assignment, a corrupt gradebook, an unreadable notebook, nothing to grade or no sandbox, "
             "130 when interrupted.",
             "  nndl grade python_basics                         every submission, one worker per CPU\n"
             "  nndl grade python_basics --course-dir ~/course --workers 2 -q\n"
             "  nndl grade python_basics --scheduler tcp://scheduler:8786 --json   on a Dask cluster\n"
             "  nndl grade python_basics --force                 grade everything again with a new seed\n"
             "  nndl grade --all\n"
             "  nndl grade submitted/ada/python_basics/python_basics.ipynb\n"
             "  nndl grade ~/Downloads/ada.ipynb --assignment python_basics --seed 3 --json\n")
    p.add_argument("target", nargs="?", metavar="TARGET", help="an assignment, or a notebook file")
    p.add_argument("--all", action="store_true", help="every assignment of the course that has submissions")
    p.add_argument("--assignment", help="a notebook's assignment, when its file name does not say which")
    _course(p)
    p.add_argument("--workers", type=int, help="local worker processes (default: one per CPU; 0 grades in this "
                                               "process); with --scheduler, the submissions in flight at once")
    p.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:port); its workers must see the "
                                       "course folder at the same path")
    p.add_argument("--seed", type=int, help="the seed of the hidden checks (default: the one recorded for the "
                                            "assignment, or a new secret one; 0 for a notebook with none recorded)")
    p.add_argument("--force", action="store_true", help="grade every submission again (with a new secret seed "
                                                        "unless --seed is given)")
    p.add_argument("--allow-unsandboxed", action="store_true",
                   help="grade even where this machine cannot isolate student code (see 'nndl doctor'): the "
                        "students' code then runs with your permissions and can read the reference; every "
                        "report says so. Also c.SandboxedGrading.allow_unsandboxed in nbgrader_config.py")
    p.add_argument("--json", action="store_true", help="print the report as JSON (no progress)")
    _quiet(p)

    p = _add(sub, "doctor", grade.cmd_doctor, "instructors: can this machine grade safely? the sandbox mode and why",
             "Print the sandbox mode grading would use on this machine (full: as root; rootless: an ordinary "
             "user with unprivileged user namespaces; none: grading refuses), why, what a student's kernel is "
             "kept from in that mode and what is not enforced, and whether the course's nbgrader_config.py "
             "makes nbgrader autograde (and formgrader) grade through the same engine.\n\n"
             "Exit code 0 when grading can be isolated here, 3 when it cannot (grading would refuse).",
             "  nndl doctor\n  nndl doctor --course-dir ~/course --json\n")
    _course(p)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    _quiet(p)

    p = _add(sub, "feedback", reports.cmd_feedback, "instructors: HTML feedback per student and assignment",
             "Write an HTML page per graded student and assignment under feedback/: every check's score with "
             "its message and any diagnosed mistake, and plots where they help. Hidden checks show their "
             "score and the grader's message, never their inputs or code.\n\n"
             "Exit code 3 when there is no readable gradebook, or an unknown assignment or student.",
             "  nndl feedback                         every assignment and student\n"
             "  nndl feedback python_basics\n"
             "  nndl feedback python_basics --student ada --student cy\n")
    p.add_argument("assignment", nargs="?", help="only this assignment (default: all)")
    p.add_argument("--student", action="append", metavar="S", help="only this student (repeatable)")
    _course(p)
    _quiet(p)

    p = _add(sub, "export", reports.cmd_export, "instructors: grades for nbgrader, Canvas or Gradescope",
             "Write the gradebook's grades in another tool's layout:\n"
             "  nbgrader    nbgrader's CSV (nbgrader export), default grades.csv\n"
             "  canvas      a CSV that Canvas imports (Grades > Import), default reports/canvas_grades.csv;\n"
             "              --roster (Canvas's own export) matches students and assignment columns\n"
             "  gradescope  a Gradescope results.json per submission, default reports/gradescope/\n\n"
             "Exit code 1 when the Canvas file was written without students the roster lacks, 3 when there "
             "is no readable gradebook or an unknown assignment.",
             "  nndl export                                     grades.csv\n"
             "  nndl export --format canvas --roster ~/Downloads/canvas_gradebook.csv --to grades_canvas.csv\n"
             "  nndl export --format gradescope python_basics\n")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (canvas, gradescope)")
    p.add_argument("--format", choices=["nbgrader", "canvas", "gradescope"], default="nbgrader",
                   help="the layout (default nbgrader)")
    p.add_argument("--to", metavar="PATH", help="the file (nbgrader, canvas) or folder (gradescope) to write")
    p.add_argument("--roster", metavar="CSV", help="Canvas's gradebook export, to match students (canvas only)")
    _course(p)
    _quiet(p)

    p = _add(sub, "dashboard", reports.cmd_dashboard, "instructors: the class dashboard (HTML with plots)",
             "Build an HTML page with PNG plots: the grade distribution per assignment, the failure rate of "
             "every check, the most common diagnosed mistakes, and the submissions that timed out or "
             "crashed. Exit code 3 when there is no readable gradebook.",
             "  nndl dashboard\n  nndl dashboard --out /tmp/dashboard python_basics\n")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (default: all graded)")
    p.add_argument("--out", metavar="DIR", help="the folder to write (default reports/dashboard/ in the course)")
    _course(p)
    _quiet(p)

    p = _add(sub, "collect-zip", course.cmd_collect_zip, "instructors: an LMS download archive into submitted/",
             "Import a .zip of submissions downloaded from an LMS into submitted/<student>/ASSIGNMENT/ with "
             "nbgrader's zip_collect. Each file's path in the archive must tell the student: by default\n"
             "  <student>_[late_]<user id>_<submission id>_<file>[-<n>].ipynb   (Canvas)\n"
             "  <student>_[anything_]ASSIGNMENT[-<n>].ipynb\n"
             "so smithjane_1234_5678_python_basics.ipynb is student smithjane's python_basics.ipynb. "
             "--regexp replaces both: a Python regular expression matched against the whole path, with the "
             "named groups student_id and file_id.\n\n"
             "Files that are not collected are listed with the reason: not a notebook, no student in the "
             "name, an older copy of a re-uploaded notebook (the highest -<n> is kept), one name shared by two "
             "Canvas users, or a student who already has a submission: it is kept unless --force, which moves "
             "it to downloaded/ASSIGNMENT/<run>/replaced/ first (nothing is deleted). Students not in the "
             "gradebook yet are collected and listed; they are added to the gradebook when graded. Every run "
             "keeps a copy of the archive, the extracted files and its decisions (plan.json) under "
             "downloaded/ASSIGNMENT/<run>/.\n\n"
             "Exit code 0 when every file was collected, 1 when some were not, 3 when none was (or the archive "
             "or assignment is not usable).",
             "  nndl collect-zip ~/Downloads/submissions.zip python_basics\n"
             "  nndl collect-zip subs.zip python_basics --force        replace earlier submissions\n"
             "  nndl collect-zip subs.zip python_basics --regexp '[^_]+_(late_)?(?P<student_id>\\d+)_\\d+_"
             "(?P<file_id>.+?)(-\\d+)?\\.ipynb'\n"
             "                                                        Canvas's user id as the student id\n")
    p.add_argument("archive", help="the .zip downloaded from the LMS")
    p.add_argument("assignment", help="the assignment the archive holds")
    _course(p)
    p.add_argument("--regexp", metavar="R", help="how file paths name students: named groups student_id and file_id")
    p.add_argument("--force", action="store_true", help="replace students' earlier submissions (moved aside)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _quiet(p)

    p = _add(sub, "mutants", course.cmd_mutants, "maintainers: run every known mistake against the checks",
             "Each catalogued mistake is a mutant of the reference solution. A mutant is killed when it fails "
             "exactly the checks it should and every failure names the mistake. Exit code 1 when a mutant "
             "survives.",
             "  nndl mutants\n  nndl mutants -a planar_classification\n")
    p.add_argument("-a", "--assignment", help="only this assignment (default: all five)")
    p.add_argument("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
    _quiet(p)

    p = _add(sub, "figures", course.cmd_figures, "maintainers: train the reference models and print costs and accuracies",
             "Train the notebooks' models with the reference solution and print the cost and the train/test "
             "accuracy each reaches (about a minute).",
             "  nndl figures\n  nndl figures --image-set catvnoncat --data-dir ~/classic --planar\n")
    p.add_argument("--image-set", default="digits", help="digits (default, bundled) or catvnoncat")
    p.add_argument("--data-dir", help="folder holding the image set's train_/test_ files")
    p.add_argument("--planar", action="store_true", help="also the planar flower and its hidden-size sweep")
    p.add_argument("--skip-images", action="store_true", help="skip the image models")
    _quiet(p)

    p = _add(sub, "data", course.cmd_data, "verify or install data sets",
             "install-classic FOLDER: verify the classic cat files by sha256 and copy them where the notebooks "
             "find them. verify [FOLDER]: load an image set and print its shapes. Exit code 3 when the files "
             "are missing or do not verify.",
             "  nndl data install-classic ~/classic\n  nndl data verify\n"
             "  nndl data verify ~/classic --name catvnoncat\n")
    p.add_argument("action", choices=["install-classic", "verify"])
    p.add_argument("folder", nargs="?", help="folder holding train_<name>.h5 and test_<name>.h5")
    p.add_argument("--name", default="digits", help="image set for verify (default digits)")
    _quiet(p)
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
