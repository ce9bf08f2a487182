"""The web app in a real browser: Playwright drives Debian's Chromium against local uvicorn."""

from __future__ import annotations

import csv
import io
import os
import threading
import time

import pytest

from tests.conftest import artifacts_dir
from tests.support import sampledb

CHROMIUM = os.environ.get("TRACKER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"{CHROMIUM} is absent: install it with `apt-get install chromium`"),
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    import uvicorn

    from tracker.web import create_app

    path = sampledb.build(tmp_path_factory.mktemp("browser") / "sample.db", extra=25,
                          incidents=True)
    config = uvicorn.Config(create_app(path), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 15 s")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1200, "height": 900},
                                  java_script_enabled=False)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def test_search_filter_article_company(page, base_url):
    page.goto(base_url + "/")
    page.fill("#q", "distill*")
    page.press("#q", "Enter")
    page.wait_for_url("**/?q=distill*")
    assert page.locator("#results-heading").inner_text().startswith("2 results")
    assert page.locator("li.hit mark").first.inner_text().lower().startswith("distill")
    assert page.locator(".summaries li").count() == 2
    page.screenshot(path=str(artifacts_dir() / "search-page.png"), full_page=True)

    # Filter: only allegations OpenAI made.
    page.fill("#accuser", "OpenAI")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**accuser=OpenAI**")
    assert page.locator("#results-heading").inner_text().startswith("1 result")

    # Open the article, see its evidence highlighted.
    page.click("li.hit h3 a")
    page.wait_for_url("**/article/*")
    assert page.locator("h1").inner_text() == "OpenAI says DeepSeek distilled its models"
    assert "DeepSeek distilled outputs" in page.locator(".body mark").first.inner_text()

    # Follow a company link to the company page and its timeline.
    page.click("a:text-is('DeepSeek')")
    page.wait_for_url("**/company/*")
    assert page.locator("h1").inner_text() == "DeepSeek"
    assert page.locator(".timeline li").count() == 1
    assert "OpenAI" in page.locator(".timeline li").inner_text()


def test_facet_link_and_download_csv(page, base_url):
    page.goto(base_url + "/?q=cloud+OR+distill*")
    page.click(".facets a:text-is('model distillation')")
    page.wait_for_url("**type=model_distillation**")
    assert page.locator("#results-heading").inner_text().startswith("2 results")
    with page.expect_download() as info:
        page.click(".downloads a:text-is('CSV')")
    download = info.value
    assert download.suggested_filename == "search-results.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert {r["title"] for r in rows} == {"Anthropic accuses Alibaba of model distillation",
                                          "OpenAI says DeepSeek distilled its models"}


def test_escaping_phone_width_and_keyboard(browser, base_url):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(base_url + "/?q=quarterly")
        assert page.locator("li.hit h3 a").inner_text() == sampledb.XSS_TITLE
        page.click("li.hit h3 a")
        page.wait_for_url("**/article/*")
        assert page.locator("h1").inner_text() == sampledb.XSS_TITLE
        assert dialogs == []  # the <script> in the title never ran
        page.goto(base_url + "/?q=cloud")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"page is {width}px wide at phone width"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "brand"
    finally:
        context.close()


def test_open_incident_from_article(page, base_url):
    page.goto(base_url + "/?q=northwind&collapse=1")
    assert page.locator("#results-heading").inner_text().startswith("3 results")
    page.click("li.hit h3 a:text-is('Northwind Robotics rejects Contoso scraping claims')")
    page.wait_for_url("**/article/*")
    page.click("a.incident-link")
    page.wait_for_url("**/incident/*")
    assert page.locator("h1").inner_text() == (
        "Contoso accuses Northwind Robotics of scraping customer data")
    assert page.locator(".sources-count").inner_text() == "3"
    assert page.locator(".incident-articles tbody tr").count() == 4
    assert "copy of" in page.locator(".incident-articles tr.copy").inner_text()
    assert page.locator(".incident-timeline li").count() == 3
    assert "Tech Ledger" in page.locator(".contested").inner_text()
    page.screenshot(path=str(artifacts_dir() / "incident-page.png"), full_page=True)
    # Back to the list of incidents from the page's breadcrumb.
    page.click(".crumbs a")
    page.wait_for_url("**/incidents")
    assert page.locator("table.incidents tbody tr").first.inner_text().startswith("Contoso")


def test_bad_query_shows_message(page, base_url):
    response = page.goto(base_url + "/?q=%22unclosed")
    assert response.status == 400
    assert "unbalanced quote" in page.locator(".error").inner_text()
