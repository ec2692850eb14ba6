"""Where findings are located: the subject of an OCI layout named by its absolute path."""

from __future__ import annotations

from pathlib import Path

import pytest

from slsalint.report.locate import _relative_to_cwd


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/work/repo/layouts/app", "layouts/app"),
        ("/work/repo/layouts//app/", "layouts/app"),
        ("/work/repo", "."),
        ("/work/repository/app", "/work/repository/app"),  # not below the directory: kept
        ("/elsewhere/app", "/elsewhere/app"),
    ],
)
def test_a_layout_path_is_shown_relative_to_the_working_directory(name: str, expected: str) -> None:
    assert _relative_to_cwd(name, "/work/repo") == expected
    # The same as the Path arithmetic it stands for.
    try:
        assert expected == str(Path(name).relative_to(Path("/work/repo")))
    except ValueError:
        assert expected == name
