"""The README stays true: its commands exist, and its settings table matches api/config.py."""

from __future__ import annotations

import re

from api.config import ENV_PREFIX, SETTINGS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_front_door_commands_are_documented_and_exist() -> None:
    assert "make run" in README and "make test" in README
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test", "lint"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_with_its_default_and_help() -> None:
    for name, setting in SETTINGS.items():
        row = f"| `{ENV_PREFIX}{name}` | `{setting.default}` | {setting.help} |"
        assert row in README, row


def test_every_reindex_option_is_documented() -> None:
    from api.cli import reindex

    for param in reindex.params:
        for option in param.opts:
            assert option in README, option
