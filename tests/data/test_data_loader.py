"""Tests of nndl_data.loader: shapes, dtypes and counts, search order, and every DataError."""

import os
import re
from pathlib import Path

import h5py
import numpy as np
import pytest

from nndl_data import (
    DataError,
    image_set_names,
    install_classic_data,
    load_dataset,
    load_extra_datasets,
    load_planar_dataset,
)
from nndl_data import loader

CLASSIC_SRC = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "catvnoncat"
CLASSIC_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")


@pytest.fixture(autouse=True)
def no_env_data_dir(monkeypatch):
    """Tests see the bundled folder unless they set NNDL_DATA_DIR themselves."""
    monkeypatch.delenv(loader.ENV_VAR, raising=False)


@pytest.fixture
def classic_dir():
    """The classic cat files shipped beside the repo for tests (read-only, never copied into it)."""
    if not all((CLASSIC_SRC / name).is_file() for name in CLASSIC_FILES):
        pytest.skip(f"classic cat files not found in {CLASSIC_SRC}; an instructor supplies them")
    return CLASSIC_SRC


@pytest.fixture
def fake_data_dir(tmp_path, monkeypatch):
    """Point DATA_DIR at an empty temporary folder, so nothing is written into the repo."""
    monkeypatch.setattr(loader, "DATA_DIR", tmp_path / "bundled")
    (tmp_path / "bundled").mkdir()
    return tmp_path / "bundled"


def _copy(src, dest):
    dest.write_bytes(Path(src).read_bytes())
    return dest


