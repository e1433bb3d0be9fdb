"""What ``nndl --help`` and ``nndl COMMAND --help`` say: the exit codes, the examples, each command's texts.

The options' own help is declared with the options, in ``autograder.cli.commands``.
"""

EXIT_CODES = """exit codes (the same for every command):
  0    done
  1    done, but something failed (public checks failed, submissions not graded, files not collected)
  2    usage error (bad option or argument, no such file)
  3    bad input: an unreadable notebook, a missing or corrupt gradebook, an unknown assignment
       or student, nothing to do
  130  interrupted (Ctrl-C or kill); what was finished is kept
"""

EXAMPLES = """students:
  nndl check python_basics.ipynb    run your saved notebook and its public checks, as the grader will

instructors (in the nbgrader course folder, or with --course-dir):
  nndl quickstart                   build the release, grade sample submissions, print the scores
  nndl generate                     regenerate source/*/nndl/ and release/ after editing the course
  nndl collect-zip ~/Downloads/submissions.zip python_basics   an LMS download into submitted/
  nndl grade python_basics          grade every submission of an assignment, in parallel, into the gradebook
  nndl grade --all                  every assignment that has submissions
  nndl grade submitted/ada/python_basics/python_basics.ipynb   one notebook: its full report
  nndl doctor                       can this machine grade safely? the sandbox mode and why
  nndl feedback python_basics       HTML feedback for every graded student
  nndl export --format canvas --roster canvas_export.csv   grades for the LMS
  nndl dashboard                    the class dashboard (HTML with plots)

maintainers:
  nndl mutants                      every catalogued mistake against the checks, with the kill rate
  nndl figures                      the reference's accuracies on the default digits set
  nndl data install-classic ~/classic   verify and install the classic cat files

'nndl COMMAND --help' explains a command with examples.

""" + EXIT_CODES


