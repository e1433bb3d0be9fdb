"""Benchmark: plain serial nbgrader against the engine, on one synthetic class, same machine.

    python benchmarks/grading.py --students 20 --assignments python_basics,logistic_regression

A synthetic class: each student a copy of one sample plan (all correct, the stubs, or a set of
typical mistakes), so scores are known. It measures, on the same submissions and the same seed:

- plain serial ``nbgrader autograde`` of every assignment (hidden tests inside the kernel);
- the floor: executing every notebook once with nbclient, without grading (serial);
- the engine (``autograder.batch.grade_assignments``, as ``nndl grade --all``: all assignments
  in one batch) with 1 and with 2 workers; per-notebook overhead over the
  floor, from the 1-worker run;
- peak memory of the coordinator and of the largest child process (a worker or a kernel), for
  the full class and for half of it (the coordinator's should stay flat);
and it checks that nbgrader and the engine give identical scores. It prints the figures.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import grading, samples
from autograder.namespace import ASSIGNMENTS

PLANS = list(samples.STUDENTS.values())


def make_class(workdir, assignments, n_students):
    """A course folder with ``n_students`` synthetic submissions per assignment."""
    grading.make_workspace(workdir)
    for assignment in assignments:
        grading.register(workdir, assignment)
    plans = {f"s{i:03d}": PLANS[i % len(PLANS)] for i in range(n_students)}
    samples.write_submissions(workdir, assignments, plans)
    return plans


def run_floor(workdir, assignments):
    """Seconds to execute every submitted notebook once with nbclient, test cells left out.

    BLAS is pinned to one thread, as the engine's and nbgrader's kernels have it.
    """
    import os

    from nbclient import NotebookClient

    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

    start = time.monotonic()
    count = 0
    for path in sorted((workdir / "submitted").glob("*/*/*.ipynb")):
        if path.parent.name not in assignments:
            continue
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        folder = workdir / "release" / path.parent.name  # the support package lives there
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(folder)}}).execute()
        count += 1
    return time.monotonic() - start, count


def run_nbgrader(workdir, assignments, seed):
    start = time.monotonic()
    for assignment in assignments:
        result = grading.run_nbgrader(["autograde", assignment, "--create", "--force"], workdir, seed)
        if result.returncode != 0:
            print(f"warning: nbgrader autograde {assignment} reported errors", file=sys.stderr)
    return time.monotonic() - start, grading.scores(workdir, assignments)


ENGINE_SCRIPT = """
import json, resource, sys, time
from autograder import batch
workdir, seed, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
assignments = sys.argv[4].split(",")
start = time.monotonic()
scores = {}
# as `nndl grade --all` does: every assignment in one batch, one pool of workers
for report in batch.grade_assignments(workdir, assignments, workers=workers, seed=seed, progress=False, force=True):
    scores.update({f"{s}|{report.assignment}": v for s, v in report.scores.items()})
wall = time.monotonic() - start
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "coordinator_kb": self_kb, "child_kb": child_kb, "scores": scores}))
"""


def run_engine(workdir, assignments, seed, workers):
    """The engine in a fresh process (so its peak memory is its own)."""
    out = subprocess.run([sys.executable, "-c", ENGINE_SCRIPT, str(workdir), str(seed), str(workers),
                          ",".join(assignments)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20, help="class size (default 20)")
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS), help="comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--skip-nbgrader", action="store_true", help="skip the slow plain-nbgrader run")
    args = parser.parse_args(argv)
    assignments = args.assignments.split(",")
    root = Path(tempfile.mkdtemp(prefix="nndl-bench-"))
    figures = {}
    try:
        print(f"class: {args.students} students x {len(assignments)} assignments", file=sys.stderr)
        base = root / "base"
        make_class(base, assignments, args.students)
        notebooks = args.students * len(assignments)

        def fresh(name):
            target = root / name
            shutil.copytree(base, target)
            return target

        print("floor: nbclient, no grading ...", file=sys.stderr)
        figures["floor_s"], _ = run_floor(fresh("floor"), assignments)
        nbgrader_scores = None
        if not args.skip_nbgrader:
            print("plain serial nbgrader autograde ...", file=sys.stderr)
            figures["nbgrader_s"], nbgrader_scores = run_nbgrader(fresh("nbgrader"), assignments, args.seed)
        engine = {}
        for workers in (1, 2):
            print(f"engine, {workers} worker(s) ...", file=sys.stderr)
            engine[workers] = run_engine(fresh(f"engine{workers}"), assignments, args.seed, workers)
        print("engine, half the class (coordinator memory) ...", file=sys.stderr)
        half = root / "half"
        make_class(half, assignments, max(args.students // 2, 1))
        engine_half = run_engine(half, assignments, args.seed, 2)

        same = engine[1]["scores"] == engine[2]["scores"]
        if nbgrader_scores is not None:
            as_engine = {f"{s}|{a}": [v[0], v[1]] for (s, a), v in nbgrader_scores.items() if v is not None}
            same = same and as_engine == {k: list(v) for k, v in engine[2]["scores"].items()}
        floor_per = figures["floor_s"] / notebooks
        one_per = engine[1]["wall"] / notebooks
        lines = [
            f"notebooks graded:                  {notebooks}",
            f"floor (nbclient, no grading):      {figures['floor_s']:7.1f} s  ({floor_per:.2f} s per notebook)",
        ]
        if "nbgrader_s" in figures:
            lines.append(f"plain serial nbgrader autograde:   {figures['nbgrader_s']:7.1f} s")
        lines += [
            f"engine, 1 worker:                  {engine[1]['wall']:7.1f} s  ({one_per:.2f} s per notebook, "
            f"{100 * (one_per - floor_per) / floor_per:+.0f} % over the floor)",
            f"engine, 2 workers:                 {engine[2]['wall']:7.1f} s  "
            f"(speed-up from 1 to 2 workers: {engine[1]['wall'] / engine[2]['wall']:.2f}x)",
        ]
        if "nbgrader_s" in figures:
            lines.append(f"engine (2 workers) vs nbgrader:    {figures['nbgrader_s'] / engine[2]['wall']:.2f}x faster")
        lines += [
            f"coordinator peak memory:           {engine[2]['coordinator_kb'] / 1024:.0f} MiB "
            f"({args.students} students), {engine_half['coordinator_kb'] / 1024:.0f} MiB "
            f"({max(args.students // 2, 1)} students)",
            f"largest worker or kernel:          {engine[2]['child_kb'] / 1024:.0f} MiB",
            f"identical scores:                  {'yes' if same else 'NO'}",
        ]
        print("\n".join(lines))
        return 0 if same else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
