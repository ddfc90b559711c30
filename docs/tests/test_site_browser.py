"""The course website as a reader's browser shows it: headless Chromium on a local server.

Every page loads without a console error and with every image decoded; every internal link
answers 200; math is typeset by the site's own MathJax; the search finds a term; Chinese text
is drawn with a CJK font; screenshots of three pages are written to docs/_build/screenshots/.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from urllib.parse import urldefrag

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sitepaths import SCREENSHOTS, html_pages

MATH_PAGE = "notebooks/08_customer_lifetime_value.html"
FIGURE_PAGE = "notebooks/02_segmentation.html"

_WAIT_MATHJAX = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup || !MathJax.startup.promise) { done("no MathJax"); return; }
MathJax.startup.promise.then(() => done("ok"), (e) => done("failed: " + e));
"""
_BROKEN_IMAGES = """
return Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.getAttribute('src'));
"""


def _open(browser, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _severe(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_every_page_loads_cleanly_with_its_images(site, server, browser):
    browser.get_log("browser")  # start from an empty console
    problems: list[str] = []
    pages = html_pages(site)
    for path in pages:
        rel = path.relative_to(site).as_posix()
        _open(browser, server + rel)
        if browser.execute_script("return !!document.querySelector('.math')"):
            status = browser.execute_async_script(_WAIT_MATHJAX)
            if status != "ok":
                problems.append(f"{rel}: MathJax {status}")
        broken = browser.execute_script(_BROKEN_IMAGES)
        problems += [f"{rel}: image did not load: {src}" for src in broken]
        problems += [f"{rel}: console: {message}" for message in _severe(browser)]
    assert len(pages) > 50
    assert not problems, "\n".join(problems[:30])


def test_every_internal_link_answers_200(site, server, browser):
    """Crawl from the entry page through every internal link the browser sees."""
    seen_pages: set[str] = set()
    queue = [server + "index.html"]
    targets: dict[str, str] = {}
    while queue:
        url = queue.pop()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        _open(browser, url)
        resources = browser.execute_script(
            "return Array.from(document.querySelectorAll('link[href], script[src], img[src]'))"
            ".map(e => e.href || e.src)")
        outside = [r for r in resources if re.match(r"(https?:)?//", r) and not r.startswith(server)]
        assert not outside, f"{url} loads {outside}"
        # a hyperlink to another site (a reference, scikit-learn's docs) is fine: it is not followed
        anchors = browser.execute_script("return Array.from(document.querySelectorAll('a[href]')).map(e => e.href)")
        for href in resources + anchors:
            target, _ = urldefrag(href)
            if not target.startswith(server):
                continue
            targets.setdefault(target, url)
            if target.endswith(".html") and target not in seen_pages and "/_static/" not in target:
                queue.append(target)
    failed = []
    for target, found_on in targets.items():
        try:
            with urllib.request.urlopen(target, timeout=10) as response:  # 127.0.0.1 only
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        if status != 200:
            failed.append(f"{found_on} -> {target}: {status}")
    every_page = {server + p.relative_to(site).as_posix() for p in html_pages(site)}
    unreachable = sorted(every_page - seen_pages - {server + "search.html", server + "genindex.html"})
    assert not failed, "\n".join(failed[:30])
    assert len(targets) > 100
    # every notebook, exercise set and API page can be reached from the entry page
    assert not [u for u in unreachable if re.search(r"/(notebooks|exercises|api|datasets)/", u)], unreachable[:20]


def test_math_is_typeset_by_the_local_mathjax(server, browser):
    _open(browser, server + MATH_PAGE)
    assert browser.execute_async_script(_WAIT_MATHJAX) == "ok"
    scripts = browser.execute_script(
        "return Array.from(document.scripts).map(s => s.getAttribute('src')).filter(Boolean)")
    assert any(s.split("?")[0].endswith("_static/mathjax/tex-chtml.js") for s in scripts), scripts
    counts = browser.execute_script("""
        return {math: document.querySelectorAll('.math').length,
                typeset: document.querySelectorAll('.math mjx-container').length,
                errors: document.querySelectorAll('mjx-merror').length,
                display: document.querySelectorAll('mjx-container[display="true"]').length}""")
    assert counts["math"] >= 10
    assert counts["typeset"] == counts["math"], counts
    assert counts["errors"] == 0, counts
    assert counts["display"] >= 1, counts
    # no TeX source left visible on the page
    body = browser.find_element(By.TAG_NAME, "article").text
    assert "\\frac" not in body and "\\(" not in body
    # the MathJax fonts were served by the site itself
    fonts = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name).filter(n => /woff/.test(n))")
    assert fonts and all(f.startswith(server) for f in fonts), fonts


def test_search_box_finds_a_term(server, browser):
    _open(browser, server + "index.html")
    box = next((b for b in browser.find_elements(By.CSS_SELECTOR, "input[name='q']") if b.is_displayed()), None)
    if box is None:  # the theme shows a search button that opens the box
        browser.find_element(By.CSS_SELECTOR, "button.search-button, .search-button-field").click()
        WebDriverWait(browser, 10).until(
            lambda d: any(b.is_displayed() for b in d.find_elements(By.CSS_SELECTOR, "input[name='q']")))
        box = next(b for b in browser.find_elements(By.CSS_SELECTOR, "input[name='q']") if b.is_displayed())
    box.send_keys("RFM")
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: "search.html" in d.current_url)
    WebDriverWait(browser, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")) > 0)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")]
    assert any("02_segmentation" in link for link in links), links
    assert not _severe(browser)


def test_chinese_text_is_drawn_with_a_cjk_font(server, browser):
    """Chromium reports the fonts it used for a heading with Chinese: one must be a CJK face."""
    _open(browser, server + MATH_PAGE)
    document = browser.execute_cdp_cmd("DOM.getDocument", {"depth": -1})
    browser.execute_cdp_cmd("CSS.enable", {})
    node = browser.execute_cdp_cmd("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": "article h1"})
    title = browser.find_element(By.CSS_SELECTOR, "article h1").text
    assert re.search(r"[\u4e00-\u9fff]", title), title
    fonts = browser.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    cjk = [f for f in fonts if re.search(r"CJK|Han|Hei|Song|Ming|Kai|SC|TC|JP|Droid Sans Fallback|WenQuanYi",
                                         f["familyName"])]
    assert cjk, f"no CJK font drew {title!r}: {fonts} (install fonts-noto-cjk)"


@pytest.mark.parametrize(("name", "page", "scroll_to"), [
    ("index", "index.html", None),
    ("figure", FIGURE_PAGE, "img"),
    ("chinese-and-math", MATH_PAGE, "mjx-container[display='true']"),
])
def test_screenshots_for_review(server, browser, name, page, scroll_to):
    _open(browser, server + page)
    if browser.execute_script("return !!window.MathJax"):
        assert browser.execute_async_script(_WAIT_MATHJAX) == "ok"
    if scroll_to:
        element = browser.find_element(By.CSS_SELECTOR, scroll_to)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        assert browser.execute_script("return arguments[0].getBoundingClientRect().height", element) > 10
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    out = SCREENSHOTS / f"{name}.png"
    assert browser.save_screenshot(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 20_000
