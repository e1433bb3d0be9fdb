"""``nndl check NOTEBOOK``: a student runs the public checks of their saved notebook, at home.

The notebook's code cells run in order in a fresh kernel (sandboxed where the machine allows it,
else a plain kernel: it is the student's own code on their own machine), with the support
package ``nndl/`` that came with the assignment (the one beside the notebook, else the copy
in the installed course), and then only the assignment's *public* checks probe the kernel:
``runner.grade_submission(..., checks=public)``. Public checks use the public seed, so the
inputs are those of ``nndl/public_checks.json`` and the results are what the grader will see
for the same checks. Nothing hidden is run, shown or even loaded into the report: no hidden
check, input or message.

``run`` returns a ``CheckReport``; ``nndl.report.format_report`` is the text a student reads (what
the release's ``python -m nndl check`` prints too), ``to_json`` the same as plain data for scripts.
A problem that stops the check (no such file, a notebook that is not valid JSON, an assignment
that cannot be told) raises ``CheckError`` with one sentence saying what to do and the exit code
of the command.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import EXIT_USAGE, UserError
from autograder.checks.namespace import ASSIGNMENTS


class CheckError(UserError):
    """``nndl check`` cannot run: ``str(exc)`` says why and what to do; ``code`` is the exit code."""


@dataclass
class CheckReport:
    notebook: str
    assignment: str
    record: object  # the run's ``record.Record`` (``results.summarize``): public checks only
    support_dir: str
    messages: list = field(default_factory=list)  # what happened to the kernel, when it matters

    @property
    def score(self):
        return self.record.score

    @property
    def max_score(self):
        return self.record.max_score

    @property
    def passed(self):
        return bool(self.record.checks) and all(row.passed for row in self.record.checks)


# --------------------------------------------------------------------------- which notebook, which assignment


def find_notebook(path):
    """The notebook file ``path`` names: the file itself, or in a folder the assignment's (or only) notebook."""
    path = Path(path).expanduser()
    if path.is_dir():
        named = path / f"{path.resolve().name}.ipynb"
        if named.is_file():
            return named
        notebooks = sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
        if len(notebooks) == 1:
            return notebooks[0]
        what = "no notebook" if not notebooks else f"{len(notebooks)} notebooks"
        raise CheckError(f"{path} holds {what}: give the notebook's file name, e.g. "
                         f"nndl check {path / 'python_basics.ipynb'}", EXIT_USAGE)
    if not path.exists():
        raise CheckError(f"there is no file {path}: give the path of your saved notebook "
                         "(e.g. nndl check python_basics.ipynb in the assignment's folder)", EXIT_USAGE)
    if not path.is_file():
        raise CheckError(f"{path} is not a file: give the path of your saved notebook", EXIT_USAGE)
    return path


def unreadable(path):
    """Why ``path`` is not a notebook that can be run (not JSON, not a notebook, ...), or None."""
    from autograder.grade.submissions import _reason_unreadable

    return _reason_unreadable(Path(path))


def _solution_ids(nb):
    ids = set()
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id"):
            ids.add(str(meta["grade_id"]))
    return ids


def detect_assignment(path, nb=None):
    """The assignment of the notebook at ``path``: from its file name, its folder's, else its graded cells."""
    from autograder.checks import catalogue

    path = Path(path)
    for name in (path.stem, path.resolve().parent.name):
        if name in ASSIGNMENTS:
            return name
    within = [a for a in ASSIGNMENTS if a in path.stem]  # "python_basics (1)", "ada_python_basics-2"
    if within:
        return max(within, key=len)
    if nb is None:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    ids = _solution_ids(nb)
    best, best_share = None, 0.0
    for assignment in ASSIGNMENTS:
        functions = {c.function for c in catalogue.checks(assignment)}
        share = len(ids & functions) / len(functions)
        if share > best_share:
            best, best_share = assignment, share
    return best


