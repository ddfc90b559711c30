"""Where the course website is built, and its pages (shared by the site tests)."""

from __future__ import annotations

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
# another built copy can be checked with CRMLAB_SITE_HTML=path/to/html
HTML = Path(os.environ.get("CRMLAB_SITE_HTML", DOCS / "_build" / "html"))
SCREENSHOTS = DOCS / "_build" / "screenshots"


def html_pages(site: Path) -> list[Path]:
    """Every page of the site (not the theme's own files under _static)."""
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
