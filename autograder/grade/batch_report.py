"""What a batch did for one assignment: a ``BatchReport``, as a table people read or as plain data."""
from dataclasses import asdict, dataclass, field


@dataclass
class BatchReport:
    assignment: str
    seed: int
    graded: list = field(default_factory=list)  # students graded by this run
    skipped: list = field(default_factory=list)  # already graded with this seed and notebook
    failed: list = field(default_factory=list)  # not graded (nothing recorded; the next run tries again), see messages
    findings: list = field(default_factory=list)  # [submissions.Finding] of prepare
    scores: dict = field(default_factory=dict)  # student -> [score, max_score] from the gradebook
    messages: dict = field(default_factory=dict)  # student -> [sentences]
    wall_time: float = 0.0
    workers: int = 0
    scheduler: str = None
    seed_source: str = ""  # "given", "recorded" or "new"
    sandbox: dict = field(default_factory=dict)  # student -> the sandbox mode their kernel ran in

    @property
    def ok(self):
        return not self.failed

    @property
    def total(self):
        return len(self.graded) + len(self.skipped) + len(self.failed)

    def to_dict(self):
        data = asdict(self)
        data["ok"] = self.ok
        return data

    def format(self):
        """The report as a readable table."""
        where = f"Dask scheduler {self.scheduler}" if self.scheduler else (
            "this process" if self.workers == 0 else f"{self.workers} local worker{'s' * (self.workers != 1)}")
        lines = [f"{self.assignment}: {self.total} submission{'s' * (self.total != 1)}: {len(self.graded)} graded, "
                 f"{len(self.skipped)} already graded, {len(self.failed)} not graded "
                 f"({self.wall_time:.1f} s on {where}; seed {self.seed}, {self.seed_source})"]
        modes = sorted(set(self.sandbox.values()))
        if modes:
            lines.append(f"sandbox: {', '.join(modes)}")
        unsandboxed = sorted(s for s, mode in self.sandbox.items() if mode == "unsandboxed")
        if unsandboxed:
            lines.append(f"WARNING: {len(unsandboxed)} submission{'s were' if len(unsandboxed) != 1 else ' was'} "
                         "graded WITHOUT the sandbox (--allow-unsandboxed): the students' code ran with your own "
                         "permissions and could read the reference and the hidden checks; do not trust these "
                         "scores.")
        rows = [("student", "score", "status")]
        status = {**{s: "graded" for s in self.graded}, **{s: "skipped" for s in self.skipped},
                  **{s: "NOT GRADED" for s in self.failed}}
        for student in sorted(status):
            score = self.scores.get(student)
            rows.append((student, f"{score[0]:g}/{score[1]:g}" if score else "-", status[student]))
        from autograder.reports.text import table

        lines += ["", table(rows)]
        by_message = {}  # a note many students share is shown once
        for student in sorted(self.messages):
            for message in dict.fromkeys(self.messages[student]):
                by_message.setdefault(message, []).append(student)
        notes = []
        for message, students in by_message.items():
            if len(students) == 1:
                notes.append(f"  {students[0]}: {message}")
            else:
                who = (f"all {len(students)}" if len(students) == self.total else ", ".join(students)
                       if len(students) <= 5 else f"{len(students)} students")
                notes.append(f"  ({who}) {message}")
        if notes:
            lines += ["", "notes:", *sorted(notes)]
        if self.findings:
            lines += ["", "submissions repaired before grading:"]
            lines += [f"  {f.student}: {f.problem}: {f.action}" for f in self.findings]
        return "\n".join(lines)
