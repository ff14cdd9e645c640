"""The README lists every setting: each environment variable Settings reads, by name."""

from __future__ import annotations

from ppb.config import Settings
from tests.conftest import repo_root


def test_every_setting_is_in_the_readme() -> None:
    readme = (repo_root() / "README.md").read_text()
    names = [field.validation_alias.choices[0] for field in Settings.model_fields.values()]
    assert [name for name in names if f"`{name}`" not in readme] == []
    assert readme.index("make run") < readme.index("## Configuration")  # the two commands first
