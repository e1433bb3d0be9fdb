"""One BLAS thread per process: the one place that names the variables and their value.

The notebooks multiply thin matrices; where the BLAS threads of several kernels and workers fight
for a machine's few cores, they run many times slower. Every process that runs NumPy for grading
(student kernels, workers, nbgrader's commands, the hub's servers, the tests) gets these, set
before NumPy loads. This module imports nothing, so it may be read first.
"""
import os

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
ONE_THREAD = {name: "1" for name in BLAS_VARIABLES}


def pin(environ=None, force=False):
    """Set the variables in ``environ`` (default ``os.environ``); keep values already there unless ``force``."""
    environ = os.environ if environ is None else environ
    for name, value in ONE_THREAD.items():
        if force:
            environ[name] = value
        else:
            environ.setdefault(name, value)
    return environ
