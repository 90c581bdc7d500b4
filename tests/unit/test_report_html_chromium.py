"""report.html opens in a real browser: headless Chromium renders it, every plot image
decodes (naturalWidth > 0, recorded by the page's load handler), and a screenshot of
the page is not blank."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from edgeq.profile.report import attach_baseline, combine, write_reports
from edgeq.contracts import LatencyStats

from test_report import make_report

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium installed "
                                "(apt-get install chromium)")


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    rep = combine([make_report("A1", seed=1), make_report("B2", seed=2)])
    attach_baseline(rep, {"latency": LatencyStats.from_samples([30.0, 33.0, 36.0]), "size_bytes": 13_600_000})
    return write_reports(rep, out, formats=("html",))["html"]


def test_chromium_renders_and_decodes_every_plot(report_html, tmp_path):
    res = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", report_html.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    n_plots = report_html.read_text().count('<img class="plot"')
    assert n_plots == 6
    assert f'data-plots-decoded="{n_plots}/{n_plots}"' in dom
    widths = [int(w) for w in re.findall(r'data-decoded="(\d+)"', dom)]
    assert len(widths) == n_plots and min(widths) > 200
    assert "<h2 id=\"summary\">Summary</h2>" in dom and "B2 (SM-S918B)" in dom


def test_chromium_screenshot_is_not_blank(report_html, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    res = _chromium(tmp_path, "--window-size=1200,2400", f"--screenshot={shot}", report_html.as_uri())
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    im = Image.open(shot).convert("RGB")
    assert im.size == (1200, 2400)
    colours = im.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 100  # text, tables and plots, not an empty page
