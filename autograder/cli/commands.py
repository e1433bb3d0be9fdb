"""The ``nndl`` command: the course's tools for students, instructors and maintainers.

Every subcommand returns one of the exit codes below, the same across commands, so scripts can
rely on them. Errors are one sentence on stderr saying what to do (``NNDL_DEBUG=1`` shows the
traceback of an unexpected one); progress goes to stderr too (``-q`` silences it), results to
stdout (``--json`` for machine-readable output where a command has results).
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from autograder.reports.text import table

from autograder.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UserError  # noqa: F401

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


class CommandError(UserError):
    """A command cannot do its job: ``str(exc)`` is the sentence for stderr, ``code`` the exit code."""


# --------------------------------------------------------------------------- output helpers


def _error(message):
    print(f"error: {message}", file=sys.stderr, flush=True)


def _say(args):
    """A progress function writing to stderr, or one that says nothing with -q/--json."""
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return lambda message: None
    return lambda message: print(message, file=sys.stderr, flush=True)


def _print_json(data):
    def plain(obj):
        try:
            import numpy as np
            if isinstance(obj, np.ndarray):
                return obj.tolist()
            if isinstance(obj, np.generic):
                return obj.item()
        except ImportError:
            pass
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON")
    print(json.dumps(data, indent=1, default=plain))


@contextmanager
def _working(message, args):
    """``message`` on stderr while a long step runs, with the seconds elapsed on a terminal."""
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        yield
        return
    stream = sys.stderr
    if not stream.isatty():
        print(message, file=stream, flush=True)
        yield
        return
    done = threading.Event()
    start = time.monotonic()

    def tick():
        while not done.wait(1.0):
            stream.write(f"\r{message} {time.monotonic() - start:.0f} s")
            stream.flush()

    stream.write(message)
    stream.flush()
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        stream.write(f"\r{message} {time.monotonic() - start:.0f} s\n")
        stream.flush()


def _assignments(names, what="assignment"):
    """``names`` checked against the course's assignments (raises ``CommandError``)."""
    from autograder.checks.namespace import ASSIGNMENTS

    unknown = [a for a in names if a not in ASSIGNMENTS]
    if unknown:
        raise CommandError(f"unknown {what}{'s' * (len(unknown) > 1)} {', '.join(unknown)}; the course has "
                           f"{', '.join(ASSIGNMENTS)}")
    return list(names)


def _course_dir(args):
    course = Path(getattr(args, "course_dir", None) or ".").expanduser().resolve()
    if not course.is_dir():
        raise CommandError(f"there is no course folder {course}: run this in the course folder or pass --course-dir")
    return course


def _gradebook(course, required=True):
    """Make sure ``course`` has a readable nbgrader gradebook (raises ``CommandError``; reads only)."""
    import sqlite3

    path = course / "gradebook.db"
    if not path.exists():
        if required:
            raise CommandError(f"there is no gradebook in {course}: run this in the course folder (or pass "
                               "--course-dir) after grading with 'nndl grade'")
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.Error as exc:
        raise CommandError(f"{path} is corrupt or not an nbgrader gradebook ({exc}); restore it from a backup "
                           "(nothing was changed)") from None
    if required and not {"student", "assignment"} <= tables:
        raise CommandError(f"{path} is not an nbgrader gradebook (it has no student and assignment tables); "
                           "restore it from a backup (nothing was changed)")


# --------------------------------------------------------------------------- quickstart, generate


def _cmd_quickstart(args):
    from autograder.cli import quickstart

    _assignments(args.assignments)
    try:
        return quickstart.run(args.dir, args.assignments, seed=args.seed, quiet=args.quiet)
    except RuntimeError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None


def _cmd_generate(args):
    from autograder.generate import course
    from autograder.checks.namespace import ASSIGNMENTS

    assignments = _assignments(args.assignments) or list(ASSIGNMENTS)
    try:
        release = course.generate(assignments, args.course_dir, progress=_say(args))
    except course.NotACourse as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from None
    except RuntimeError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    print(f"release written to {release}")
    return EXIT_OK


# --------------------------------------------------------------------------- check (students)


