"""The commands that build and check the course: quickstart, generate, check, collect-zip, mutants, figures, data."""
import sys
from pathlib import Path

from autograder.cli.common import (CommandError, course_folder, error, known_assignments, print_json,
                                    reporter, working)
from autograder.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK


# --------------------------------------------------------------------------- quickstart, generate


def cmd_quickstart(args):
    from autograder.cli import quickstart

    known_assignments(args.assignments)
    try:
        return quickstart.run(args.dir, args.assignments, seed=args.seed, quiet=args.quiet)
    except RuntimeError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None


def cmd_generate(args):
    from autograder.generate import course
    from autograder.checks.namespace import ASSIGNMENTS

    assignments = known_assignments(args.assignments) or list(ASSIGNMENTS)
    try:
        release = course.generate(assignments, args.course_dir, progress=reporter(args))
    except course.NotACourse as exc:
        raise CommandError(str(exc), EXIT_BAD_INPUT) from None
    except RuntimeError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    print(f"release written to {release}")
    return EXIT_OK


# --------------------------------------------------------------------------- check (students)


def cmd_check(args):
    from autograder.grade import selfcheck
    from autograder.nndl.checks import Outcome
    from autograder.nndl.report import format_report

    try:
        path, assignment, _ = selfcheck.prepare(args.notebook, args.assignment)
        with working(f"checking {path.name} ({assignment}): running your code cells, then the public checks, "
                      "in a fresh kernel...", args):
            report = selfcheck.run(path, assignment)
    except selfcheck.CheckError as exc:
        raise CommandError(str(exc), exc.code) from None
    if args.json:
        print_json(selfcheck.to_json(report))
    else:  # the table the student's own check command prints (python -m nndl check), from the same formatter
        outcomes = [Outcome(row.check, row.function, row.description, row.points, row.passed, str(row.status),
                            row.messages, [(m.title, m.hint) for m in row.mistakes]) for row in report.record.checks]
        print(format_report(f"{path.name} ({assignment})", outcomes, report.messages, command="nndl check"))
    return EXIT_OK if report.passed else EXIT_FAILED




# --------------------------------------------------------------------------- collect-zip


def cmd_collect_zip(args):
    from autograder.grade import collect

    course = course_folder(args)
    try:
        report = collect.collect_zip(args.archive, args.assignment, course, regexp=args.regexp, force=args.force,
                                     progress=reporter(args))
    except collect.CollectError as exc:
        raise CommandError(str(exc), exc.code) from None
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.format())
    if not report.collected:
        if not args.json:
            error(f"nothing was collected from {Path(args.archive).name} (see the reasons above)")
        return EXIT_BAD_INPUT
    return EXIT_OK if report.ok else EXIT_FAILED


# --------------------------------------------------------------------------- maintainers


def cmd_mutants(args):
    from autograder.checks.mutants import format_table, run_suite
    from autograder.checks.namespace import ASSIGNMENTS

    assignments = known_assignments([args.assignment]) if args.assignment else list(ASSIGNMENTS)

    def progress(i, n, name):
        if not args.quiet:
            print(f"\r[{i + 1}/{n}] {name:<40}", end="", file=sys.stderr, flush=True)

    results = run_suite(assignments, seed=args.seed, progress=progress)
    if not args.quiet:
        print("\r" + " " * 50 + "\r", end="", file=sys.stderr)
    print(format_table(results))
    return EXIT_OK if all(r.killed for r in results) else EXIT_FAILED


def cmd_figures(args):
    from autograder.generate import figures

    say = reporter(args)
    if not args.skip_images:
        results = figures.image_figures(args.image_set, args.data_dir, progress=say)
        print(figures.format_image_figures(args.image_set, results))
    if args.planar:
        for label, acc in figures.planar_figures(progress=say).items():
            print(f"planar flower {label:<14} accuracy {acc:.2f} %")
    return EXIT_OK


def cmd_data(args):
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
