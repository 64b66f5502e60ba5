"""``processor init``: example workbooks and the default templates, never over an existing file."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from processor.examples import EXAMPLES, write_example

TEMPLATES_FOLDER = "mallar"


def default_templates() -> list[Path]:
    """The templates shipped with the package."""
    folder = resources.files("processor.templates")
    return sorted(Path(str(p)) for p in folder.iterdir() if p.is_file() and p.suffix in (".docx", ".xlsx", ".txt"))


def init(folder: Path) -> list[tuple[Path, bool]]:
    """Write the examples and a copy of the templates; report each file and whether it was created."""
    folder = Path(folder)
    (folder / TEMPLATES_FOLDER).mkdir(parents=True, exist_ok=True)
    report = []
    for example in EXAMPLES:
        path = folder / f"{example['stem']}.xlsx"
        created = not path.exists()
        if created:
            write_example(example, path, TEMPLATES_FOLDER)
        report.append((path, created))
    for template in default_templates():
        target = folder / TEMPLATES_FOLDER / template.name
        created = not target.exists()
        if created:
            shutil.copyfile(template, target)
        report.append((target, created))
    return report
