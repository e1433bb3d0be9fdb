"""Benchmark: every grading path on one synthetic class, same machine, same seed.

    python benchmarks/grading.py --students 20 --assignments python_basics,logistic_regression

A synthetic class: each student a copy of one sample plan (all correct, the stubs, or a set of
typical mistakes), so scores are known. It measures, on the same submissions and the same seed:

- the floor: executing every notebook once with nbclient, without grading (serial);
- plain ``nbgrader autograde`` of every assignment (the course's config grades each notebook
  through the sandboxed engine, one after the other);
- the engine (``autograder.grade.batch.grade_assignments``, as ``nndl grade --all``: all assignments
  in one batch) with 1 and with 2 workers, in the sandbox mode this user gets (``full`` as root),
  each with the course's demonstration cells skipped (the default) and run (``--run-demos``);
  per-notebook cost against the floor, from the 1-worker runs; and 1 worker once more with every
  kernel started cold when its submission comes (not forked warm, not while the one before is graded);
- the engine on a Dask cluster of 2 worker processes (``distributed.LocalCluster``; the jobs carry
  their notebooks as data), against the local 2 workers;
- a synthetic class of ``--memory-students`` (default 50 and 500) python_basics submissions,
  mixed plans, graded with 2 workers: the coordinator's peak memory and the wall time of each;
- run as root, the engine once more as an ordinary user (a system user made for the run and
  removed after it, as the tests do), 1 worker: the rootless sandbox, and its cost per notebook
  over the full one;
- peak memory of the largest child process (a worker or a kernel);
- feedback on submit: the seconds from a student's ``nbgrader submit`` to the feedback being
  fetchable, ``nndl grade --watch`` running, through nbgrader's own exchange (a few submissions,
  one at a time);
and it checks that every path gives identical scores. It prints the figures.
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

from autograder.generate import samples
from autograder.grade import gradebook, nbgrader_commands
from autograder.checks.namespace import ASSIGNMENTS

PLANS = list(samples.STUDENTS.values())


def make_class(workdir, assignments, n_students):
    """A course folder with ``n_students`` synthetic submissions per assignment."""
    nbgrader_commands.make_workspace(workdir)
    for assignment in assignments:
        nbgrader_commands.register(workdir, assignment)
    plans = {f"s{i:03d}": PLANS[i % len(PLANS)] for i in range(n_students)}
    samples.write_submissions(workdir, assignments, plans)
    return plans


def run_floor(workdir, assignments):
    """Seconds to execute every submitted notebook once with nbclient, test cells left out.

    BLAS is pinned to one thread, as the engine's and nbgrader's kernels have it.
    """
    from nbclient import NotebookClient

    from autograder.threads import pin

    pin(force=True)

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
        _, result = nbgrader_commands.autograde(workdir, assignment, seed=seed)
        if result.returncode != 0:
            print(f"warning: nbgrader autograde {assignment} reported errors:\n{result.stderr[-1500:]}",
                  file=sys.stderr)
    return time.monotonic() - start, gradebook.score_table(workdir, assignments)


ENGINE_SCRIPT = """
import json, resource, sys, time
from autograder.threads import pin
pin(force=True)
from autograder.grade import batch
workdir, seed, workers = sys.argv[1], int(sys.argv[2]), sys.argv[3]
assignments, run_demos, prestart = sys.argv[4].split(","), sys.argv[5] == "1", sys.argv[6] == "1"
scheduler = None
if workers.startswith("dask"):  # a local Dask cluster of that many worker processes, one thread each
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=int(workers[4:]), processes=True, threads_per_worker=1, dashboard_address=None)
    scheduler, workers = Client(cluster), None
else:
    workers = int(workers)
start = time.monotonic()
scores, modes = {}, set()
# as `nndl grade --all` does: every assignment in one batch, one pool of workers
for report in batch.grade_assignments(workdir, assignments, workers=workers, scheduler=scheduler, seed=seed,
                                      progress=False, force=True, run_demos=run_demos, prestart=prestart):
    scores.update({f"{s}|{report.assignment}": v for s, v in report.scores.items()})
    modes.update(report.sandbox.values())
wall = time.monotonic() - start
if scheduler is not None:
    scheduler.close()
    cluster.close()
self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "coordinator_kb": self_kb, "child_kb": child_kb, "scores": scores,
                  "modes": sorted(modes)}))
