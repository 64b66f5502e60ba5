"""The suite runs against the package as installed: package data and the console script are there."""

from __future__ import annotations

import os
from importlib import metadata, resources
from pathlib import Path

import processor

ROOT = Path(__file__).resolve().parents[1]


def test_distribution_is_installed():
    assert metadata.version("processor") == processor.__version__


def test_default_templates_are_package_data():
    names = {p.name for p in resources.files("processor.templates").iterdir()}
    assert {"tjansteutlatande.docx", "brev.docx", "epost.txt", "paminnelse.txt", "rapport.html.j2", "status.html.j2",
            "page.css.j2", "redovisning.xlsx", "redovisning.txt", "paminnelse-redovisning.txt", "sammanstallning.docx",
            "aterbetalning.docx"} <= names


def test_ci_uses_the_installed_copy_not_the_source_tree():
    if os.environ.get("CI") != "true":
        return
    assert ROOT / "processor" not in Path(processor.__file__).resolve().parents


def test_console_script_runs_from_another_directory(run_processor, tmp_path):
    done = run_processor("validate", ROOT / "input" / "dalarna_2020.xlsx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "15 711 504 kr" in done.stdout
