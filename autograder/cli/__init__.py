"""The ``nndl`` command line."""
