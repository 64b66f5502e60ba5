"""The documentation stands on its own in a clone: every link and path it gives leads to a file there.

README.md and every page under docs/ are read as Markdown; links to web addresses are not followed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto: …
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_SEED = re.compile(r"\bseeds? \d{3}\b", re.IGNORECASE)


def page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def prose(page: Path) -> str:
    """The page without fenced code blocks, where brackets and parentheses are not links."""
    return _FENCE.sub("", page.read_text(encoding="utf-8"))


def links(page: Path) -> list[str]:
    """Every Markdown link target of a page (inline, image and reference links), outside code."""
    text = _CODE_SPAN.sub("", prose(page))
    return _INLINE_LINK.findall(text) + _REFERENCE_LINK.findall(text)


def local_links(page: Path) -> list[tuple[str, Path, str]]:
    """(target as written, the file it names, the anchor) for every link that is not a web address."""
    found = []
    for target in links(page):
        if _EXTERNAL.match(target) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        found.append((target, (page.parent / path).resolve(), anchor))
    return found


def anchors(page: Path) -> set[str]:
    """The anchors a Markdown viewer such as GitHub's makes from a page's headings."""
    made: set[str] = set()
    for heading in _HEADING.findall(prose(page)):
        text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in made:
            n += 1
            candidate = f"{slug}-{n}"
        made.add(candidate)
    return made


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_leads_to_a_file_in_the_repository(page):
    broken = [target for target, path, _ in local_links(page)
              if not path.is_relative_to(ROOT) or not path.is_file()]
    assert broken == [], f"{page_id(page)} links to what a clone does not have: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_anchor_into_a_page_names_one_of_its_headings(page):
    targets = [(target, page if target.startswith("#") else path, anchor)
               for target, path, anchor in local_links(page)]
    targets += [(target, page, target[1:]) for target in links(page) if target.startswith("#")]
    missing = [target for target, path, anchor in targets
               if anchor and path.suffix == ".md" and path.is_file() and anchor.lower() not in anchors(path)]
    assert missing == [], f"{page_id(page)} links to headings that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_page_names_a_path_outside_the_clone_or_a_source_only_the_project_has(page):
    text = prose(page)
    outside = [span for _, span in _CODE_SPAN.findall(text)
               if span.startswith("../") and not (page.parent / span).resolve().is_relative_to(ROOT)]
    assert outside == [], f"{page_id(page)} names paths outside the repository: {outside}"
    assert _SEED.findall(text) == [], f"{page_id(page)} cites seeds by number; describe the case in words"


def test_the_contract_is_in_the_repository_and_indexed():
    index = {path for _, path, _ in local_links(ROOT / "docs" / "README.md")}
    for name in ("workbook.md", "outputs.md", "followup.md"):
        assert ROOT / "docs" / "spec" / name in index
    for guide in ("anvandarguide.md", "mallar.md", "epost.md", "bevakad-mapp.md"):
        assert ROOT / "docs" / guide in index
