"""Course data: the bundled digits and planar sets, and the instructor-supplied classic cat set."""

from .loader import (
    DATA_DIR,
    DataError,
    image_set_names,
    install_classic_data,
    load_dataset,
    load_extra_datasets,
    load_planar_dataset,
)

__all__ = [
    "DATA_DIR",
    "DataError",
    "image_set_names",
    "install_classic_data",
    "load_dataset",
    "load_extra_datasets",
    "load_planar_dataset",
]
