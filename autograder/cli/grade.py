"""``nndl grade`` (one notebook, one assignment, every assignment, or watching the exchange) and ``nndl doctor``.

One module: the command's ways of grading share its checks of the options, its refusals and its
report; each is a short function over ``autograder.grade``.
"""
import signal
import sys
import threading
from pathlib import Path

from autograder.cli.common import (CommandError, course_folder, print_json, reporter, require_gradebook,
                                    working)
from autograder.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from autograder.reports.text import table


# --------------------------------------------------------------------------- grade (instructors)


def on_sigterm():
    """Make ``kill`` (SIGTERM) stop the command like Ctrl-C; returns the handler to put back (or None)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


def cmd_grade(args):
    from autograder.checks.namespace import ASSIGNMENTS

    if args.workers is not None and args.workers < 0:
        raise CommandError("--workers must be 0 or more", EXIT_USAGE)
    if getattr(args, "watch", False):
        return _watch(args)
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


def _watch(args):
    """``nndl grade --watch``: collect, grade and release feedback in rounds until Ctrl-C."""
    from autograder.checks.namespace import ASSIGNMENTS
    from autograder.grade import watch

    if args.all == bool(args.target) or (args.target and args.target not in ASSIGNMENTS):
        raise CommandError("--watch takes an assignment or --all", EXIT_USAGE)
    if args.scheduler or args.force:
        raise CommandError("--watch grades on this machine, as submissions come: no --scheduler or --force",
                           EXIT_USAGE)
    if args.interval <= 0:
        raise CommandError("--interval must be more than 0 seconds", EXIT_USAGE)
    course = course_folder(args)
    require_gradebook(course)
    assignments = list(ASSIGNMENTS) if args.all else [args.target]
    say = reporter(args)
    say(f"watching {', '.join(assignments)}: a round every {args.interval:g} s (Ctrl-C stops; the same command "
        "resumes)")
    try:
        watch.watch(course, assignments, workers=args.workers or 1, interval=args.interval,
                    say=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        say("stopped: what was graded and released is kept")
        return EXIT_OK
    return EXIT_OK


def _allow_unsandboxed(args, course):
    from autograder.grade.autograde import allowed_unsandboxed

    return bool(getattr(args, "allow_unsandboxed", False)) or allowed_unsandboxed(course)


def _batch(args, course, assignment, progress):
    from autograder.grade.batch import grade_assignment

    return grade_assignment(course, assignment, workers=args.workers, scheduler=args.scheduler, seed=args.seed,
                            force=args.force, progress=progress, allow_unsandboxed=_allow_unsandboxed(args, course),
                            run_demos=bool(getattr(args, "run_demos", False)))


def _refused(exc):
    """The ``CommandError`` (exit code 3) of a machine that cannot isolate student code."""
    return CommandError(f"grading refused, nothing was graded or written: {exc}; or accept the risk with "
                        "--allow-unsandboxed", EXIT_BAD_INPUT)


def _graded(grade, error_code):
    """What ``grade()`` returns, or None when Ctrl-C stopped it (said on stderr); its failures as ``CommandError``.

    A machine that cannot isolate student code is refused (exit code 3); the batch's and the
    gradebook's errors end with ``error_code``, any other ``OSError`` with exit code 1.
    """
    from autograder.grade.batch import BatchError
    from autograder.grade.gradebook import GradebookError
    from autograder.grade.sandbox import SandboxUnavailable

    try:
        return grade()
    except SandboxUnavailable as exc:
        raise _refused(exc) from None
    except KeyboardInterrupt:
        print("\ninterrupted: what was graded is in the gradebook; run the same command again to grade "
              "the rest", file=sys.stderr)
        return None
    except (BatchError, GradebookError) as exc:
        raise CommandError(str(exc), error_code) from None
    except OSError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None


def _grade_assignment(args, assignment):
    course = course_folder(args)
    require_gradebook(course, required=False)
    report = _graded(lambda: _batch(args, course, assignment, progress=not (args.quiet or args.json)),
                     EXIT_BAD_INPUT)
    if report is None:
        return EXIT_INTERRUPTED
    if args.json:
        print_json(report.to_dict())
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
    course = course_folder(args)
    require_gradebook(course, required=False)
    assignments = _with_submissions(course)
    if not assignments:
        raise CommandError(f"nothing to grade: {course / 'submitted'} holds no <student>/<assignment>/ folder "
                           "(collect the submissions first: nbgrader collect, or nndl collect-zip)")
    from autograder.grade.batch import grade_assignments

    say = reporter(args)
    errors = {}
    say(f"grading {', '.join(assignments)} in one batch")
    found = _graded(lambda: grade_assignments(course, assignments, workers=args.workers, scheduler=args.scheduler,
                                              seed=args.seed, force=args.force,
                                              progress=not (args.quiet or args.json), errors=errors,
                                              allow_unsandboxed=_allow_unsandboxed(args, course),
                                              run_demos=bool(getattr(args, "run_demos", False))),
                    EXIT_FAILED)
    if found is None:
        return EXIT_INTERRUPTED
    reports = {r.assignment: r for r in found}
    for assignment, message in errors.items():
        say(f"  {assignment} could not be graded: {message}")
    ok = bool(reports) and not errors and all(r.ok for r in reports.values())
    if args.json:
        print_json({"ok": ok, "assignments": {a: r.to_dict() for a, r in reports.items()}, "errors": errors})
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
    from autograder.checks.status import Status
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
    course = course_folder(args)
    support = course / "release" / assignment / "nndl"
    if not support.is_dir():
        support = course_mod.repo_root() / "release" / assignment / "nndl"
    if not support.is_dir():
        raise CommandError(f"there is no release/{assignment}/nndl/ in {course} or in the installed course: "
                           f"run nndl generate {assignment} first")
    if args.seed is not None:
        seed, source = args.seed, "given"
    else:
        run = state.recorded_run(course, assignment)
        recorded = run.seed if run else None
        seed, source = (recorded, "recorded for the assignment") if isinstance(recorded, int) else (0, "default")
    from autograder.grade.sandbox import SandboxUnavailable

    hidden = tuple(str(course / name) for name in state.HIDDEN_FROM_KERNEL if (course / name).exists())
    allow = _allow_unsandboxed(args, course)
    if not allow:
        try:
            pool.require_isolation()
        except SandboxUnavailable as exc:
            raise _refused(exc) from None
    with working(f"grading {path.name} ({assignment}, seed {seed}) in a sandboxed kernel...", args):
        result = runner.grade_submission(path, assignment, _student_of(path, assignment), seed, support,
                                         hidden_paths=hidden, allow_unsandboxed=allow,
                                         demos=() if getattr(args, "run_demos", False) else None)
    if result.status is Status.NOT_GRADED:
        raise CommandError(f"{path} was not graded: {result.reason}", EXIT_FAILED)
    record = results.summarize(result, figures=[]).to_dict()
    record.pop("figures", None)
    if args.json:
        print_json({"notebook": str(path), "seed": seed, "seed_source": source, **record})
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

    lines = [f"{path}: {assignment}, seed {seed} ({source}): {result.score:g} of {result.max_score:g} points", ""]
    by_function = {}
    for v in result.verdicts:
        by_function.setdefault(v.function, []).append(v)
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


def cmd_doctor(args):
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
        print_json({"mode": found.mode, "reason": found.reason, "enforced": list(found.enforced),
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
