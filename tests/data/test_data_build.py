"""Tests of nndl_data.build: rebuilding gives exactly the committed files, offline and stably."""

import subprocess
import sys

import h5py
import numpy as np
import pytest
from sklearn import datasets

from nndl_data import build, load_dataset, load_extra_datasets, loader

FILES = ("planar.h5", "train_digits.h5", "test_digits.h5")


def _datasets(path):
    """{key: ndarray} of every dataset in an HDF5 file, groups included ("blobs/X")."""
    found = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda key, obj: found.__setitem__(key, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return found


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    out = tmp_path_factory.mktemp("rebuilt")
    written = build.build_all(out)
    return out, written


def test_build_all_writes_the_three_files(rebuilt):
    out, written = rebuilt
    assert sorted(written) == sorted(FILES)
    for name in FILES:
        assert written[name] == out / name and written[name].is_file()


@pytest.mark.parametrize("name", FILES)
def test_rebuild_equals_committed_file(rebuilt, name):
    out, _ = rebuilt
    committed, fresh = _datasets(loader.DATA_DIR / name), _datasets(out / name)
    assert sorted(fresh) == sorted(committed)
    for key in committed:
        assert fresh[key].dtype == committed[key].dtype, key
        assert fresh[key].shape == committed[key].shape, key
        np.testing.assert_array_equal(fresh[key], committed[key], err_msg=key)


def test_rebuild_is_byte_stable(rebuilt, tmp_path):
    out, _ = rebuilt
    build.build_all(tmp_path)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_build_leaves_the_global_generator_alone():
    np.random.seed(123)
    expected = np.random.rand(3)
    np.random.seed(123)
    build.make_flower()
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_digits_follow_the_documented_split_and_scaling(rebuilt):
    out, _ = rebuilt
    digits = datasets.load_digits()
    perm = np.random.RandomState(0).permutation(1797)
    train_x, train_y, test_x, test_y, _ = load_dataset("digits", data_dir=out)
    for idx, x, y in ((perm[:450], test_x, test_y), (perm[450:], train_x, train_y)):
        np.testing.assert_array_equal(x[..., 1], np.round(digits.images[idx] * 255 / 16))
        np.testing.assert_array_equal(y.ravel(), 1 - digits.target[idx] % 2)


@pytest.mark.parametrize("index, name", list(enumerate(build.EXTRA_RANDOM_STATE)))
def test_extra_sets_use_the_documented_random_state(rebuilt, index, name):
    out, _ = rebuilt
    seed = build.EXTRA_RANDOM_STATE[name]
    make = {
        "noisy_circles": lambda: datasets.make_circles(
            n_samples=200, factor=0.5, noise=0.3, random_state=seed),
        "noisy_moons": lambda: datasets.make_moons(n_samples=200, noise=0.2, random_state=seed),
        "blobs": lambda: datasets.make_blobs(
            n_samples=200, random_state=seed, n_features=2, centers=6),
        "gaussian_quantiles": lambda: datasets.make_gaussian_quantiles(
            mean=None, cov=0.5, n_samples=200, n_features=2, n_classes=2, shuffle=True,
            random_state=seed),
    }[name]
    X_expected, y_expected = make()
    if name == "blobs":
        y_expected = y_expected % 2
    X, y = load_extra_datasets(data_dir=out)[index]
    np.testing.assert_array_equal(X, X_expected)
    np.testing.assert_array_equal(y, y_expected)


@pytest.mark.parametrize("command", [
    [str(loader.DATA_DIR / "build.py")],
    ["-m", "nndl_data.build"],
])
def test_command_line_writes_into_out(tmp_path, command):
    result = subprocess.run([sys.executable, *command, "--out", str(tmp_path)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    for name in FILES:
        assert (tmp_path / name).is_file()
        assert name in result.stdout
