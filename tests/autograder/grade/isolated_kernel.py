"""A Jupyter kernel that cannot import the grader: a student's machine, as far as imports go.

Started by the tests as ``python isolated_kernel.py -f CONNECTION_FILE``. Importing
``autograder``, ``solutions`` or ``nndl_data`` fails as it would where only the student
dependencies are installed.
"""
import sys

BLOCKED = ("autograder", "solutions", "nndl_data")


class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not installed on a student's machine)")
        return None


sys.meta_path.insert(0, Blocker())
sys.path = [p for p in sys.path if p not in ("", ".")] + [""]

if __name__ == "__main__":
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()
