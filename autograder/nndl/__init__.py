"""What runs beside the student's code: plain data, comparison, probes, judges, public checks.

These modules use only NumPy and relative imports, so they are copied as they are into every
release (as the package ``nndl``) and run there without the reference or the hidden checks.
"""
