"""Feedback on submit: collect new submissions from nbgrader's exchange, grade them, release their feedback.

``watch`` runs rounds until stopped: each round, for each assignment, ``nbgrader collect --update``
(the latest submission of each student wins), then the batch grades what is new or changed (the
batch's run state skips a notebook already graded with this seed), then every student whose
graded notebook has no released feedback yet gets nbgrader's feedback with our report in it,
released with ``nbgrader release_feedback``. What was released, and for which notebook, is kept
in ``.nndl/watch/<assignment>.json``, written after each release: a watcher killed at any point
is started again with the same command and picks up where it was, grading nothing twice and
releasing what it had not. Each release is one line: who, what, the score and the time from the
submission (nbgrader's timestamp) to the feedback being fetchable.
"""
import datetime
import json
import time
from pathlib import Path

from autograder.files import write_text
from autograder.grade import batch, nbgrader_commands, state

STATE = "watch"


def released_path(course_dir, assignment):
    return Path(course_dir) / state.STATE_DIR / STATE / f"{assignment}.json"


def _released(course_dir, assignment):
    try:
        data = json.loads(released_path(course_dir, assignment).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}


def _submitted_at(course_dir, assignment, student):
    """When the student submitted (nbgrader's timestamp.txt), as a UTC datetime, or None."""
    from nbgrader.utils import parse_utc

    try:
        text = (Path(course_dir) / "submitted" / student / assignment / "timestamp.txt").read_text().strip()
        stamp = parse_utc(text)
    except (OSError, ValueError, OverflowError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc)


def collect(course_dir, assignment):
    """``nbgrader collect --update``: the newest submission of each student into submitted/; the process."""
    return nbgrader_commands.run_nbgrader(["collect", assignment, "--update"], course_dir)


def release(course_dir, assignment, student):
    """Our feedback (nbgrader's, with the report on top) for one student, then nbgrader's release of it."""
    from autograder.reports import feedback

    feedback.generate(course_dir, assignment, [student])
    done = nbgrader_commands.run_nbgrader(["release_feedback", assignment, "--student", student], course_dir)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader release_feedback failed: {done.stderr.strip().splitlines()[-1:] or ['?']}")


def one_round(course_dir, assignment, workers=1, say=print):
    """Collect, grade, release for one assignment; returns the students whose feedback was released."""
    course_dir = Path(course_dir)
    collected = collect(course_dir, assignment)
    if collected.returncode != 0:
        say(f"{assignment}: nbgrader collect failed ({collected.stderr.strip().splitlines()[-1:] or ['?']}); "
            "trying again next round")
    if not any((course_dir / "submitted").glob(f"*/{assignment}/{assignment}.ipynb")):
        return []
    report = batch.grade_assignment(course_dir, assignment, workers=workers, progress=False)
    for student in report.failed:
        say(f"{assignment}/{student}: not graded ({'; '.join(report.messages.get(student, [])) or 'see the log'})")
    graded = state.recorded_state(course_dir, assignment)
    released, done = _released(course_dir, assignment), []
    for student, entry in sorted((graded.graded if graded else {}).items()):
        if released.get(student) == entry.sha256:
            continue
        try:
            release(course_dir, assignment, student)
        except Exception as exc:  # one student's feedback failing stops nobody else's
            say(f"{assignment}/{student}: graded, but its feedback could not be released ({exc}); trying again "
                "next round")
            continue
        released[student] = entry.sha256
        write_text(released_path(course_dir, assignment), json.dumps(released, indent=1, sort_keys=True))
        done.append(student)
        submitted = _submitted_at(course_dir, assignment, student)
        latency = (datetime.datetime.now(datetime.timezone.utc) - submitted).total_seconds() if submitted else None
        score = report.scores.get(student) or [None, None]
        say(f"{assignment}/{student}: feedback released, {score[0]:g} of {score[1]:g} points" if score[0] is not None
            else f"{assignment}/{student}: feedback released")
        if latency is not None:
            say(f"  {latency:.1f} s from the submission to its feedback")
    return done


def watch(course_dir, assignments, workers=1, interval=5.0, rounds=None, say=print):
    """Rounds of ``one_round`` over ``assignments`` every ``interval`` seconds, ``rounds`` times (None: until
    Ctrl-C); returns how many feedbacks were released."""
    count, done = 0, 0
    while rounds is None or count < rounds:
        began = time.monotonic()
        for assignment in assignments:
            try:
                done += len(one_round(course_dir, assignment, workers=workers, say=say))
            except batch.BatchError as exc:  # not gradable now (no release, another coordinator): next round
                say(f"{assignment}: {exc}")
        count += 1
        if rounds is None or count < rounds:
            time.sleep(max(0.0, interval - (time.monotonic() - began)))
    return done
