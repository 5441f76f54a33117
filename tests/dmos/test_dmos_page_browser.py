"""The rating page in a real (headless) browser from file://: images load, the CSV downloads.

Skipped when no chromium/chrome is installed. A test script injected into a copy of the page
fills the name and radios, clicks the download button and writes the CSV it produced into the
DOM, which `--dump-dom` returns; that CSV must pass `bench dmos score`'s validation.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from benchmarks.dmos.export import export_study
from benchmarks.dmos.score import score_files

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome", "chrome")
                if shutil.which(b)), None)

INJECT = """<script>
window.addEventListener('load', function () {
  document.getElementById('rater').value = 'Rater, "one"';
  var names = []; document.querySelectorAll('input[type=radio]').forEach(function (e) {
    if (names.indexOf(e.name) < 0) names.push(e.name); });
  names.forEach(function (n, k) {
    document.querySelector('input[name="' + n + '"][value="' + ((k % 5) + 1) + '"]').checked = true; });
  var loaded = 0; document.querySelectorAll('img').forEach(function (i) { if (i.naturalWidth > 0) loaded++; });
  var info = document.createElement('p'); info.id = 'loaded'; info.textContent = 'loaded=' + loaded;
  document.body.appendChild(info);
  var orig = URL.createObjectURL;
  URL.createObjectURL = function (b) { b.text().then(function (t) {
    var pre = document.createElement('pre'); pre.id = 'csvout'; pre.textContent = t;
    document.body.appendChild(pre); }); return orig(b); };
  HTMLAnchorElement.prototype.click = function () {};
  document.getElementById('save').click();
});
</script></body>"""


@pytest.mark.skipif(BROWSER is None, reason="no chromium/chrome to run the page")
def test_rating_page_works_from_a_local_file(tmp_path, study_inputs):
    methods, hr_dir = study_inputs
    res = export_study(methods, hr_dir, tmp_path / "out", n=3, seed=0)
    test_page = res.study_dir / "test_page.html"
    test_page.write_text(res.html_path.read_text().replace("</body>", INJECT))
    try:
        dom = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu",
                              "--virtual-time-budget=5000", "--dump-dom", test_page.as_uri()],
                             capture_output=True, text=True, timeout=90).stdout
    except subprocess.TimeoutExpired:
        pytest.skip("headless browser did not finish")
    if "csvout" not in dom:
        pytest.skip("headless browser produced no DOM (sandbox?)")
    assert f"loaded={res.n_items}" in dom
    csv_text = html.unescape(re.search(r'<pre id="csvout">(.*?)</pre>', dom, re.S).group(1))
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(csv_text)
    assert csv_text.startswith("rater,image_id,score\n")
    result = score_files(res.key_path, ratings)
    assert result.raters == ('Rater, "one"',)
    assert len(result.items) == 3 * len(methods)
