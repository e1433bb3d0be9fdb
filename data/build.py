"""Rebuild the bundled data files, deterministically and offline.

    python data/build.py               # writes next to this file
    python data/build.py --out DIR     # writes into DIR
    python -m nndl_data.build --out DIR

Files written:

- ``planar.h5``: the flower set ``X (2, 400)`` float64, ``Y (1, 400)`` uint8, and four extra
  2-D sets in groups ``noisy_circles``, ``noisy_moons``, ``blobs``, ``gaussian_quantiles``,
  each ``X (200, 2)`` float64, ``y (200,)`` int64 (the scikit-learn layout).
- ``train_digits.h5`` / ``test_digits.h5``: even (1) vs odd (0) handwritten digits from
  scikit-learn's bundled ``load_digits()``, in the schema of the classic cat files:
  ``{train,test}_set_x`` uint8 ``(m, 8, 8, 3)``, ``{train,test}_set_y`` int64 ``(m,)``,
  ``list_classes`` ``|S4 (2,)`` = ``[b'odd', b'even']``.

Only numpy, h5py and scikit-learn are needed; nothing is downloaded.
"""

import argparse
from pathlib import Path

import h5py
import numpy as np
from sklearn import datasets

HERE = Path(__file__).resolve().parent

N_EXTRA = 200
# Fixed random_state of each extra set (blobs keeps the classic course's 5).
EXTRA_RANDOM_STATE = {
    "noisy_circles": 1,
    "noisy_moons": 2,
    "blobs": 5,
    "gaussian_quantiles": 3,
}

DIGITS_SPLIT_SEED = 0  # np.random.RandomState(0).permutation(1797): first 450 -> test
DIGITS_M_TEST = 450
DIGITS_CLASSES = np.array([b"odd", b"even"], dtype="S4")  # index = label


def make_flower():
    """The planar "flower": two classes of 200 points on the petals of r = 4 sin(4t).

    Uses the legacy global generator seeded with 1 (noise of t, then of r; class 0, then 1),
    and restores the generator's previous state afterwards.

    Returns:
        X -- (2, 400) float64, one point per column
        Y -- (1, 400) uint8, labels 0/1
    """
    m, a = 400, 4
    N = m // 2  # points per class
    X = np.zeros((m, 2))  # (m, 2) while filling, transposed at the end
    Y = np.zeros((m, 1), dtype=np.uint8)
    saved_state = np.random.get_state()
    try:
        np.random.seed(1)
        for j in range(2):
            rows = slice(N * j, N * (j + 1))
            t = np.linspace(3.12 * j, 3.12 * (j + 1), N) + np.random.randn(N) * 0.2  # angle
            r = a * np.sin(4 * t) + np.random.randn(N) * 0.2  # radius
            X[rows, 0] = r * np.sin(t)
            X[rows, 1] = r * np.cos(t)
            Y[rows, 0] = j
    finally:
        np.random.set_state(saved_state)
    return X.T, Y.T


def make_extra_sets():
    """The four extra 2-D sets, each seeded by ``EXTRA_RANDOM_STATE``.

    Returns:
        dict name -> (X (200, 2) float64, y (200,) int64)
    """
    rs = EXTRA_RANDOM_STATE
    raw = {
        "noisy_circles": datasets.make_circles(
            n_samples=N_EXTRA, factor=0.5, noise=0.3, random_state=rs["noisy_circles"]
        ),
        "noisy_moons": datasets.make_moons(
            n_samples=N_EXTRA, noise=0.2, random_state=rs["noisy_moons"]
        ),
        "blobs": datasets.make_blobs(
            n_samples=N_EXTRA, random_state=rs["blobs"], n_features=2, centers=6
        ),
        "gaussian_quantiles": datasets.make_gaussian_quantiles(
            mean=None, cov=0.5, n_samples=N_EXTRA, n_features=2, n_classes=2, shuffle=True,
            random_state=rs["gaussian_quantiles"],
        ),
    }
    sets = {}
    for name, (X, y) in raw.items():
        y = y % 2 if name == "blobs" else y  # six blobs -> two classes
        sets[name] = (np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64))
    return sets


def make_digits():
    """Even-vs-odd digits from ``sklearn.datasets.load_digits()`` (1797 images of 8x8).

    Pixel values 0..16 become uint8 0..255 (``round(v * 255 / 16)``), copied into three
    identical channels. The split is a fixed permutation from ``RandomState(0)``: its first
    450 indices are the test set, the other 1347 the training set.

    Returns:
        (train_x (1347, 8, 8, 3) uint8, train_y (1347,) int64,
         test_x (450, 8, 8, 3) uint8, test_y (450,) int64)
    """
    digits = datasets.load_digits()
    gray = np.round(digits.images * 255 / 16).astype(np.uint8)  # (1797, 8, 8)
    x = np.repeat(gray[..., np.newaxis], 3, axis=-1)  # (1797, 8, 8, 3)
    y = (digits.target % 2 == 0).astype(np.int64)  # 1 = even, 0 = odd
    perm = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(len(y))
    test_idx, train_idx = perm[:DIGITS_M_TEST], perm[DIGITS_M_TEST:]
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx]


def _write(path, arrays):
    """Write ``{key: array}`` to a new HDF5 file; a key with "/" creates its group."""
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value, track_times=False)


def build_all(out_dir=HERE):
    """Write planar.h5, train_digits.h5 and test_digits.h5 into ``out_dir``.

    Returns:
        dict file name -> Path written
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    X, Y = make_flower()
    planar = {"X": X, "Y": Y}
    for name, (Xe, ye) in make_extra_sets().items():
        planar[f"{name}/X"] = Xe
        planar[f"{name}/y"] = ye

    train_x, train_y, test_x, test_y = make_digits()
    contents = {
        "planar.h5": planar,
        "train_digits.h5": {
            "train_set_x": train_x, "train_set_y": train_y, "list_classes": DIGITS_CLASSES,
        },
        "test_digits.h5": {
            "test_set_x": test_x, "test_set_y": test_y, "list_classes": DIGITS_CLASSES,
        },
    }
    written = {}
    for file_name, arrays in contents.items():
        written[file_name] = out_dir / file_name
        _write(written[file_name], arrays)
    return written


def _summary(written):
    lines = []
    for file_name, path in written.items():
        with h5py.File(path, "r") as f:
            parts = []
            f.visititems(
                lambda key, obj: parts.append(f"{key} {obj.dtype} {obj.shape}")
                if isinstance(obj, h5py.Dataset) else None
            )
        lines.append(f"{path} ({path.stat().st_size} bytes): " + ", ".join(parts))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE,
                        help=f"folder to write into (default: {HERE})")
    args = parser.parse_args(argv)
    print(_summary(build_all(args.out)))


if __name__ == "__main__":
    main()
