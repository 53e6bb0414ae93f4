"""Patient-level splits: load_image_folder(groups=...), `skcnn compare --groups`,
and the report of exact duplicate images across a split."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

import skcnn._compare
from skcnn import load_image_folder
from skcnn.cli import main

# 6 patients per class, 3 images each: person<p>_<class>_<i>.png
N_PATIENTS, PER_PATIENT = 6, 3


def _write(root):
    rng = np.random.RandomState(0)
    for label, cls in enumerate(["normal", "sick"]):
        folder = root / cls
        folder.mkdir(parents=True)
        for p in range(N_PATIENTS):
            for i in range(PER_PATIENT):
                pixels = rng.randint(0, 120, (12, 12)) + 100 * label
                name = f"person{p + 10 * label}_{cls}_{i}.png"
                Image.fromarray(pixels.astype(np.uint8)).save(folder / name)
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("groups") / "xray")


def test_groups_from_a_regular_expression(folder):
    data = load_image_folder(folder, groups=r"(person\d+)_")
    expected = [f.split("/")[-1].split("_")[0] for f in data.filenames]
    assert data.groups.tolist() == expected
    assert data.groups[0] == "person0" and len(set(data.groups)) == 12
    assert data.DESCR.endswith(" 12 groups.")
    # without a parenthesized group: the whole match
    whole = load_image_folder(folder, groups=r"person\d+")
    assert whole.groups.tolist() == expected
    # alternatives: the first parenthesized group that matched
    either = load_image_folder(folder, groups=r"(person1\d)_|(person\d)_")
    assert either.groups.tolist() == expected
    # not asked for: no groups
    assert "groups" not in load_image_folder(folder)


def test_groups_from_a_callable(folder):
    data = load_image_folder(folder, groups=lambda path: len(str(path)))
    assert data.groups.tolist() == [len(f) for f in data.filenames]


def test_unmatched_file_names_are_an_error_naming_them(folder):
    (folder / "sick" / "scan.png").write_bytes(
        (folder / "sick").joinpath("person10_sick_0.png").read_bytes()
    )
    try:
        with pytest.raises(
            ValueError,
            match=r"matches no part of the file name of 1 of 37 images: .*scan\.png",
        ):
            load_image_folder(folder, groups=r"(person\d+)_")
    finally:
        (folder / "sick" / "scan.png").unlink()
    with pytest.raises(ValueError, match="not a valid regular expression"):
        load_image_folder(folder, groups="(person")
    with pytest.raises(TypeError, match="`groups` must be a regular expression"):
        load_image_folder(folder, groups=3)


ARGV = ["--folds", "3", "--epochs", "1", "--filters", "2", "--no-augment"]
ARGV += ["--json", "--quiet"]


def _spy(monkeypatch):
    """Record the folds `skcnn compare` passes to compare_estimators."""
    seen = {}
    original = skcnn._compare.compare_estimators

    def spy(estimators, X, y, *, cv, **kwargs):
        seen["cv"] = list(cv)
        return original(estimators, X, y, cv=seen["cv"], **kwargs)

    monkeypatch.setattr(skcnn._compare, "compare_estimators", spy)
    return seen


def test_compare_groups_keep_each_patient_in_one_fold(folder, monkeypatch, capsys):
    seen = _spy(monkeypatch)
    argv = ["compare", str(folder), "--groups", r"(person\d+)_", *ARGV]
    assert main(argv) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert "12 groups" in summary["dataset"]
    groups = load_image_folder(folder, groups=r"(person\d+)_").groups
    assert len(seen["cv"]) == 3
    for train, test in seen["cv"]:
        assert not set(groups[train]) & set(groups[test])
    tested = np.sort(np.concatenate([test for _, test in seen["cv"]]))
    assert tested.tolist() == list(range(36))  # every image scored once
    assert summary["duplicates"] == 0


def test_without_groups_patients_are_split(folder, monkeypatch, capsys):
    # The leak --groups prevents: plain stratified folds put images of one
    # patient on both sides.
    seen = _spy(monkeypatch)
    assert main(["compare", str(folder), *ARGV]) == 0
    groups = load_image_folder(folder, groups=r"(person\d+)_").groups
    assert any(set(groups[train]) & set(groups[test]) for train, test in seen["cv"])


def test_duplicates_across_the_split_are_reported(folder, tmp_path, capsys):
    test_dir = tmp_path / "test"
    shutil.copytree(folder, test_dir)
    for path in list((test_dir / "sick").iterdir())[1:]:
        path.unlink()  # keep one sick image, a copy of one of DIR
    for path in list((test_dir / "normal").iterdir())[:-1]:
        path.unlink()
    with Image.open(next((test_dir / "normal").iterdir())) as image:
        changed = np.asarray(image).copy()
    changed[0, 0] ^= 1  # one pixel differs: not a duplicate
    Image.fromarray(changed).save(next((test_dir / "normal").iterdir()))
    argv = ["compare", str(folder), "--test", str(test_dir)]
    argv += ["--epochs", "1", "--filters", "2", "--no-augment", "--json", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["duplicates"] == 1
    assert "Warning: 1 scored image has an exact duplicate" in captured.err


def test_groups_need_a_folder_and_no_test(folder, capsys):
    assert main(["compare", "--groups", "x", "--quiet"]) == 1
    assert "--groups applies to the images of DIR" in capsys.readouterr().err
    argv = ["compare", str(folder), "--test", str(folder), "--groups", "x", "--quiet"]
    assert main(argv) == 1
    assert "--groups and --test exclude each other" in capsys.readouterr().err
