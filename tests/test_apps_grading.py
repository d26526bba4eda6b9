"""One function per workflow (colorot.apps.grading): what the commands run, callable from the library."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from PIL import Image

import colorot
from colorot.apps.grading import fit_shared_table
from colorot.apps.looks import load_lut
from colorot.cli import main


def test_grade_file_is_colorot_transfer(tmp_path, astronaut, coffee):
    source, style = tmp_path / "photo.jpg", tmp_path / "style.png"
    Image.fromarray(astronaut).save(source, quality=90)
    Image.fromarray(coffee).save(style)
    said = []
    graded = colorot.grade_file(source, [style], tmp_path / "ours.png", options={"method": "mkl", "reach": 0.5},
                                notes=said.append)
    result = CliRunner().invoke(main, ["transfer", str(source), str(style), "--method", "mkl", "--reach", "0.5",
                                       "-o", str(tmp_path / "cli.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ours.png").read_bytes() == (tmp_path / "cli.png").read_bytes()
    assert graded.path == tmp_path / "ours.png"
    assert any("reach=0.5 is ignored by method 'mkl'" in line for line in graded.fit_notes)
    assert not np.array_equal(np.asarray(Image.open(graded.path)), np.asarray(Image.open(source)))


def test_the_shared_table_is_colorot_fit(tmp_path, astronaut, coffee, chelsea):
    paths = []
    for name, pixels in (("a.png", astronaut), ("b.png", chelsea), ("style.png", coffee)):
        Image.fromarray(pixels).save(tmp_path / name)
        paths.append(tmp_path / name)
    table = fit_shared_table(paths[2], paths[:2], {"seed": 0, "method": "unbalanced"})
    result = CliRunner().invoke(main, ["fit", str(paths[2]), str(paths[0]), str(paths[1]), "--method", "unbalanced",
                                       "-o", str(tmp_path / "shoot.npz")])
    assert result.exit_code == 0, result.output
    assert np.allclose(table.table.numpy(), load_lut(tmp_path / "shoot.npz").table.numpy(), atol=1e-6)
    mixed = fit_shared_table([paths[2], paths[0]], paths[:2], {"seed": 0, "method": "unbalanced"}, weights=[1, 0])
    assert np.array_equal(mixed.table.numpy(), table.table.numpy())  # a zero weight leaves a style out


def test_a_mask_of_another_size_is_named_with_its_photo(tmp_path, astronaut, coffee):
    from colorot import ColorotError

    photo, style, mask = tmp_path / "photo.png", tmp_path / "style.png", tmp_path / "mask.png"
    Image.fromarray(astronaut).save(photo)
    Image.fromarray(coffee).save(style)
    Image.fromarray(np.full((10, 12), 255, np.uint8)).save(mask)
    for masks in ({"source_mask": mask}, {"style_masks": [mask]}):
        try:
            colorot.grade_file(photo, [style], tmp_path / "out.png", options={"method": "mkl"}, **masks)
        except ColorotError as error:
            assert str(error).startswith(f"{mask}: the mask is 12 x 10 pixels but ")
            assert str(photo if "source_mask" in masks else style) in str(error)
        else:
            raise AssertionError("a mask of another size was taken")
    assert not (tmp_path / "out.png").exists()
