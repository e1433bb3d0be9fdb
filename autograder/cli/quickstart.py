"""The main job on a bundled default: build the release, grade sample submissions, print the scores."""
import sys
import time
from pathlib import Path

from autograder.generate import course, samples
from autograder.grade import batch, gradebook, nbgrader_commands
from autograder.reports import dashboard, feedback
from autograder.checks.namespace import ASSIGNMENTS


def run(directory, assignments=None, seed=0, quiet=False):
    """Run the whole instructor's loop in ``directory``; returns 0 when every sample scored as expected."""
    assignments = list(assignments or ASSIGNMENTS)
    unknown = [a for a in assignments if a not in ASSIGNMENTS]
    if unknown:
        raise RuntimeError(f"unknown assignment(s) {', '.join(unknown)}; known: {', '.join(ASSIGNMENTS)}")
    start = time.time()

    def say(message):
        if not quiet:
            print(f"[{time.time() - start:5.0f} s] {message}", file=sys.stderr, flush=True)

    workdir = Path(directory).resolve()
    say(f"course folder {workdir}")
    nbgrader_commands.make_workspace(workdir)
    for db in (workdir / "gradebook.db",):
        if db.exists():
            db.unlink()
    course.generate(assignments, workdir, progress=say)
    samples.write_submissions(workdir, assignments)
    students = len(samples.STUDENTS)
    for i, assignment in enumerate(assignments, 1):
        say(f"grading {assignment} ({i}/{len(assignments)}, {students} submissions, sandboxed, in parallel)")
        report = batch.grade_assignment(workdir, assignment, seed=seed, progress=not quiet, force=True)
        for f in report.findings:
            say(f"{f.student}/{f.assignment}: {f.problem}: {f.action}")
        say(f"writing feedback for {assignment}")
        feedback.generate(workdir, assignment)
    say("drawing the class dashboard")
    board = dashboard.build(workdir)
    csv = nbgrader_commands.export(workdir)
    table = gradebook.score_table(workdir, assignments)
    print(nbgrader_commands.format_scores(table, assignments))
    expected = samples.expected_scores(assignments)
    off = {k: (table.get(k), v) for k, v in expected.items() if not table.get(k) or table[k][0] != v}
    print()
    print(f"gradebook: {workdir / 'gradebook.db'} (open it with: cd {workdir} && nbgrader formgrader)")
    print(f"grades:    {csv}")
    print(f"feedback:  {workdir / 'feedback'}/<student>/<assignment>/report.html "
          "(also at the top of nbgrader's <assignment>.html there)")
    print(f"dashboard: {board}")
    print(f"release:   {workdir / 'release'}")
    if off:
        print("\nscores that differ from what the sample submissions should get:")
        for (student, assignment), (got, want) in sorted(off.items()):
            print(f"  {student}/{assignment}: got {got[0] if got else 'nothing'}, expected {want:g}")
        return 1
    print(f"\nevery sample submission scored as expected ({time.time() - start:.0f} s)")
    return 0
