"""The shipped Word templates are what tools/build_templates.py makes: a change to one without the other fails here."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest

from conftest import ROOT

TOOL = ROOT / "tools" / "build_templates.py"
SHIPPED = ROOT / "templates"
TEMPLATES = ["tjansteutlatande.docx", "brev.docx"]
CORE_DATES = re.compile(r"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mallar")
    done = subprocess.run([sys.executable, str(TOOL), str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return folder


def parts(path: Path) -> dict[str, str | bytes]:
    """Each part of a .docx: XML canonicalised (the core properties without their dates), anything else as bytes."""
    found: dict[str, str | bytes] = {}
    with zipfile.ZipFile(path) as package:
        for name in package.namelist():
            data = package.read(name)
            if not name.endswith((".xml", ".rels")):
                found[name] = data
                continue
            text = data.decode("utf-8")
            if name == "docProps/core.xml":
                text = CORE_DATES.sub("", text)
            found[name] = ElementTree.canonicalize(text)
    return found


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_shipped_template_is_what_the_tool_builds(generated, name):
    built, shipped = parts(generated / name), parts(SHIPPED / name)
    assert sorted(built) == sorted(shipped)
    differing = [part for part in built if built[part] != shipped[part]]
    assert differing == [], f"templates/{name} differs from the tool's in {differing}: run python tools/build_templates.py"


def test_the_tool_builds_the_same_bytes_twice(generated, tmp_path):
    subprocess.run([sys.executable, str(TOOL), str(tmp_path)], capture_output=True, check=True, timeout=300)
    for name in TEMPLATES:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), name
