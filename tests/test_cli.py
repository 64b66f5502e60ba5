"""The ``processor`` program with bad input, as a user runs it: a real process, exit status 2,
the Swedish message on stderr, no traceback, nothing written; and text from the workbook
that reaches the outputs exactly as it was typed.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from conftest import DEFAULT_RECIPIENTS, docx_text, sha256

ROOT = Path(__file__).resolve().parents[1]


def refused_by_the_program(run_processor, path: Path, out: Path):
    """Run the installed program on ``path``; it must refuse with status 2 and leave no trace."""
    before = sha256(path)
    done = run_processor("run", path, "--out", out)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert done.stderr.startswith("Arbetsboken kan inte användas")
    assert not out.exists() or not any(out.iterdir())
    assert sha256(path) == before
    return done


def test_missing_file(run_processor, tmp_path):
    done = refused_by_the_program(run_processor, tmp_path / "saknas.xlsx", tmp_path / "ut")
    assert "saknas.xlsx: filen finns inte" in done.stderr


def test_opendocument_file(run_processor, tmp_path):
    path = tmp_path / "kalkyl.xlsx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", "<office:document-content/>")
    done = refused_by_the_program(run_processor, path, tmp_path / "ut")
    assert "kalkyl.xlsx: är ett OpenDocument-kalkylblad" in done.stderr and "(.xlsx)" in done.stderr


def test_encrypted_file(run_processor, tmp_path):
    path = tmp_path / "skyddad.xlsx"
    path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + bytes(600) + "EncryptedPackage".encode("utf-16-le"))
    done = refused_by_the_program(run_processor, path, tmp_path / "ut")
    assert "lösenordsskyddad" in done.stderr


def test_formula_without_value(run_processor, workbook, tmp_path):
    rows = [list(r) for r in DEFAULT_RECIPIENTS]
    rows[2][3] = "=D2*3"
    done = refused_by_the_program(run_processor, workbook(recipients=rows), tmp_path / "ut")
    assert "Mottagare!D3: cellen har en formel utan beräknat värde" in done.stderr
    assert "spara den igen" in done.stderr


def test_many_problems_in_one_process(run_processor, workbook, tmp_path):
    path = workbook(case=[("Rubrik", "X"), ("Medel att fördela", -5), ("Nyckel", "Befolkninng")],
                    recipients=[("Mottagare", "E-post", "Befolkning"), ("Avesta", "fel", 1), ("avesta", None, 2)])
    done = refused_by_the_program(run_processor, path, tmp_path / "ut")
    assert "Arbetsboken kan inte användas: 4 fel att rätta." in done.stderr
    for where in ("Ärende!B2:", "Ärende!B3:", "Mottagare!B2:", "Mottagare!A3:"):
        assert f"\n  {where}" in done.stderr


def test_validate_reports_on_stderr_and_writes_nothing(cli, workbook, tmp_path):
    path = workbook(case=[("Rubrik", "X")])
    before = sorted(p.name for p in tmp_path.iterdir())
    status, out, err = cli("validate", path)
    assert status == 2 and out == ""
    assert 'Ärende: fältet "Medel att fördela" saknas.' in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


TRICKY = {
    "title": '=Stimulansmedel <2024> & "Nära vård" 🌲 åäö',
    "names": ["=Avesta & Co", '<Borlänge> "kommun" 😀', "Älvdalens 'ÅÄÖ' & @"],
    "group": '<Kommun> & "län"',
    "post": '=Bas & <"grund"> 🎉',
    "area": "Område & <1> ✓",
}


def tricky_workbook(path: Path) -> Path:
    """Text cells that look like formulas, markup or quoting, stored as text the way Excel stores '=… typed with an apostrophe."""
    from conftest import build_workbook

    build_workbook(
        path,
        case=[("Rubrik", TRICKY["title"]), ("Medel att fördela", 1000), ("Ämne", "Medel & <mer>")],
        recipients=[("Mottagare", "Grupp", "Befolkning"), *((n, TRICKY["group"], b) for n, b in zip(TRICKY["names"], (1, 2, 2)))],
        posts=[("Område", "Post", "Belopp", "Metod", "Nyckel", "Mottagare"),
               (TRICKY["area"], TRICKY["post"], 1000, "nyckel", "Befolkning", TRICKY["group"])],
    )
    book = load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    book.save(path)
    return path


def test_text_from_the_workbook_reaches_the_outputs_unchanged(cli, tmp_path):
    path = tricky_workbook(tmp_path / "knepig.xlsx")
    status, out, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 0, err
    run_dir = Path(out.strip().splitlines()[-1])
    result = json.loads((run_dir / "fordelning.json").read_text(encoding="utf-8"))
    assert result["title"] == TRICKY["title"]
    assert [r["name"] for r in result["recipients"]] == TRICKY["names"]
    assert {r["group"] for r in result["recipients"]} == {TRICKY["group"]}
    assert [(p["name"], p["area"]) for p in result["posts"]] == [(TRICKY["post"], TRICKY["area"])]
    assert [r["total"] for r in result["recipients"]] == [200, 400, 400]
    appendix = load_workbook(run_dir / "fordelning.xlsx")
    texts = {c.value: c.data_type for ws in appendix.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)}
    for name in TRICKY["names"]:
        assert texts.get(name) == "s", name


def test_text_from_the_workbook_reaches_the_documents_unchanged(cli, tmp_path):
    status, out, err = cli("run", tricky_workbook(tmp_path / "knepig.xlsx"), "--out", tmp_path / "ut")
    assert status == 0, err
    run_dir = Path(out.strip().splitlines()[-1])
    documents = sorted(run_dir.rglob("*.docx"))
    assert documents
    everything = "\n".join(docx_text(p) for p in documents)
    for text in (TRICKY["title"], TRICKY["post"], *TRICKY["names"]):
        assert text in everything, text
    for report in run_dir.glob("*.html"):
        assert '<Borlänge> "kommun"' not in report.read_text(encoding="utf-8")