def _digits_renamed_as_classic(folder):
    """A pair of valid HDF5 files named like the classic ones, but with other contents."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        _copy(loader.DATA_DIR / f"{split}_digits.h5", folder / f"{split}_catvnoncat.h5")
    return folder


# ---------------------------------------------------------------- bundled sets

def test_image_set_names():
    assert image_set_names() == ("digits", "catvnoncat")


def test_digits_shapes_dtypes_and_classes():
    train_x, train_y, test_x, test_y, classes = load_dataset()
    assert train_x.dtype == np.uint8 and train_x.shape == (1347, 8, 8, 3)
    assert test_x.dtype == np.uint8 and test_x.shape == (450, 8, 8, 3)
    assert train_y.dtype == np.int64 and train_y.shape == (1, 1347)
    assert test_y.dtype == np.int64 and test_y.shape == (1, 450)
    assert classes.dtype == np.dtype("S4")
    assert classes.tolist() == [b"odd", b"even"]


def test_digits_images_are_grey_and_span_0_to_255():
    train_x, _, test_x, _, _ = load_dataset("digits")
    for x in (train_x, test_x):
        assert np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2])
        assert x.min() == 0 and x.max() == 255


def test_digits_labels_are_even_vs_odd_counts():
    from sklearn.datasets import load_digits

    digits_per_class = np.bincount(load_digits().target, minlength=10)  # (10,)
    n_even = int(digits_per_class[0::2].sum())
    _, train_y, _, test_y, _ = load_dataset("digits")
    labels = np.concatenate([train_y.ravel(), test_y.ravel()])
    assert set(np.unique(labels)) == {0, 1}
    assert int(labels.sum()) == n_even == 891
    assert labels.size - int(labels.sum()) == 1797 - 891


def test_planar_flower_shapes_and_class_sizes():
    X, Y = load_planar_dataset()
    assert X.dtype == np.float64 and X.shape == (2, 400)
    assert Y.dtype == np.uint8 and Y.shape == (1, 400)
    assert np.array_equal(np.bincount(Y.ravel()), [200, 200])
    assert np.array_equal(Y[0, :200], np.zeros(200)) and np.array_equal(Y[0, 200:], np.ones(200))


def test_planar_flower_matches_the_classic_recipe():
    """Recompute the flower with the global legacy generator, exactly as the course states it."""
    saved = np.random.get_state()
    try:
        np.random.seed(1)
        columns = []
        for j in range(2):
            t = np.linspace(3.12 * j, 3.12 * (j + 1), 200) + np.random.randn(200) * 0.2
            r = 4 * np.sin(4 * t) + np.random.randn(200) * 0.2
            columns.append(np.stack([r * np.sin(t), r * np.cos(t)]))  # (2, 200)
    finally:
        np.random.set_state(saved)
    X, _ = load_planar_dataset()
    np.testing.assert_array_equal(X, np.concatenate(columns, axis=1))


def test_extra_datasets_shapes_and_labels():
    sets = load_extra_datasets()
    assert len(sets) == 4
    for X, y in sets:
        assert X.dtype == np.float64 and X.shape == (200, 2)
        assert y.dtype == np.int64 and y.shape == (200,)
        assert set(np.unique(y)) == {0, 1}


def test_data_dir_argument_is_used(tmp_path):
    for name in ("planar.h5", "train_digits.h5", "test_digits.h5"):
        _copy(loader.DATA_DIR / name, tmp_path / name)
    assert load_dataset("digits", data_dir=tmp_path)[0].shape == (1347, 8, 8, 3)
    assert load_planar_dataset(data_dir=tmp_path)[0].shape == (2, 400)
    assert load_extra_datasets(data_dir=tmp_path)[0][0].shape == (200, 2)


def test_explicit_data_dir_is_the_only_place_searched(tmp_path):
    with pytest.raises(DataError, match="train_digits.h5 not found") as err:
        load_dataset("digits", data_dir=tmp_path)
    assert f"Searched: {tmp_path}.\n" in str(err.value)


# ---------------------------------------------------------------- errors

def test_unknown_name_lists_known_names():
    with pytest.raises(DataError, match="unknown image set 'cats'") as err:
        load_dataset("cats")
    assert "digits" in str(err.value) and "catvnoncat" in str(err.value)


def test_missing_bundled_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(DataError, match="planar.h5 not found") as err:
        load_planar_dataset(data_dir=tmp_path)
    assert str(tmp_path) in str(err.value) and "build.py" in str(err.value)


def test_not_hdf5_names_the_file(tmp_path):
    (tmp_path / "train_digits.h5").write_bytes(b"this is not HDF5\n" * 10)
    _copy(loader.DATA_DIR / "test_digits.h5", tmp_path / "test_digits.h5")
    with pytest.raises(DataError, match="not a readable HDF5 file") as err:
        load_dataset("digits", data_dir=tmp_path)
    assert "train_digits.h5" in str(err.value)


def test_missing_key_names_file_and_key(tmp_path):
    with h5py.File(tmp_path / "train_digits.h5", "w") as f:
        f["train_set_x"] = np.zeros((3, 8, 8, 3), dtype=np.uint8)
        f["list_classes"] = np.array([b"odd", b"even"])
    _copy(loader.DATA_DIR / "test_digits.h5", tmp_path / "test_digits.h5")
    with pytest.raises(DataError, match="has no dataset 'train_set_y'") as err:
        load_dataset("digits", data_dir=tmp_path)
    assert "train_digits.h5" in str(err.value)


def test_wrong_dtype_is_reported(tmp_path):
    with h5py.File(tmp_path / "planar.h5", "w") as f:
        f["X"] = np.zeros((2, 400))
        f["Y"] = np.zeros((1, 400))  # float64, should be uint8
    with pytest.raises(DataError, match="'Y' is float64"):
        load_planar_dataset(data_dir=tmp_path)


def test_mismatched_lengths_are_reported(tmp_path):
    with h5py.File(tmp_path / "train_digits.h5", "w") as f:
        f["train_set_x"] = np.zeros((3, 8, 8, 3), dtype=np.uint8)
        f["train_set_y"] = np.zeros(4, dtype=np.int64)
        f["list_classes"] = np.array([b"odd", b"even"])
    _copy(loader.DATA_DIR / "test_digits.h5", tmp_path / "test_digits.h5")
    with pytest.raises(DataError, match=r"expected \(m, h, w, 3\) and \(m,\)"):
        load_dataset("digits", data_dir=tmp_path)


def test_missing_classic_files_say_how_to_supply_them(fake_data_dir):
    with pytest.raises(DataError) as err:
        load_dataset("catvnoncat")
    message = str(err.value)
    assert "train_catvnoncat.h5 not found" in message
    assert str(fake_data_dir) in message and str(fake_data_dir / "catvnoncat") in message
    assert "NNDL_DATA_DIR" in message and "nndl data install-classic" in message


def _students_loader(monkeypatch, data_dir):
    """data/loader.py loaded under the name it has in a release (nndl.loader), its DATA_DIR at ``data_dir``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("nndl.loader", loader.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DATA_DIR", data_dir)
    return module


def _says_what_a_student_can_do(message):
    """Ask the instructor for the files, or use the default digits (how: NNDL_IMAGE_SET); no instructor command."""
    assert "ask your instructor for train_catvnoncat.h5 and test_catvnoncat.h5" in message, message
    assert "use the default image set" in message and "NNDL_IMAGE_SET" in message, message
    assert 'leave NNDL_IMAGE_SET\n    unset, or set it to "digits"' in message, message
    assert 'the notebook uses "digits"' in message, message
    assert not re.search(r"\bnndl (data|generate|figures)\b|install-classic|\brun:", message), message


def test_a_students_copy_says_what_the_student_can_do(fake_data_dir, monkeypatch):
    students = _students_loader(monkeypatch, fake_data_dir)
    with pytest.raises(students.DataError) as err:
        students.load_dataset("catvnoncat")
    message = str(err.value)
    assert "train_catvnoncat.h5 not found" in message
    assert str(fake_data_dir / "catvnoncat") in message  # where to copy the files the instructor gives
    _says_what_a_student_can_do(message)


def test_the_release_copy_says_what_the_student_can_do():
    """The loader as a release ships it (nndl/loader.py), run as a student's notebook runs it."""
    import subprocess
    import sys

    release = Path(__file__).resolve().parents[2] / "release" / "logistic_regression"
    code = ("from nndl.loader import load_dataset\ntry:\n    load_dataset('catvnoncat')\n"
            "except Exception as exc:\n    print(exc)")
    env = {k: v for k, v in os.environ.items() if k not in ("NNDL_DATA_DIR", "NNDL_IMAGE_SET")}
    done = subprocess.run([sys.executable, "-c", code], cwd=release, env=env, capture_output=True, text=True,
                          timeout=120)
    assert "train_catvnoncat.h5 not found" in done.stdout, done.stdout + done.stderr
    _says_what_a_student_can_do(done.stdout)


def test_wrong_classic_file_fails_the_checksum(tmp_path):
    folder = _digits_renamed_as_classic(tmp_path / "fake")
    with pytest.raises(DataError, match="checksum") as err:
        load_dataset("catvnoncat", data_dir=folder)
    message = str(err.value)
    assert "train_catvnoncat.h5" in message
    assert loader.CLASSIC_SHA256["train_catvnoncat.h5"] in message
    assert loader._sha256(folder / "train_catvnoncat.h5") in message
    assert "not the classic file or it is corrupt" in message


# ---------------------------------------------------------------- classic set (if supplied)

@pytest.mark.classic
def test_classic_set_shapes_and_cat_counts(classic_dir):
    train_x, train_y, test_x, test_y, classes = load_dataset("catvnoncat", data_dir=classic_dir)
    assert train_x.dtype == np.uint8 and train_x.shape == (209, 64, 64, 3)
    assert test_x.dtype == np.uint8 and test_x.shape == (50, 64, 64, 3)
    assert train_y.dtype == np.int64 and train_y.shape == (1, 209)
    assert test_y.dtype == np.int64 and test_y.shape == (1, 50)
    assert int(train_y.sum()) == 72 and int(test_y.sum()) == 33
    assert classes.dtype == np.dtype("S7") and classes.tolist() == [b"non-cat", b"cat"]


@pytest.mark.classic
@pytest.mark.parametrize("bad_name", CLASSIC_FILES)
def test_classic_copy_with_one_byte_flipped_fails_the_checksum(classic_dir, tmp_path, bad_name):
    for name in CLASSIC_FILES:
        _copy(classic_dir / name, tmp_path / name)
    data = bytearray((tmp_path / bad_name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / bad_name).write_bytes(bytes(data))
    with pytest.raises(DataError, match="checksum") as err:
        load_dataset("catvnoncat", data_dir=tmp_path)
    assert bad_name in str(err.value)


@pytest.mark.classic
def test_classic_set_found_through_env_var(classic_dir, fake_data_dir, monkeypatch):
    monkeypatch.setenv(loader.ENV_VAR, str(classic_dir))
    assert load_dataset("catvnoncat")[0].shape == (209, 64, 64, 3)


@pytest.mark.classic
def test_install_then_load_from_default_folder(classic_dir, fake_data_dir):
    dest = install_classic_data(classic_dir)
    assert dest == fake_data_dir / "catvnoncat"
    for name in CLASSIC_FILES:
        assert (dest / name).read_bytes() == (classic_dir / name).read_bytes()
    assert sorted(p.name for p in dest.iterdir()) == sorted(CLASSIC_FILES)  # no leftovers
    train_x, train_y, test_x, test_y, _ = load_dataset("catvnoncat")
    assert (train_x.shape[0], test_x.shape[0]) == (209, 50)
    assert (int(train_y.sum()), int(test_y.sum())) == (72, 33)


@pytest.mark.classic
def test_install_to_explicit_dest(classic_dir, tmp_path):
    dest = install_classic_data(classic_dir, dest_dir=tmp_path / "somewhere" / "cats")
    assert dest == tmp_path / "somewhere" / "cats"
    assert load_dataset("catvnoncat", data_dir=dest)[1].shape == (1, 209)


@pytest.mark.classic
def test_install_copies_nothing_if_one_file_is_bad(classic_dir, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _copy(classic_dir / "train_catvnoncat.h5", src / "train_catvnoncat.h5")
    data = bytearray((classic_dir / "test_catvnoncat.h5").read_bytes())
    data[100] ^= 0x01
    (src / "test_catvnoncat.h5").write_bytes(bytes(data))
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match="checksum"):
        install_classic_data(src, dest_dir=dest)
    assert not dest.exists()


def test_install_refuses_wrong_files(tmp_path):
    src = _digits_renamed_as_classic(tmp_path / "src")
    dest = tmp_path / "dest"
    with pytest.raises(DataError, match="checksum") as err:
        install_classic_data(src, dest_dir=dest)
    assert "not the classic file or it is corrupt" in str(err.value)
    assert not dest.exists()


def test_install_reports_missing_file(tmp_path):
    (tmp_path / "src").mkdir()
    with pytest.raises(DataError, match="train_catvnoncat.h5 not found") as err:
        install_classic_data(tmp_path / "src", dest_dir=tmp_path / "dest")
    assert str(tmp_path / "src") in str(err.value)
    assert not (tmp_path / "dest").exists()