def _cmd_check(args):
    from autograder.grade import selfcheck

    try:
        path, assignment, _ = selfcheck.prepare(args.notebook, args.assignment)
        with _working(f"checking {path.name} ({assignment}): running your code cells, then the public checks, "
                      "in a fresh kernel...", args):
            report = selfcheck.run(path, assignment)
    except selfcheck.CheckError as exc:
        raise CommandError(str(exc), exc.code) from None
    if args.json:
        _print_json(selfcheck.to_json(report))
    else:
        print(selfcheck.format_report(report))
    return EXIT_OK if report.passed else EXIT_FAILED


# --------------------------------------------------------------------------- grade (instructors)


def _on_sigterm():
    """Make ``kill`` (SIGTERM) stop the command like Ctrl-C; returns the handler to put back (or None)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


def _cmd_grade(args):
    from autograder.checks.namespace import ASSIGNMENTS

    if args.workers is not None and args.workers < 0:
        raise CommandError("--workers must be 0 or more", EXIT_USAGE)
    if args.all:
        if args.target:
            raise CommandError("give either an assignment or notebook, or --all, not both", EXIT_USAGE)
        return _grade_all(args)
    target = Path(args.target).expanduser()
    if args.target in ASSIGNMENTS and not target.is_file():
        if args.assignment and args.assignment != args.target:
            raise CommandError("--assignment is for grading one notebook; to grade an assignment, name it alone",
                               EXIT_USAGE)
        return _grade_assignment(args, args.target)
    if target.exists() or args.target.endswith(".ipynb"):
        for flag, value in (("--scheduler", args.scheduler), ("--force", args.force), ("--workers", args.workers)):
            if value:
                raise CommandError(f"{flag} is for grading a whole assignment, not one notebook", EXIT_USAGE)
        return _grade_notebook(args, target)
    raise CommandError(f"{args.target} is neither a notebook file nor an assignment of the course "
                       f"({', '.join(ASSIGNMENTS)})")


def _allow_unsandboxed(args, course):
    from autograder.grade.autograde import allowed_unsandboxed

    return bool(getattr(args, "allow_unsandboxed", False)) or allowed_unsandboxed(course)


def _batch(args, course, assignment, progress):
    from autograder.grade.batch import grade_assignment

    return grade_assignment(course, assignment, workers=args.workers, scheduler=args.scheduler, seed=args.seed,
                            force=args.force, progress=progress, allow_unsandboxed=_allow_unsandboxed(args, course))


def _refused(exc):
    """The ``CommandError`` (exit code 3) of a machine that cannot isolate student code."""
    return CommandError(f"grading refused, nothing was graded or written: {exc}; or accept the risk with "
                        "--allow-unsandboxed", EXIT_BAD_INPUT)


def _grade_assignment(args, assignment):
    from autograder.grade.batch import BatchError
    from autograder.grade.gradebook import GradebookError
    from autograder.grade.sandbox import SandboxUnavailable

    course = _course_dir(args)
    _gradebook(course, required=False)
    try:
        report = _batch(args, course, assignment, progress=not (args.quiet or args.json))
    except SandboxUnavailable as exc:
        raise _refused(exc) from None
    except KeyboardInterrupt:
        print("\ninterrupted: what was graded is in the gradebook; run the same command again to grade "
              "the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BatchError, GradebookError) as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report.format())
    return EXIT_OK if report.ok else EXIT_FAILED


def _with_submissions(course):
    from autograder.checks.namespace import ASSIGNMENTS

    submitted = course / "submitted"
    if not submitted.is_dir():
        return []
    return [a for a in ASSIGNMENTS if any(p.is_dir() for p in submitted.glob(f"*/{a}"))]


def _grade_all(args):
    from autograder.grade.batch import BatchError
    from autograder.grade.gradebook import GradebookError

    course = _course_dir(args)
    _gradebook(course, required=False)
    assignments = _with_submissions(course)
    if not assignments:
        raise CommandError(f"nothing to grade: {course / 'submitted'} holds no <student>/<assignment>/ folder "
                           "(collect the submissions first: nbgrader collect, or nndl collect-zip)")
    from autograder.grade.batch import grade_assignments

    say = _say(args)
    errors = {}
    say(f"grading {', '.join(assignments)} in one batch")
    from autograder.grade.sandbox import SandboxUnavailable

    try:
        found = grade_assignments(course, assignments, workers=args.workers, scheduler=args.scheduler,
                                  seed=args.seed, force=args.force, progress=not (args.quiet or args.json),
                                  errors=errors, allow_unsandboxed=_allow_unsandboxed(args, course))
    except SandboxUnavailable as exc:
        raise _refused(exc) from None
    except KeyboardInterrupt:
        print("\ninterrupted: what was graded is in the gradebook; run the same command again to grade "
              "the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BatchError, GradebookError, OSError) as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    reports = {r.assignment: r for r in found}
    for assignment, message in errors.items():
        say(f"  {assignment} could not be graded: {message}")
    ok = bool(reports) and not errors and all(r.ok for r in reports.values())
    if args.json:
        _print_json({"ok": ok, "assignments": {a: r.to_dict() for a, r in reports.items()}, "errors": errors})
    else:
        for report in reports.values():
            print(report.format(), end="\n\n")
        rows = [("assignment", "submissions", "graded", "already graded", "failed")]
        for a in assignments:
            r = reports.get(a)
            rows.append((a, r.total, len(r.graded), len(r.skipped), len(r.failed)) if r else
                        (a, "-", "-", "-", "not graded"))
        print(table(rows))
        for a, message in errors.items():
            print(f"  {a}: {message}")
    if not reports:
        return EXIT_BAD_INPUT
    return EXIT_OK if ok else EXIT_FAILED


def _grade_notebook(args, path):
    from autograder.generate import course as course_mod
    from autograder.grade import pool, state, selfcheck, results, runner

    try:
        path = selfcheck.find_notebook(path)
    except selfcheck.CheckError as exc:
        raise CommandError(str(exc), exc.code) from None
    reason = selfcheck.unreadable(path)
    if reason is not None:
        raise CommandError(f"{path} cannot be read: {reason}; 'nndl grade ASSIGNMENT' grades such a submission "
                           "as an empty notebook with a note to the student")
    try:
        assignment = selfcheck.choose_assignment(path, args.assignment)
    except selfcheck.CheckError as exc:
        raise CommandError(str(exc), exc.code) from None
    course = _course_dir(args)
    support = course / "release" / assignment / "nndl"
    if not support.is_dir():
        support = course_mod.repo_root() / "release" / assignment / "nndl"
    if not support.is_dir():
        raise CommandError(f"there is no release/{assignment}/nndl/ in {course} or in the installed course: "
                           f"run nndl generate {assignment} first")
    if args.seed is not None:
        seed, source = args.seed, "given"
    else:
        recorded = (state.recorded_run(course, assignment) or {}).get("seed")
        seed, source = (recorded, "recorded for the assignment") if isinstance(recorded, int) else (0, "default")
    from autograder.grade.sandbox import SandboxUnavailable

    hidden = tuple(str(course / name) for name in state.HIDDEN_FROM_KERNEL if (course / name).exists())
    allow = _allow_unsandboxed(args, course)
    if not allow:
        try:
            pool.require_isolation()
        except SandboxUnavailable as exc:
            raise _refused(exc) from None
    with _working(f"grading {path.name} ({assignment}, seed {seed}) in a sandboxed kernel...", args):
        result = runner.grade_submission(path, assignment, _student_of(path, assignment), seed, support,
                                         hidden_paths=hidden, allow_unsandboxed=allow)
    if result.status == runner.NOT_GRADED:
        raise CommandError(f"{path} was not graded: {result.reason}", EXIT_FAILED)
    record = results.summarize(result, figures=[])
    record.pop("figures", None)
    if args.json:
        _print_json({"notebook": str(path), "seed": seed, "seed_source": source, **record})
        return EXIT_OK
    print(_format_graded(path, assignment, seed, source, result))
    return EXIT_OK


def _student_of(path, assignment):
    """The student of ``submitted/<student>/<assignment>/<notebook>``, else the notebook's name."""
    parts = path.resolve().parts
    if len(parts) >= 3 and parts[-2] == assignment:
        return parts[-3]
    return path.stem


