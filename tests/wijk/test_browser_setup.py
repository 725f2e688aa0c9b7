"""Without a browser the /wijk/ browser tests fail and say how to install one; they never skip."""

from __future__ import annotations

import pytest

from tests.wijk.support import chromium_path


def test_a_missing_browser_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIJKWERK_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        chromium_path()
