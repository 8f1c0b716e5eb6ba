import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"  # the README's pictures

# CI runs every example set once, with no deadline: 2 shared cores make timings noisy.
settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _seed_torch():
    import torch

    torch.manual_seed(0)


@pytest.fixture
def browser_ready() -> None:
    """Skip a browser test where Chromium or Playwright is missing; in CI, fail instead."""
    from viz_app import testing

    missing = []
    if not Path(testing.CHROMIUM).exists():
        missing.append(f"no Chromium at {testing.CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed")
    if missing:
        reason = "; ".join(missing) + " (install Debian's chromium and `pip install -e .[test]`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("browser test cannot run in CI: " + reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Where browser tests leave screenshots and logs: $RNNSCOPE_ARTIFACTS, else a temp dir."""
    d = Path(os.environ.get("RNNSCOPE_ARTIFACTS") or tmp_path_factory.mktemp("browser-artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def save_screenshot(artifacts: Path):
    """save_screenshot(page, name): to the artifacts and to docs/screenshots/, which the README shows."""

    def save(page, name: str, full_page: bool = False) -> None:
        path = artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / f"{name}.png")

    return save
