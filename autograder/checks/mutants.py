"""The mutation suite: every catalogued mistake, as a mutant of the reference, must be caught.

A mutant is killed when it fails exactly the checks its mistake declares, and diagnosed when
every check it fails names the mistake. Beside the catalogue, the report counts the mistakes the
generic diagnoses alone name (``nndl/relations.py``, run on the mutant's result against the
reference's): on every check the mutant fails, and on at least one.
"""
from dataclasses import dataclass

from autograder.checks import catalogue, judge
from autograder.checks.namespace import ASSIGNMENTS, reference_namespace, replace
from autograder.nndl.judges import generic


@dataclass
class MutantResult:
    assignment: str
    mistake: str
    title: str
    expected: tuple  # the checks it must fail
    failed: tuple  # the checks it failed
    diagnosed: bool  # every failed check named the mistake
    generic: tuple = ()  # the failed checks on which the generic diagnoses alone said something

    @property
    def killed(self):
        return bool(self.failed) and set(self.failed) == set(self.expected) and self.diagnosed

    @property
    def generic_everywhere(self):
        """The generic diagnoses alone said something on every check the mutant failed."""
        return bool(self.failed) and set(self.generic) == set(self.failed)


def run_mutant(mistake, seed=0):
    ns = replace(reference_namespace(mistake.assignment), **{mistake.function: mistake.mutant})
    verdicts = judge.run_assignment(ns, mistake.assignment, seed=seed)
    failed = tuple(v.check for v in verdicts if not v.passed)
    diagnosed = all(mistake.name in v.diagnosis for v in verdicts if not v.passed)
    named = tuple(c for c in failed if generic_diagnosis(catalogue.check(c), mistake.name, seed))
    return MutantResult(mistake.assignment, mistake.name, mistake.title, tuple(mistake.fails), failed,
                        diagnosed, named)


def generic_diagnosis(check, mistake, seed):
    """What the generic diagnoses alone say of the mutant's result on ``check`` (empty: nothing)."""
    received = judge._expected(check.id, seed, mistake)
    if received["status"] != "ok":
        return []
    expected = judge._expected(check.id, seed)["value"]
    return generic(check, expected, received["value"], judge.make_inputs(check, seed), check.hidden)


def run_suite(assignments=ASSIGNMENTS, seed=0, progress=None):
    """Results of every mutant of ``assignments``; ``progress(i, n, name)`` is called before each."""
    mistakes = [m for a in assignments for m in catalogue.mistakes(a)]
    results = []
    for i, mistake in enumerate(mistakes):
        if progress:
            progress(i, len(mistakes), mistake.name)
        results.append(run_mutant(mistake, seed))
    return results


def _by_function(check_ids):
    """``propagate x4, optimize x2``: the failed checks grouped by function, in order."""
    counts = {}
    for check_id in check_ids:
        function = check_id.split("/")[1]
        counts[function] = counts.get(function, 0) + 1
    return ", ".join(f"{f} x{n}" if n > 1 else f for f, n in counts.items())


def format_table(results):
    """The table a person reads: mistake, failed checks, diagnosis, the failed checks the generic
    diagnoses name, and the kill rate."""
    rows = [("assignment", "mistake", "failed checks", "diagnosis", "generic", "killed")]
    for r in results:
        rows.append((r.assignment, r.mistake, _by_function(r.failed) or "-",
                     "named" if r.diagnosed and r.failed else "NOT NAMED",
                     f"{len(r.generic)}/{len(r.failed)}" if r.generic else "-", "yes" if r.killed else "NO"))
    from autograder.reports.text import table

    lines = [table(rows, widest={2: 70})]
    killed = sum(r.killed for r in results)
    rate = 100.0 * killed / len(results) if results else 0.0
    lines.append("")
    lines.append(f"kill rate: {killed}/{len(results)} = {rate:.0f} %")
    everywhere, somewhere = sum(r.generic_everywhere for r in results), sum(bool(r.generic) for r in results)
    lines.append(f"generic diagnoses alone: {everywhere} of {len(results)} mistakes named on every check they fail, "
                 f"{somewhere} on at least one")
    return "\n".join(lines)
