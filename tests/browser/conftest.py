"""A headless Chromium driven by selenium, for the pages the harness writes.

Skipped (cleanly, with the reason) when selenium, a Chromium/Chrome binary or its chromedriver is
missing; `.ci/run` installs Debian's chromium and chromium-driver, and selenium comes with the
`test` extra; with BENCH_REQUIRE_TOOLS=1 (set by .ci/run) a missing tool fails the tests instead.
Each page is opened from file:// exactly as a person would open it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.reports.conftest import _import_real_reports

_import_real_reports()

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver")


def missing_tool(why: str) -> None:
    """Skip, or fail where the tools are required (CI)."""
    if os.environ.get("BENCH_REQUIRE_TOOLS"):
        pytest.fail(f"BENCH_REQUIRE_TOOLS is set but {why}")
    pytest.skip(why)


def _which(names) -> str | None:
    return next((shutil.which(n) for n in names if shutil.which(n)), None)


@pytest.fixture(scope="session")
def browser_paths() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing_tool("selenium is not installed (pip install -e '.[test]')")
    binary = os.environ.get("BENCH_CHROME") or _which(BROWSERS)
    driver = os.environ.get("BENCH_CHROMEDRIVER") or _which(DRIVERS)
    if binary is None or driver is None:
        missing_tool("no chromium/chrome and chromedriver (apt-get install chromium chromium-driver)")
    return binary, driver


class Page:
    """One browser session with the checks every page gets."""

    def __init__(self, driver, download_dir: Path):
        self.driver = driver
        self.download_dir = download_dir

    def open(self, path: Path) -> None:
        self.driver.get(path.resolve().as_uri())
        self.driver.execute_script("return document.readyState")

    def console_errors(self) -> list[str]:
        return [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def broken_images(self) -> list[str]:
        """Sources of <img> elements that did not load (after waiting for them)."""
        script = ("return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                  ".map(i => i.getAttribute('src'))")
        deadline = time.time() + 10
        broken = self.driver.execute_script(script)
        while broken and time.time() < deadline:
            time.sleep(0.2)
            broken = self.driver.execute_script(script)
        return broken

    def image_count(self) -> int:
        return self.driver.execute_script("return document.images.length")

    def table_rows(self) -> list[int]:
        """Body rows (with cells) of every <table> on the page."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll('table')).map(t => "
            "Array.from(t.querySelectorAll('tbody tr')).filter(r => r.cells.length > 0).length)")

    def text(self) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.TAG_NAME, "body").text

    def alert_open(self) -> bool:
        from selenium.common.exceptions import NoAlertPresentException

        try:
            _ = self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return False
        return True

    def screenshot(self, path: Path) -> Path:
        """The whole page (the window grown to the document's height)."""
        height = self.driver.execute_script("return Math.max(document.body.scrollHeight, "
                                            "document.documentElement.scrollHeight)")
        self.driver.set_window_size(1300, min(int(height) + 40, 16000))
        self.driver.save_screenshot(str(path))
        keep = os.environ.get("BENCH_SCREENSHOT_DIR")
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path


@pytest.fixture
def page(browser_paths, tmp_path):
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = browser_paths
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1300,2000", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except WebDriverException as exc:
        missing_tool(f"headless chromium did not start: {str(exc).splitlines()[0]}")
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield Page(driver, downloads)
    finally:
        driver.quit()