def choose_assignment(path, given=None):
    """``given`` when it is an assignment of the course, else the detected one; raises ``CheckError``."""
    if given is not None:
        if given not in ASSIGNMENTS:
            raise CheckError(f"there is no assignment {given!r} in this course; the assignments are "
                             f"{', '.join(ASSIGNMENTS)}")
        return given
    found = detect_assignment(path)
    if found is None:
        raise CheckError(f"cannot tell which assignment {Path(path).name} is (neither its name nor its cells "
                         f"match one): pass --assignment, one of {', '.join(ASSIGNMENTS)}")
    return found


def support_dir(notebook, assignment):
    """The assignment's support package ``nndl/``: beside the notebook, else the installed course's release."""
    from autograder.generate import course

    candidates = [Path(notebook).resolve().parent / "nndl",
                  course.repo_root() / "release" / assignment / "nndl"]
    for folder in candidates:
        checks_file = folder / "public_checks.json"
        if not checks_file.is_file():
            continue
        try:
            owner = json.loads(checks_file.read_text(encoding="utf-8")).get("assignment")
        except (OSError, ValueError, AttributeError):
            continue
        if owner == assignment:
            return folder
    raise CheckError(f"the support folder nndl/ of {assignment} is missing beside {Path(notebook).name}: "
                     "download the assignment again and keep its nndl/ folder next to your notebook")


def public_checks(assignment):
    from autograder.checks import catalogue

    return [c for c in catalogue.checks(assignment) if not c.hidden]


# --------------------------------------------------------------------------- running


def prepare(notebook, assignment=None):
    """``(notebook path, assignment, support folder)`` of a check, before anything runs (raises ``CheckError``)."""
    path = find_notebook(notebook)
    reason = unreadable(path)
    if reason is not None:
        raise CheckError(f"{path.name} cannot be read: {reason}; restore it from Jupyter's last checkpoint "
                         "(.ipynb_checkpoints/ beside it), or download the assignment again and copy your code "
                         "back in")
    assignment = choose_assignment(path, assignment)
    return path, assignment, support_dir(path, assignment)


def run(notebook, assignment=None, timeouts=None, policy=None):
    """Run the public checks of ``notebook``; returns a ``CheckReport`` (raises ``CheckError``)."""
    from autograder.checks import judge
    from autograder.checks.status import Status
    from autograder.grade import results, runner

    path, assignment, support = prepare(notebook, assignment)
    checks = public_checks(assignment)
    kwargs = {"checks": checks, "demos": ()}  # every cell runs, as in the student's own python -m nndl check
    if timeouts is not None:
        kwargs["timeouts"] = timeouts
    if policy is not None:
        kwargs["policy"] = policy
    # a student's own notebook on their own machine: the sandbox where the machine has one, else a plain kernel
    result = runner.grade_submission(path, assignment, "student", judge.PUBLIC_SEED, support,
                                     allow_unsandboxed=True, **kwargs)
    if result.status is Status.NOT_GRADED:
        raise CheckError(f"your notebook could not be run: {result.reason}", 1)
    record = results.summarize(result, figures=[])
    record.checks = [row for row in record.checks if not row.hidden]  # there are none; never any
    messages = list(result.messages)
    return CheckReport(notebook=str(path), assignment=assignment, record=record, support_dir=str(support),
                       messages=messages)


# --------------------------------------------------------------------------- reporting


def _functions(record):
    """``[(function, score, max_score, passed, rows)]`` in the notebook's order."""
    order = {}
    for row in record.checks:
        order.setdefault(row.function, []).append(row)
    return [(f, sum(r.score for r in rows), sum(r.points for r in rows), all(r.passed for r in rows), rows)
            for f, rows in order.items()]


def to_json(report):
    """The report as plain data: public checks only, as ``results.summarize`` records them."""
    record = report.record
    return {
        "notebook": report.notebook,
        "assignment": report.assignment,
        "passed": report.passed,
        "score": report.score,
        "max_score": report.max_score,
        "functions": {f: {"score": s, "max_score": m, "passed": p} for f, s, m, p, _ in _functions(record)},
        "checks": [{k: v for k, v in row.to_dict().items() if k != "hidden"} for row in record.checks],
        "messages": report.messages,
    }