def _format_graded(path, assignment, seed, source, result):
    from autograder.reports.cell_report import format_verdicts
    from autograder.checks.spec import Verdict

    lines = [f"{path}: {assignment}, seed {seed} ({source}): {result.score:g} of {result.max_score:g} points", ""]
    by_function = {}
    for v in result.verdicts:
        by_function.setdefault(v["function"], []).append(Verdict(**v))
    rows = [("function", "points", "public", "hidden")]
    for function, verdicts in by_function.items():
        got, out_of = sum(v.score for v in verdicts), sum(v.points for v in verdicts)

        def state(hidden):
            mine = [v for v in verdicts if v.hidden == hidden]
            return "-" if not mine else "pass" if all(v.passed for v in mine) else "FAIL"
        rows.append((function, f"{got:g}/{out_of:g}", state(False), state(True)))
    lines += [table(rows), ""]
    for function, verdicts in by_function.items():
        lines += [format_verdicts(assignment, function, verdicts), ""]
    if result.messages:
        lines += ["notes on the run:", *[f"  {m}" for m in result.messages], ""]
    lines.append(f"sandbox: {result.sandbox}")
    if result.sandbox == "unsandboxed":
        lines.append("WARNING: graded WITHOUT the sandbox (--allow-unsandboxed): the notebook's code ran with your "
                     "permissions and could read the reference; do not trust this score.")
    lines.append("(nothing was recorded: 'nndl grade ASSIGNMENT' grades into the gradebook)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- doctor


def _cmd_doctor(args):
    from autograder.grade import autograde, sandbox
    from autograder.grade.gradebook import load_config

    found = sandbox.isolation()
    course = Path(getattr(args, "course_dir", None) or ".").expanduser().resolve()
    configured = None
    if (course / "nbgrader_config.py").is_file():
        try:
            configured = autograde.installed(load_config(course))
        except Exception:  # noqa: BLE001 - a broken config: say so below
            configured = False
    allowed = autograde.allowed_unsandboxed(course) if configured is not None else False
    if args.json:
        _print_json({"mode": found.mode, "reason": found.reason, "enforced": list(found.enforced),
                     "missing": list(found.missing), "how_to_enable": found.how_to_enable,
                     "course": str(course) if configured is not None else None,
                     "nbgrader_autograde_uses_engine": configured, "allow_unsandboxed": allowed})
    else:
        print(sandbox.describe())
        if configured is None:
            print(f"\n{course} is not a course folder (no nbgrader_config.py): run this in the course, or pass "
                  "--course-dir, to check how nbgrader autograde grades there")
        elif configured:
            print(f"\nnbgrader autograde and formgrader in {course} grade through the same sandboxed engine "
                  "as nndl grade")
        else:
            print(f"\nWARNING: {course / 'nbgrader_config.py'} does not grade through the engine "
                  "(Autograde.autograde_preprocessors lacks SandboxedGrading): nbgrader autograde there would "
                  "refuse every test cell; copy the course's nbgrader_config.py")
        if allowed:
            print("WARNING: the course allows grading without the sandbox (SandboxedGrading.allow_unsandboxed)")
    return EXIT_OK if found.mode is not None else EXIT_BAD_INPUT


# --------------------------------------------------------------------------- reports


def _written(paths, what):
    """One line per written file, or a count and their folder when there are many."""
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple, set)) else [paths]) if p]
    if not paths:
        return f"no {what} written"
    if len(paths) <= 5:
        return "\n".join(f"wrote {p}" for p in paths)
    common = Path(os.path.commonpath([str(p) for p in paths]))
    return f"wrote {len(paths)} {what} under {common}"


