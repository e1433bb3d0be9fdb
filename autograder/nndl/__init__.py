"""What runs beside the student's code: plain data, comparison, probes, judges, public checks, the check command.

These modules use only relative imports, so they are copied as they are into every release (as the
package ``nndl``) and run there without the reference or the hidden checks. What the check cells
run needs NumPy alone; the check command (``python -m nndl check``: ``__main__``, ``notebook``,
``report``) also runs a kernel through ``nbclient`` and ``ipykernel``, which come with JupyterLab.
"""
