"""Checks and mistakes, declared as data.

A ``Check`` says what is graded and how: which function, how many points, public or hidden,
how inputs are made from a seed (``inputs``), what runs in the student's process (``probe``)
and how the result is judged (``judge`` with its tolerance and rules). A ``Mistake`` is a
known wrong answer: a mutant of the reference and the checks it must fail.
"""
from dataclasses import dataclass, field
from typing import Callable

from autograder.checks.status import Status
from autograder.nndl.compare import Rules, Tolerance


@dataclass(frozen=True)
class Check:
    id: str  # "<assignment>/<function>/<what>", unique
    function: str  # the graded function
    points: float
    hidden: bool
    message: str  # what the check is about, in the student's words
    inputs: Callable  # inputs(rng) -> plain data: the probe's inputs
    probe: str = "call"  # name of a function in autograder.nndl.probes
    judge: str = "values"  # name of a function in autograder.nndl.judges
    tolerance: Tolerance = Tolerance()
    rules: Rules = Rules()
    options: dict = field(default_factory=dict)  # passed to the probe and the judge

    @property
    def assignment(self):
        return self.id.split("/", 1)[0]

    def options_for_probe(self):
        """The options a probe sees: plain values only (judge options may hold functions)."""
        return {k: v for k, v in self.options.items() if not callable(v)}


@dataclass(frozen=True)
class Mistake:
    name: str  # short, stable identifier, e.g. "missing-1/m"
    title: str  # what the student did, in a few words
    hint: str  # what to do about it
    function: str  # the function the mutant replaces
    mutant: Callable  # the reference with this mistake
    fails: tuple  # ids of the checks this mistake must fail
    assignment: str = ""


@dataclass
class Verdict:
    check: str
    function: str
    points: float
    score: float
    hidden: bool
    status: Status  # as the judge decides; the grader's own when the kernel gave no answer (timeout, crashed)
    messages: list = field(default_factory=list)
    diagnosis: list = field(default_factory=list)  # names of matched mistakes

    def __post_init__(self):
        self.status = Status(self.status)  # the word of a verdict that travelled as plain data

    @property
    def passed(self):
        return self.status is Status.PASSED


def pair(assignment, function, inputs, message, points=(1, 1), what="", **kw):
    """A public and a hidden check of ``function``: the same question, the hidden one on the grader's seed.

    Their ids are ``<assignment>/<function>/public`` and ``<assignment>/<function>/hidden``, with
    ``<what>-`` before both where a function has several kinds of check (``propagate/gradient-public``).
    ``points``: one number for both, or ``(public, hidden)``; ``kw`` go to both ``Check``.
    """
    public, hidden = (points, points) if isinstance(points, (int, float)) else points
    prefix = f"{what}-" if what else ""
    return [Check(f"{assignment}/{function}/{prefix}{visibility}", function, score, secret, message, inputs, **kw)
            for visibility, score, secret in (("public", public, False), ("hidden", hidden, True))]