# each command's line in 'nndl --help', its description and its examples
HELP = {
    "quickstart": (
        "build the release, grade sample submissions and print the scores",
        "In a fresh course folder (default ./nndl-quickstart): generate the student release with nbgrader, "
        "write sample submissions (a student who solved everything, one who handed in the stubs, two with "
        "typical mistakes), autograde them, write feedback and grades.csv, and print the score table.",
        "  nndl quickstart\n  nndl quickstart python_basics --dir /tmp/try -q\n"),
    "generate": (
        "regenerate the assignments' support files and the student release",
        "Write source/<assignment>/nndl/ (helpers, data, public checks) and run nbgrader "
        "generate_assignment for each assignment, into release/.",
        "  nndl generate\n  nndl generate logistic_regression --course-dir ~/course\n"),
    "check": (
        "students: run your notebook's public checks, as the grader will",
        "Run the code cells of your saved notebook in a fresh kernel, in order, then the public checks of "
        "the assignment (the ones in the notebook's test cells), exactly as the grader runs them. Prints "
        "each function's public points, what failed and why, and any known mistake the result looks "
        "like. Only public checks run: the hidden ones run when your instructor grades. Save the notebook "
        "first: the file is what is checked.\n\n"
        "Exit code 0 when every public check passes, 1 when some fail, 2 when there is no such file, "
        "3 when the notebook cannot be read (e.g. not valid JSON) or its assignment cannot be told.",
        "  nndl check python_basics.ipynb\n"
        "  nndl check .                          the notebook of the assignment folder you are in\n"
        "  nndl check my_copy.ipynb --assignment logistic_regression\n"
        "  nndl check python_basics.ipynb --json > report.json\n"),
    "grade": (
        "instructors: grade one notebook, one assignment, or every assignment",
        "TARGET is an assignment, a notebook file, or --all.\n\n"
        "An assignment: grade submitted/*/ASSIGNMENT/ with the sandboxed grader, in local worker processes "
        "or on a Dask cluster, and record the scores in nbgrader's gradebook and autograded/ as 'nbgrader "
        "autograde' does (then feedback and export work as usual). The seed of the hidden checks is "
        "recorded in .nndl/runs/ASSIGNMENT.json; a run that is stopped resumes where it was, and "
        "submissions already graded with the same seed and notebook are skipped.\n\n"
        "--all: the same for every assignment that has submissions.\n\n"
        "A notebook: grade that one notebook in the sandbox with every check, public and hidden, and "
        "print its report (each function's score, each check, diagnosed mistakes); nothing is recorded. "
        "The seed is --seed, else the one recorded for the assignment in the course, else 0.\n\n"
        "Student code runs in a sandbox (see 'nndl doctor'); where this machine cannot isolate it, "
        "grading refuses with exit code 3 and writes nothing, unless --allow-unsandboxed.\n\n"
        "Exit code 0 when everything was graded, 1 when some submissions could not be (nothing is "
        "recorded for them; the next run tries them again), 2 for usage errors, 3 for an unknown "
        "assignment, a corrupt gradebook, an unreadable notebook, nothing to grade or no sandbox, "
        "130 when interrupted.",
        "  nndl grade python_basics                         every submission, one worker per CPU\n"
        "  nndl grade python_basics --course-dir ~/course --workers 2 -q\n"
        "  nndl grade python_basics --scheduler tcp://scheduler:8786 --json   on a Dask cluster\n"
        "  nndl grade python_basics --force                 grade everything again with a new seed\n"
        "  nndl grade --all\n"
        "  nndl grade submitted/ada/python_basics/python_basics.ipynb\n"
        "  nndl grade ~/Downloads/ada.ipynb --assignment python_basics --seed 3 --json\n"),
    "doctor": (
        "instructors: can this machine grade safely? the sandbox mode and why",
        "Print the sandbox mode grading would use on this machine (full: as root; rootless: an ordinary "
        "user with unprivileged user namespaces; none: grading refuses), why, what a student's kernel is "
        "kept from in that mode and what is not enforced, and whether the course's nbgrader_config.py "
        "makes nbgrader autograde (and formgrader) grade through the same engine.\n\n"
        "Exit code 0 when grading can be isolated here, 3 when it cannot (grading would refuse).",
        "  nndl doctor\n  nndl doctor --course-dir ~/course --json\n"),
    "feedback": (
        "instructors: HTML feedback per student and assignment",
        "Write an HTML page per graded student and assignment under feedback/: every check's score with "
        "its message and any diagnosed mistake, and plots where they help. Hidden checks show their "
        "score and the grader's message, never their inputs or code.\n\n"
        "Exit code 3 when there is no readable gradebook, or an unknown assignment or student.",
        "  nndl feedback                         every assignment and student\n"
        "  nndl feedback python_basics\n"
        "  nndl feedback python_basics --student ada --student cy\n"),
    "export": (
        "instructors: grades for nbgrader, Canvas or Gradescope",
        "Write the gradebook's grades in another tool's layout:\n"
        "  nbgrader    nbgrader's CSV (nbgrader export), default grades.csv\n"
        "  canvas      a CSV that Canvas imports (Grades > Import), default reports/canvas_grades.csv;\n"
        "              --roster (Canvas's own export) matches students and assignment columns\n"
        "  gradescope  a Gradescope results.json per submission, default reports/gradescope/\n\n"
        "Exit code 1 when the Canvas file was written without students the roster lacks, 3 when there "
        "is no readable gradebook or an unknown assignment.",
        "  nndl export                                     grades.csv\n"
        "  nndl export --format canvas --roster ~/Downloads/canvas_gradebook.csv --to grades_canvas.csv\n"
        "  nndl export --format gradescope python_basics\n"),
    "dashboard": (
        "instructors: the class dashboard (HTML with plots)",
        "Build an HTML page with PNG plots: the grade distribution per assignment, the failure rate of "
        "every check, the most common diagnosed mistakes, and the submissions that timed out or "
        "crashed. Exit code 3 when there is no readable gradebook.",
        "  nndl dashboard\n  nndl dashboard --out /tmp/dashboard python_basics\n"),
    "collect-zip": (
        "instructors: an LMS download archive into submitted/",
        "Import a .zip of submissions downloaded from an LMS into submitted/<student>/ASSIGNMENT/ with "
        "nbgrader's zip_collect. Each file's path in the archive must tell the student: by default\n"
        "  <student>_[late_]<user id>_<submission id>_<file>[-<n>].ipynb   (Canvas)\n"
        "  <student>_[anything_]ASSIGNMENT[-<n>].ipynb\n"
        "so smithjane_1234_5678_python_basics.ipynb is student smithjane's python_basics.ipynb. "
        "--regexp replaces both: a Python regular expression matched against the whole path, with the "
        "named groups student_id and file_id.\n\n"
        "Files that are not collected are listed with the reason: not a notebook, no student in the "
        "name, an older copy of a re-uploaded notebook (the highest -<n> is kept), one name shared by two "
        "Canvas users, or a student who already has a submission: it is kept unless --force, which moves "
        "it to downloaded/ASSIGNMENT/<run>/replaced/ first (nothing is deleted). Students not in the "
        "gradebook yet are collected and listed; they are added to the gradebook when graded. Every run "
        "keeps a copy of the archive, the extracted files and its decisions (plan.json) under "
        "downloaded/ASSIGNMENT/<run>/.\n\n"
        "Exit code 0 when every file was collected, 1 when some were not, 3 when none was (or the archive "
        "or assignment is not usable).",
        "  nndl collect-zip ~/Downloads/submissions.zip python_basics\n"
        "  nndl collect-zip subs.zip python_basics --force        replace earlier submissions\n"
        "  nndl collect-zip subs.zip python_basics --regexp '[^_]+_(late_)?(?P<student_id>\\d+)_\\d+_"
        "(?P<file_id>.+?)(-\\d+)?\\.ipynb'\n"
        "                                                        Canvas's user id as the student id\n"),
    "mutants": (
        "maintainers: run every known mistake against the checks",
        "Each catalogued mistake is a mutant of the reference solution. A mutant is killed when it fails "
        "exactly the checks it should and every failure names the mistake. Exit code 1 when a mutant "
        "survives.",
        "  nndl mutants\n  nndl mutants -a planar_classification\n"),
    "figures": (
        "maintainers: train the reference models and print costs and accuracies",
        "Train the notebooks' models with the reference solution and print the cost and the train/test "
        "accuracy each reaches (about a minute).",
        "  nndl figures\n  nndl figures --image-set catvnoncat --data-dir ~/classic --planar\n"),
    "data": (
        "verify or install data sets",
        "install-classic FOLDER: verify the classic cat files by sha256 and copy them where the notebooks "
        "find them. verify [FOLDER]: load an image set and print its shapes. Exit code 3 when the files "
        "are missing or do not verify.",
        "  nndl data install-classic ~/classic\n  nndl data verify\n"
        "  nndl data verify ~/classic --name catvnoncat\n"),
}