def _paths_of(value):
    """The file paths in what a report function returned (a path, a list of them, or a mapping)."""
    if isinstance(value, (str, Path)):
        return [value]
    if isinstance(value, dict):
        found = []
        for item in value.values():
            found += _paths_of(item)
        return found
    if isinstance(value, (list, tuple, set)):
        found = []
        for item in value:
            found += _paths_of(item)
        return found
    return []


def _cmd_feedback(args):
    course = _course_dir(args)
    if args.assignment:
        _assignments([args.assignment])
    _gradebook(course)
    from autograder.reports import feedback

    with _working(f"writing feedback{' for ' + args.assignment if args.assignment else ''}...", args):
        try:
            written = feedback.generate(course, assignment=args.assignment, students=args.student or None)
        except feedback.FeedbackError as exc:
            if "generate_feedback" in str(exc):  # nbgrader failed on some submissions; our pages were written
                raise CommandError(str(exc), EXIT_FAILED) from None
            raise CommandError(str(exc)) from None
    print(_written(_paths_of(written), "feedback files"))
    return EXIT_OK


def _cmd_export(args):
    course = _course_dir(args)
    _assignments(args.assignments)
    if args.format == "nbgrader" and args.assignments:
        raise CommandError("the nbgrader CSV holds every assignment: name assignments only with --format canvas "
                           "or gradescope", EXIT_USAGE)
    if args.roster and args.format != "canvas":
        raise CommandError("--roster is for --format canvas", EXIT_USAGE)
    if args.roster and not Path(args.roster).expanduser().is_file():
        raise CommandError(f"there is no roster file {args.roster}: export the gradebook from Canvas "
                           "(Grades > Export) and pass that CSV", EXIT_USAGE)
    _gradebook(course)
    from autograder.reports import exports

    assignments = args.assignments or None
    try:
        if args.format == "nbgrader":
            written = exports.nbgrader_csv(course, path=args.to)
        elif args.format == "canvas":
            written = exports.canvas_csv(course, path=args.to, assignments=assignments, roster=args.roster)
        else:
            written = exports.gradescope(course, out_dir=args.to, assignments=assignments)
    except exports.ExportError as exc:
        partial = getattr(exc, "path", None)
        if partial is not None:  # written, but some students were left out
            print(f"wrote {partial}")
            _error(str(exc))
            return EXIT_FAILED
        raise CommandError(str(exc)) from None
    print(_written(_paths_of(written), "files"))
    return EXIT_OK