"""


def run_engine(workdir, assignments, seed, workers, run_demos=False, prestart=True):
    """The engine in a fresh process (so its peak memory is its own); ``workers`` a number or "dask2"."""
    out = subprocess.run([sys.executable, "-c", ENGINE_SCRIPT, str(workdir), str(seed), str(workers),
                          ",".join(assignments), "1" if run_demos else "0", "1" if prestart else "0"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"the engine ({workers}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_watch_latency(folder, submissions=3):
    """Seconds from a student's ``nbgrader submit`` to its feedback being fetchable, ``nndl grade --watch``
    running (1 s between rounds, 1 worker), through nbgrader's own exchange; one submission at a time."""
    import os
    import signal

    assignment = "python_basics"
    course = nbgrader_commands.make_workspace(folder / "course")
    exchange, student = folder / "exchange", folder / "student"
    exchange.mkdir()
    student.mkdir()
    with open(course / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
    nbgrader_commands.register(course, assignment)

    def nbgrader(args, cwd):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}"], cwd=cwd,
                              capture_output=True, text=True)
        return done

    for args, cwd in ((["release_assignment", assignment, "--force"], course),
                      (["fetch_assignment", assignment, "--course", "nndl"], student)):
        done = nbgrader(args, cwd)
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader {args[0]} failed:\n{done.stderr[-2000:]}")
    log = open(folder / "watch.log", "w")
    watcher = subprocess.Popen([sys.executable, "-m", "autograder.cli.commands", "grade", assignment, "--watch",
                                "--interval", "1", "--workers", "1", "--course-dir", str(course)],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    latencies, seen = [], set()
    try:
        time.sleep(3)  # the watcher's first, empty round
        for i in range(submissions):
            path = student / assignment / f"{assignment}.ipynb"
            plans = [plan for plan in PLANS if plan is not None]  # not the student who submits the stubs
            mistakes = plans[i % len(plans)].get(assignment, [])
            nbformat.write(samples.filled_notebook(path, assignment, mistakes), path)
            began = time.monotonic()
            if nbgrader(["submit", assignment, "--course", "nndl"], student).returncode != 0:
                raise RuntimeError("nbgrader submit failed")
            while time.monotonic() < began + 300:
                nbgrader(["fetch_feedback", assignment, "--course", "nndl"], student)
                new = set((student / assignment / "feedback").glob("*/*.html")) - seen
                if new:
                    seen |= new
                    latencies.append(time.monotonic() - began)
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError("no feedback came within 300 s")
    finally:
        os.killpg(watcher.pid, signal.SIGINT)
        watcher.wait(timeout=60)
        log.close()
    return latencies


def _unprivileged():
    """The tests' helper that makes an ordinary user and runs commands as it (tests/unprivileged.py)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tests" / "unprivileged.py"
    spec = importlib.util.spec_from_file_location("unprivileged", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_engine_as_ordinary_user(workdir, assignments, seed, workers):
    """As ``run_engine``, by a system user made for the run (root only), who owns ``workdir``: rootless mode."""
    import os

    unprivileged = _unprivileged()
    with unprivileged.ordinary_user() as user:
        home = workdir.parent / f"{workdir.name}-home"
        home.mkdir()
        for path in [workdir, home, *workdir.rglob("*")]:
            os.lchown(path, user.uid, user.gid)
        os.chmod(workdir.parent, 0o711)
        env = dict(os.environ, HOME=str(home))
        done = unprivileged.run_as(user, [sys.executable, "-c", ENGINE_SCRIPT, str(workdir), str(seed),
                                          str(workers), ",".join(assignments), "0", "1"], cwd=str(workdir), env=env,
                                   timeout=6 * 3600)
    if done.returncode != 0:
        raise RuntimeError(f"the engine run as an ordinary user failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20, help="class size (default 20)")
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS), help="comma-separated (default: all)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--skip-nbgrader", action="store_true", help="skip the nbgrader autograde run")
    parser.add_argument("--skip-rootless", action="store_true",
                        help="as root, skip the run as an ordinary user (the rootless sandbox)")
    parser.add_argument("--memory-students", default="50,500",
                        help="class sizes of the memory runs, python_basics only (default 50,500; '' skips them)")
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
            print("nbgrader autograde ...", file=sys.stderr)
            figures["nbgrader_s"], nbgrader_scores = run_nbgrader(fresh("nbgrader"), assignments, args.seed)
        engine, demos = {}, {}
        for workers in (1, 2):
            print(f"engine, {workers} worker(s) ...", file=sys.stderr)
            engine[workers] = run_engine(fresh(f"engine{workers}"), assignments, args.seed, workers)
            print(f"engine, {workers} worker(s), running the demonstration cells too ...", file=sys.stderr)
            demos[workers] = run_engine(fresh(f"demos{workers}"), assignments, args.seed, workers, run_demos=True)
        print("engine, 1 worker, each kernel started when its submission comes ...", file=sys.stderr)
        cold = run_engine(fresh("cold"), assignments, args.seed, 1, prestart=False)
        print("engine on a Dask cluster of 2 worker processes ...", file=sys.stderr)
        dask = run_engine(fresh("dask"), assignments, args.seed, "dask2")
        import os

        rootless = None
        if os.geteuid() == 0 and not args.skip_rootless:
            print("engine as an ordinary user, 1 worker (rootless sandbox) ...", file=sys.stderr)
            rootless = run_engine_as_ordinary_user(fresh("rootless"), assignments, args.seed, 1)
        print("feedback on submit: nndl grade --watch and nbgrader's exchange ...", file=sys.stderr)
        latencies = run_watch_latency(root / "watch")
        memory = {}
        for size in [int(n) for n in args.memory_students.split(",") if n.strip()]:
            print(f"engine, 2 workers, a class of {size} python_basics submissions (coordinator memory) ...",
                  file=sys.stderr)
            folder = root / f"memory{size}"
            make_class(folder, ["python_basics"], size)
            memory[size] = run_engine(folder, ["python_basics"], args.seed, 2)
            shutil.rmtree(folder, ignore_errors=True)

        paths = {"engine, 1 worker": engine[1]["scores"], "engine, 2 workers": engine[2]["scores"],
                 "engine, 1 worker, demonstrations run": demos[1]["scores"],
                 "engine, 2 workers, demonstrations run": demos[2]["scores"], "Dask, 2 processes": dask["scores"],
                 "engine, 1 worker, kernels cold": cold["scores"]}
        if rootless is not None:
            paths["engine as an ordinary user"] = rootless["scores"]
        if nbgrader_scores is not None:
            paths["nbgrader autograde"] = {f"{s}|{a}": [v[0], v[1]] for (s, a), v in nbgrader_scores.items()
                                           if v is not None}
        tables = [{k: list(v) for k, v in table.items()} for table in paths.values()]
        same = all(table == tables[0] for table in tables) and len(tables[0]) == notebooks
        floor_per = figures["floor_s"] / notebooks
        one_per = engine[1]["wall"] / notebooks
        lines = [
            f"notebooks graded:                  {notebooks}",
            f"floor (nbclient, no grading):      {figures['floor_s']:7.1f} s  ({floor_per:.2f} s per notebook)",
        ]
        if "nbgrader_s" in figures:
            lines.append(f"nbgrader autograde (one by one):   {figures['nbgrader_s']:7.1f} s  "
                         f"({figures['nbgrader_s'] / notebooks:.2f} s per notebook)")
        mode = "/".join(engine[1]["modes"]) or "?"
        demo_per = demos[1]["wall"] / notebooks
        lines += [
            f"{f'engine, 1 worker ({mode}):':<35}{engine[1]['wall']:7.1f} s  "
            f"({one_per:.2f} s per notebook, {one_per / floor_per:.2f}x the floor)",
            f"engine, 1 worker, demos run:       {demos[1]['wall']:7.1f} s  "
            f"({demo_per:.2f} s per notebook, {demo_per / floor_per:.2f}x the floor)",
            f"engine, 1 worker, kernels cold:    {cold['wall']:7.1f} s  "
            f"(each kernel started cold when its submission comes: {cold['wall'] / engine[1]['wall']:.2f}x "
            "the time with kernels forked warm and the next one started ahead)",
            f"engine, 2 workers:                 {engine[2]['wall']:7.1f} s  "
            f"(speed-up from 1 to 2 workers: {engine[1]['wall'] / engine[2]['wall']:.2f}x)",
            f"engine, 2 workers, demos run:      {demos[2]['wall']:7.1f} s",
            f"Dask, 2 worker processes:          {dask['wall']:7.1f} s  "
            f"({100 * engine[2]['wall'] / dask['wall']:.0f} % of the local 2 workers' throughput)",
        ]
        if rootless is not None:
            user_per = rootless["wall"] / notebooks
            label = f"engine as an ordinary user ({'/'.join(rootless['modes']) or '?'}), 1 worker:"
            lines.append(f"{label:<35}{rootless['wall']:7.1f} s  ({user_per:.2f} s per notebook, "
                         f"{user_per - one_per:+.2f} s per notebook against {mode}; "
                         f"ratio {rootless['wall'] / engine[1]['wall']:.2f})")
        if "nbgrader_s" in figures:
            lines.append(f"engine (2 workers) vs nbgrader:    {figures['nbgrader_s'] / engine[2]['wall']:.2f}x faster")
        for size, run in memory.items():
            lines.append(f"{f'a class of {size} (python_basics):':<35}{run['wall']:7.1f} s, coordinator peak "
                         f"{run['coordinator_kb'] / 1024:.0f} MiB")
        lines.append(f"submit to fetchable feedback:     {max(latencies):7.1f} s at most "
                     f"({', '.join(f'{x:.1f}' for x in latencies)} s; nndl grade --watch, one submission at a time)")
        lines += [
            f"largest worker or kernel:          {engine[2]['child_kb'] / 1024:.0f} MiB",
            f"identical scores on every path:    {'yes' if same else 'NO'} ({', '.join(paths)})",
        ]
        print("\n".join(lines))
        return 0 if same else 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
