"""Load the course data sets: the one loader the notebooks and the tests share.

Image sets (``load_dataset``) follow the classic ``lr_utils`` contract: images ``(m, h, w, 3)``
uint8, labels ``(1, m)``, one row of class names. Two sets are known:

- ``"digits"``: even (1) vs odd (0) handwritten 8x8 digits, bundled (see README.md).
- ``"catvnoncat"``: the classic 64x64 cat / non-cat set. Not ours to redistribute, so never
  bundled: an instructor supplies it, and it is checked against its sha256 before it is read.

Where files are looked for: ``data_dir`` if given, and only there. Otherwise the folder named by
the environment variable ``NNDL_DATA_DIR`` (if set), then ``DATA_DIR`` (this folder), then, for
the classic set only, ``DATA_DIR/catvnoncat/``.
"""

import hashlib
import os
from pathlib import Path

import h5py
import numpy as np

DATA_DIR = Path(__file__).resolve().parent
ENV_VAR = "NNDL_DATA_DIR"
IMAGE_SET_VAR = "NNDL_IMAGE_SET"  # read by the notebooks, which load "digits" when it is not set
CLASSIC = "catvnoncat"
CLASSIC_SHA256 = {
    "train_catvnoncat.h5": "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242",
    "test_catvnoncat.h5": "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951",
}
_IMAGE_SETS = ("digits", CLASSIC)


class DataError(Exception):
    """A data file is missing, corrupt, or not in the expected schema; the message says why."""


def image_set_names():
    """The names ``load_dataset`` accepts: ``("digits", "catvnoncat")``."""
    return _IMAGE_SETS


def _search_dirs(data_dir, classic=False):
    """Folders to look in, in order (see the module docstring)."""
    if data_dir is not None:
        return [Path(data_dir)]
    dirs = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    dirs.append(DATA_DIR)
    if classic:
        dirs.append(DATA_DIR / CLASSIC)
    return dirs


def _how_to_supply_classic():
    """What to do when the classic files are missing: the instructor's ways, or a student's in a student's copy."""
    dest = DATA_DIR / CLASSIC
    files = "train_catvnoncat.h5 and test_catvnoncat.h5"
    if __name__.split(".")[0] != "nndl_data":  # a student's copy (nndl/loader.py): no instructor tool is there
        return (
            "The classic cat / non-cat files are not distributed with the course. Either\n"
            f"  - ask your instructor for {files} and copy them into\n"
            f"    {dest}/ (or set {ENV_VAR} to the folder that holds them), or\n"
            f"  - use the default image set, the digits that come with the assignment: leave {IMAGE_SET_VAR}\n"
            f'    unset, or set it to "digits", in the shell you start Jupyter from (the notebook uses "digits"\n'
            f"    when {IMAGE_SET_VAR} is not set); then restart Jupyter and run the notebook from the top."
        )
    return (
        "The classic cat / non-cat files are not distributed with this project; to supply them,\n"
        f"  - copy {files} into {dest}/ , or\n"
        f"  - set {ENV_VAR} to the folder that holds them, or\n"
        "  - run: nndl data install-classic /folder/with/the/files"
    )


def _find(file_name, dirs, classic=False):
    """Path of the first ``dirs/file_name`` that exists; DataError saying what to do if none."""
    for folder in dirs:
        path = folder / file_name
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in dirs)
    if classic:
        hint = _how_to_supply_classic()
    else:
        hint = f"Rebuild the bundled files with: python {DATA_DIR / 'build.py'}"
    raise DataError(f"{file_name} not found. Searched: {searched}.\n{hint}")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_classic(path):
    """Raise DataError unless ``path`` has the sha256 of the classic file of the same name."""
    expected = CLASSIC_SHA256[path.name]
    actual = _sha256(path)
    if actual != expected:
        raise DataError(
            f"{path}: checksum mismatch, this is not the classic file or it is corrupt.\n"
            f"  expected sha256 {expected}\n"
            f"  actual   sha256 {actual}"
        )


def _read(path, schema):
    """Read the datasets named in ``schema`` ``{key: (dtype kind, ndim)}`` from an HDF5 file.

    dtype kind is a numpy kind letter: "u" unsigned int, "i" int, "f" float, "S" bytes.
    Returns ``{key: ndarray}``; raises DataError naming the file and the offending key.
    """
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise DataError(f"{path} is not a readable HDF5 file ({err}).") from err
    arrays = {}
    with f:
        for key, (kind, ndim) in schema.items():
            if not isinstance(f.get(key), h5py.Dataset):
                raise DataError(f"{path} has no dataset '{key}' (it holds: {sorted(f)}).")
            array = f[key][()]
            if array.dtype.kind != kind or array.ndim != ndim:
                raise DataError(
                    f"{path}: dataset '{key}' is {array.dtype} with {array.ndim} dimensions, "
                    f"expected dtype kind '{kind}' with {ndim} dimensions."
                )
            arrays[key] = array
    return arrays


