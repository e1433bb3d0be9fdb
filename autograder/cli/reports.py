"""``nndl feedback``, ``nndl export`` and ``nndl dashboard``."""
from pathlib import Path

from autograder.cli.common import (CommandError, course_folder, error, known_assignments, paths_of, require_gradebook, working, wrote)
from autograder.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE


# --------------------------------------------------------------------------- reports


def _course(args, assignments):
    """The course folder, once the assignments named on the command line are known to be the course's."""
    course = course_folder(args)
    known_assignments(assignments)
    return course


def cmd_feedback(args):
    course = _course(args, [args.assignment] if args.assignment else [])
    require_gradebook(course)
    from autograder.reports import feedback

    with working(f"writing feedback{' for ' + args.assignment if args.assignment else ''}...", args):
        try:
            written = feedback.generate(course, assignment=args.assignment, students=args.student or None)
        except feedback.FeedbackError as exc:
            if "generate_feedback" in str(exc):  # nbgrader failed on some submissions; our pages were written
                raise CommandError(str(exc), EXIT_FAILED) from None
            raise CommandError(str(exc)) from None
    print(wrote(paths_of(written), "feedback files"))
    return EXIT_OK


def cmd_export(args):
    course = _course(args, args.assignments)
    if args.format == "nbgrader" and args.assignments:
        raise CommandError("the nbgrader CSV holds every assignment: name assignments only with --format canvas "
                           "or gradescope", EXIT_USAGE)
    if args.roster and args.format != "canvas":
        raise CommandError("--roster is for --format canvas", EXIT_USAGE)
    if args.roster and not Path(args.roster).expanduser().is_file():
        raise CommandError(f"there is no roster file {args.roster}: export the gradebook from Canvas "
                           "(Grades > Export) and pass that CSV", EXIT_USAGE)
    require_gradebook(course)
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
            error(str(exc))
            return EXIT_FAILED
        raise CommandError(str(exc)) from None
    print(wrote(paths_of(written), "files"))
    return EXIT_OK


def cmd_dashboard(args):
    course = _course(args, args.assignments)
    require_gradebook(course)
    from autograder.reports import dashboard

    with working("building the class dashboard...", args):
        try:
            written = dashboard.build(course, out_dir=args.out, assignments=args.assignments or None)
        except dashboard.DashboardError as exc:
            raise CommandError(str(exc)) from None
    paths = paths_of(written)
    index = [p for p in paths if str(p).endswith(".html")]
    print(f"dashboard: {index[0]}" if len(index) == 1 else wrote(paths, "files"))
    return EXIT_OK