def _cmd_dashboard(args):
    course = _course_dir(args)
    _assignments(args.assignments)
    _gradebook(course)
    from autograder.reports import dashboard

    with _working("building the class dashboard...", args):
        try:
            written = dashboard.build(course, out_dir=args.out, assignments=args.assignments or None)
        except dashboard.DashboardError as exc:
            raise CommandError(str(exc)) from None
    paths = _paths_of(written)
    index = [p for p in paths if str(p).endswith(".html")]
    print(f"dashboard: {index[0]}" if len(index) == 1 else _written(paths, "files"))
    return EXIT_OK


# --------------------------------------------------------------------------- collect-zip


def _cmd_collect_zip(args):
    from autograder.grade import collect

    course = _course_dir(args)
    try:
        report = collect.collect_zip(args.archive, args.assignment, course, regexp=args.regexp, force=args.force,
                                     progress=_say(args))
    except collect.CollectError as exc:
        raise CommandError(str(exc), exc.code) from None
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report.format())
    if not report.collected:
        if not args.json:
            _error(f"nothing was collected from {Path(args.archive).name} (see the reasons above)")
        return EXIT_BAD_INPUT
    return EXIT_OK if report.ok else EXIT_FAILED


# --------------------------------------------------------------------------- maintainers


def _cmd_mutants(args):
    from autograder.checks.mutants import format_table, run_suite
    from autograder.checks.namespace import ASSIGNMENTS

    assignments = _assignments([args.assignment]) if args.assignment else list(ASSIGNMENTS)

    def progress(i, n, name):
        if not args.quiet:
            print(f"\r[{i + 1}/{n}] {name:<40}", end="", file=sys.stderr, flush=True)

    results = run_suite(assignments, seed=args.seed, progress=progress)
    if not args.quiet:
        print("\r" + " " * 50 + "\r", end="", file=sys.stderr)
    print(format_table(results))
    return EXIT_OK if all(r.killed for r in results) else EXIT_FAILED


def _cmd_figures(args):
    from autograder.generate import figures

    say = _say(args)
    if not args.skip_images:
        results = figures.image_figures(args.image_set, args.data_dir, progress=say)
        print(figures.format_image_figures(args.image_set, results))
    if args.planar:
        for label, acc in figures.planar_figures(progress=say).items():
            print(f"planar flower {label:<14} accuracy {acc:.2f} %")
    return EXIT_OK