def _read_split(path, split):
    """``(x (m, h, w, 3) uint8, y (m,) int, classes (2,) bytes)`` of one split of an image set."""
    schema = {f"{split}_set_x": ("u", 4), f"{split}_set_y": ("i", 1), "list_classes": ("S", 1)}
    arrays = _read(path, schema)
    x, y = arrays[f"{split}_set_x"], arrays[f"{split}_set_y"]
    if x.shape[0] != y.shape[0] or x.shape[-1] != 3:
        raise DataError(
            f"{path}: {split}_set_x has shape {x.shape} and {split}_set_y {y.shape}; "
            "expected (m, h, w, 3) and (m,)."
        )
    return x, y, arrays["list_classes"]


def load_dataset(name="digits", data_dir=None):
    """Load an image set in the layout of the classic ``lr_utils.load_dataset``.

    Arguments:
        name -- one of ``image_set_names()``: "digits" (bundled) or "catvnoncat" (classic)
        data_dir -- folder holding ``train_{name}.h5`` and ``test_{name}.h5``; None searches
            ``NNDL_DATA_DIR``, then ``DATA_DIR`` (and ``DATA_DIR/catvnoncat/`` for the classic set)

    Returns:
        train_set_x_orig -- (m_train, h, w, 3) uint8; digits (1347, 8, 8, 3), cats (209, 64, 64, 3)
        train_set_y -- (1, m_train) int64, labels 0/1
        test_set_x_orig -- (m_test, h, w, 3) uint8; digits 450, cats 50 examples
        test_set_y -- (1, m_test) int64
        classes -- (2,) bytes, classes[label]: [b'odd', b'even'] or [b'non-cat', b'cat']
    """
    if name not in _IMAGE_SETS:
        raise DataError(f"unknown image set '{name}'; known names: {', '.join(_IMAGE_SETS)}.")
    classic = name == CLASSIC
    dirs = _search_dirs(data_dir, classic)
    paths = {split: _find(f"{split}_{name}.h5", dirs, classic) for split in ("train", "test")}
    if classic:  # before anything is parsed
        for path in paths.values():
            _verify_classic(path)
    train_x, train_y, classes = _read_split(paths["train"], "train")
    test_x, test_y, _ = _read_split(paths["test"], "test")
    return train_x, train_y.reshape(1, -1), test_x, test_y.reshape(1, -1), classes


def install_classic_data(src_dir, dest_dir=None):
    """Verify the two classic cat files in ``src_dir``, then copy them to ``dest_dir``.

    Arguments:
        src_dir -- folder holding train_catvnoncat.h5 and test_catvnoncat.h5
        dest_dir -- where to copy them; default ``DATA_DIR/catvnoncat/`` (git-ignored)

    Returns:
        the destination folder (Path). Nothing is copied unless both files pass the checksum;
        otherwise DataError says which file is missing or wrong.
    """
    src_dir = Path(src_dir)
    dest_dir = DATA_DIR / CLASSIC if dest_dir is None else Path(dest_dir)
    sources = [_find(file_name, [src_dir], classic=True) for file_name in CLASSIC_SHA256]
    for path in sources:
        _verify_classic(path)
    dest_dir.mkdir(parents=True, exist_ok=True)
    for path in sources:
        target = dest_dir / path.name
        partial = dest_dir / (path.name + ".partial")
        partial.write_bytes(path.read_bytes())
        os.replace(partial, target)  # never leave a half-written file under the real name
    return dest_dir


def load_planar_dataset(data_dir=None):
    """The planar flower: 400 points in two interleaved classes of 200, from ``planar.h5``.

    Returns:
        X -- (2, 400) float64, one point per column
        Y -- (1, 400) uint8, labels 0/1
    """
    path = _find("planar.h5", _search_dirs(data_dir))
    arrays = _read(path, {"X": ("f", 2), "Y": ("u", 2)})
    return arrays["X"], arrays["Y"]


def load_extra_datasets(data_dir=None):
    """Four extra 2-D sets of 200 points, in scikit-learn's layout (rows are examples).

    Returns:
        noisy_circles, noisy_moons, blobs, gaussian_quantiles -- each a tuple
        ``(X (200, 2) float64, y (200,) int64)``, labels 0/1 (blobs: six centers, label % 2)
    """
    path = _find("planar.h5", _search_dirs(data_dir))
    names = ("noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles")
    schema = {}
    for name in names:
        schema[f"{name}/X"] = ("f", 2)
        schema[f"{name}/y"] = ("i", 1)
    arrays = _read(path, schema)
    return tuple((arrays[f"{name}/X"], arrays[f"{name}/y"]) for name in names)
