"""The ``nndl`` command: the course's tools for instructors, students and maintainers."""
import argparse
import sys

EXAMPLES = """examples:
  nndl quickstart                   build the release, grade sample submissions, print the scores
  nndl generate                     regenerate source/*/nndl/ and release/ after editing the course
  nndl generate logistic_regression
  nndl grade python_basics --course-dir ~/course   grade every submission in parallel into the gradebook
  nndl grade python_basics --scheduler tcp://scheduler:8786 --json   the same on a Dask cluster
  nndl mutants                      every catalogued mistake against the checks, with the kill rate
  nndl mutants -a planar_classification
  nndl figures                      the reference's accuracies on the default digits set
  nndl figures --image-set catvnoncat --data-dir ~/classic   the course's published figures
  nndl data install-classic ~/classic   verify and install the classic cat files
"""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _cmd_mutants(args):
    from autograder.mutation import format_table, run_suite
    from autograder.namespace import ASSIGNMENTS

    assignments = [args.assignment] if args.assignment else list(ASSIGNMENTS)

    def progress(i, n, name):
        if not args.quiet:
            print(f"\r[{i + 1}/{n}] {name:<40}", end="", file=sys.stderr, flush=True)

    results = run_suite(assignments, seed=args.seed, progress=progress)
    if not args.quiet:
        print("\r" + " " * 50 + "\r", end="", file=sys.stderr)
    print(format_table(results))
    return EXIT_OK if all(r.killed for r in results) else EXIT_FAILED


def _cmd_figures(args):
    from autograder import figures

    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
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
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_generate(args):
    from autograder import course
    from autograder.namespace import ASSIGNMENTS

    assignments = args.assignments or list(ASSIGNMENTS)
    unknown = [a for a in assignments if a not in ASSIGNMENTS]
    if unknown:
        print(f"error: unknown assignment(s) {', '.join(unknown)}; known: {', '.join(ASSIGNMENTS)}", file=sys.stderr)
        return EXIT_USAGE
    say = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    try:
        release = course.generate(assignments, args.course_dir, progress=say)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"release written to {release}")
    return EXIT_OK


def _cmd_grade(args):
    import json
    import signal

    from autograder.batch import BatchError, grade_assignment
    from autograder.gradebook import GradebookError
    from autograder.namespace import ASSIGNMENTS

    if args.assignment not in ASSIGNMENTS:
        print(f"error: unknown assignment {args.assignment}; known: {', '.join(ASSIGNMENTS)}", file=sys.stderr)
        return EXIT_USAGE
    if args.workers is not None and args.workers < 0:
        print("error: --workers must be 0 or more", file=sys.stderr)
        return EXIT_USAGE

    def stop(signum, frame):  # kill (SIGTERM) stops like Ctrl-C: the workers shut their kernels down
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        report = grade_assignment(args.course_dir, args.assignment, workers=args.workers, scheduler=args.scheduler,
                                  seed=args.seed, force=args.force, progress=not (args.quiet or args.json))
    except KeyboardInterrupt:
        print("\ninterrupted: what was graded is in the gradebook; run the same command again to grade "
              "the rest", file=sys.stderr)
        return 130
    except (BatchError, GradebookError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.format())
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_quickstart(args):
    from autograder import quickstart

    try:
        return quickstart.run(args.dir, args.assignments, seed=args.seed, quiet=args.quiet)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nndl", description="Neural networks from scratch: the course's autograder and tools.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("quickstart", help="build the release, grade sample submissions and print the scores",
                       description="In a fresh course folder (default ./nndl-quickstart): generate the student "
                                   "release with nbgrader, write sample submissions (a student who solved "
                                   "everything, one who handed in the stubs, two with typical mistakes), "
                                   "autograde them, write feedback and grades.csv, and print the score table.")
    p.add_argument("assignments", nargs="*", help="assignments to include (default: all five)")
    p.add_argument("--dir", default="nndl-quickstart", help="the course folder to create (default ./nndl-quickstart)")
    p.add_argument("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_cmd_quickstart)

    p = sub.add_parser("generate", help="regenerate the assignments' support files and the student release",
                       description="Write source/<assignment>/nndl/ (helpers, data, public checks) and run "
                                   "nbgrader generate_assignment for each assignment, into release/.")
    p.add_argument("assignments", nargs="*", help="assignments to generate (default: all five)")
    p.add_argument("--course-dir", help="the course folder (default: the one this package was installed from)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_cmd_generate)

    p = sub.add_parser("grade", help="grade every submission of an assignment in parallel into nbgrader's gradebook",
                       description="Grade submitted/*/ASSIGNMENT/ with the sandboxed grader, in local worker "
                                   "processes or on a Dask cluster, and record the scores in nbgrader's "
                                   "gradebook and autograded/ as 'nbgrader autograde' does (then 'nbgrader "
                                   "generate_feedback' and 'nbgrader export' work as usual). The seed of the "
                                   "hidden checks is recorded in .nndl/runs/ASSIGNMENT.json; a run that is "
                                   "stopped resumes where it was, and submissions already graded with the "
                                   "same seed and notebook are skipped. Exit code 0 when every submission "
                                   "was graded, 1 when some could not be (they score 0 until graded), 2 for "
                                   "usage errors.")
    p.add_argument("assignment", help="the assignment to grade")
    p.add_argument("--course-dir", default=".", help="the nbgrader course folder (default: the current folder)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per CPU; 0 grades in this "
                                               "process); with --scheduler, the submissions in flight at once")
    p.add_argument("--scheduler", help="a Dask scheduler address (tcp://host:port); its workers must see the "
                                       "course folder at the same path")
    p.add_argument("--seed", type=int, help="the seed of the hidden checks (default: the one recorded for the "
                                            "assignment, or a new secret one)")
    p.add_argument("--force", action="store_true", help="grade every submission again (with a new secret seed "
                                                        "unless --seed is given)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (no progress bar)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_cmd_grade)

    p = sub.add_parser("mutants", help="run every known mistake against the checks and print the kill rate",
                       description="Each catalogued mistake is a mutant of the reference solution. A mutant is "
                                   "killed when it fails exactly the checks it should and every failure names "
                                   "the mistake. Exit code 1 when a mutant survives.")
    p.add_argument("-a", "--assignment", help="only this assignment (default: all five)")
    p.add_argument("--seed", type=int, default=0, help="the grading seed of the hidden checks (default 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_cmd_mutants)

    p = sub.add_parser("figures", help="train the reference models and print costs and accuracies",
                       description="Train the notebooks' models with the reference solution and print the "
                                   "cost and the train/test accuracy each reaches (about a minute).")
    p.add_argument("--image-set", default="digits", help="digits (default, bundled) or catvnoncat")
    p.add_argument("--data-dir", help="folder holding the image set's train_/test_ files")
    p.add_argument("--planar", action="store_true", help="also the planar flower and its hidden-size sweep")
    p.add_argument("--skip-images", action="store_true", help="skip the image models")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=_cmd_figures)

    p = sub.add_parser("data", help="verify or install data sets",
                       description="install-classic FOLDER: verify the classic cat files by sha256 and copy "
                                   "them where the notebooks find them. verify [FOLDER]: load an image set "
                                   "and print its shapes.")
    p.add_argument("action", choices=["install-classic", "verify"])
    p.add_argument("folder", nargs="?", help="folder holding train_<name>.h5 and test_<name>.h5")
    p.add_argument("--name", default="digits", help="image set for verify (default digits)")
    p.set_defaults(run=_cmd_data)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    if args.command == "data" and args.action == "install-classic" and not args.folder:
        parser.error("install-classic needs the FOLDER that holds the two classic files")
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