def _cmd_data(args):
    from nndl_data import DataError, install_classic_data, load_dataset

    try:
        if args.action == "install-classic":
            dest = install_classic_data(args.folder)
            print(f"verified and installed the classic cat files in {dest}")
        else:
            train_x, train_y, test_x, test_y, classes = load_dataset(args.name, args.folder)
            print(f"{args.name}: train {train_x.shape} ({int(train_y.sum())} positive), "
                  f"test {test_x.shape} ({int(test_y.sum())} positive), classes {[c.decode() for c in classes]}")
    except DataError as exc:
        raise CommandError(str(exc)) from None
    return EXIT_OK


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

    p = _add(sub, "quickstart", _cmd_quickstart, "build the release, grade sample submissions and print the scores",
             "In a fresh course folder (default ./nndl-quickstart): generate the student release with nbgrader, "
             "write sample submissions (a student who solved everything, one who handed in the stubs, two with "
             "typical mistakes), autograde them, write feedback and grades.csv, and print the score table.",
             "  nndl quickstart\n  nndl quickstart python_basics --dir /tmp/try -q\n")
    p.add_argument("assignments", nargs="*", help="assignments to include (default: all five)")
    p.add_argument("--dir", default="nndl-quickstart", help="the course folder to create (default ./nndl-quickstart)")
    p.add_argument("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
    _quiet(p)

    p = _add(sub, "generate", _cmd_generate, "regenerate the assignments' support files and the student release",
             "Write source/<assignment>/nndl/ (helpers, data, public checks) and run nbgrader "
             "generate_assignment for each assignment, into release/.",
             "  nndl generate\n  nndl generate logistic_regression --course-dir ~/course\n")
    p.add_argument("assignments", nargs="*", help="assignments to generate (default: all five)")
    p.add_argument("--course-dir", default=".", help="the course folder (default: the current folder)")
    _quiet(p)

    p = _add(sub, "check", _cmd_check, "students: run your notebook's public checks, as the grader will",
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

    p = _add(sub, "grade", _cmd_grade, "instructors: grade one notebook, one assignment, or every assignment",
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

    p = _add(sub, "doctor", _cmd_doctor, "instructors: can this machine grade safely? the sandbox mode and why",
             "Print the sandbox mode grading would use on this machine (full: as root; rootless: an ordinary "
             "user with unprivileged user namespaces; none: grading refuses), why, what a student's kernel is "
             "kept from in that mode and what is not enforced, and whether the course's nbgrader_config.py "
             "makes nbgrader autograde (and formgrader) grade through the same engine.\n\n"
             "Exit code 0 when grading can be isolated here, 3 when it cannot (grading would refuse).",
             "  nndl doctor\n  nndl doctor --course-dir ~/course --json\n")
    _course(p)
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    _quiet(p)

    p = _add(sub, "feedback", _cmd_feedback, "instructors: HTML feedback per student and assignment",
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

    p = _add(sub, "export", _cmd_export, "instructors: grades for nbgrader, Canvas or Gradescope",
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

    p = _add(sub, "dashboard", _cmd_dashboard, "instructors: the class dashboard (HTML with plots)",
             "Build an HTML page with PNG plots: the grade distribution per assignment, the failure rate of "
             "every check, the most common diagnosed mistakes, and the submissions that timed out or "
             "crashed. Exit code 3 when there is no readable gradebook.",
             "  nndl dashboard\n  nndl dashboard --out /tmp/dashboard python_basics\n")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (default: all graded)")
    p.add_argument("--out", metavar="DIR", help="the folder to write (default reports/dashboard/ in the course)")
    _course(p)
    _quiet(p)

    p = _add(sub, "collect-zip", _cmd_collect_zip, "instructors: an LMS download archive into submitted/",
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

    p = _add(sub, "mutants", _cmd_mutants, "maintainers: run every known mistake against the checks",
             "Each catalogued mistake is a mutant of the reference solution. A mutant is killed when it fails "
             "exactly the checks it should and every failure names the mistake. Exit code 1 when a mutant "
             "survives.",
             "  nndl mutants\n  nndl mutants -a planar_classification\n")
    p.add_argument("-a", "--assignment", help="only this assignment (default: all five)")
    p.add_argument("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
    _quiet(p)

    p = _add(sub, "figures", _cmd_figures, "maintainers: train the reference models and print costs and accuracies",
             "Train the notebooks' models with the reference solution and print the cost and the train/test "
             "accuracy each reaches (about a minute).",
             "  nndl figures\n  nndl figures --image-set catvnoncat --data-dir ~/classic --planar\n")
    p.add_argument("--image-set", default="digits", help="digits (default, bundled) or catvnoncat")
    p.add_argument("--data-dir", help="folder holding the image set's train_/test_ files")
    p.add_argument("--planar", action="store_true", help="also the planar flower and its hidden-size sweep")
    p.add_argument("--skip-images", action="store_true", help="skip the image models")
    _quiet(p)

    p = _add(sub, "data", _cmd_data, "verify or install data sets",
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
    previous = _on_sigterm()
    try:
        return args.run(args)
    except CommandError as exc:
        _error(exc)
        return exc.code
    except KeyboardInterrupt:
        print("\ninterrupted: what was finished is kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one sentence, the traceback on request
        if os.environ.get("NNDL_DEBUG"):
            raise
        _error(f"unexpected {type(exc).__name__}: {exc} (set NNDL_DEBUG=1 to see where it happened; please "
               "report it)")
        return EXIT_FAILED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
