"""The decision document and the letters: rendered from Word templates, read back with python-docx."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from processor import formats
from processor.documents import leftover_tag, pdf_chunks, prepare_documents
from processor.errors import InputError
from processor.layout import DECISION_FILE, LETTER_DIR, unique_filenames
from processor.pipeline import check
from processor.sandbox import FILTERS, text_environment, word_environment
from processor.template_files import TemplateSet
from conftest import DEFAULT_CASE, docx_text, require_program

ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = ROOT / "input" / "stockholm_2024.xlsx"
DALARNA = ROOT / "input" / "dalarna_2020.xlsx"
NBSP = "\u00a0"


def run_ok(cli, workbook: Path, out: Path, *extra) -> Path:
    status, printed, err = cli("run", workbook, "--out", out, *extra)
    assert status == 0, err
    return Path(printed.strip().splitlines()[-1])


def word_template(path: Path, *paragraphs: str) -> Path:
    """A real .docx whose paragraphs hold the given text and tags."""
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def assert_nothing_written(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir())


@pytest.fixture(scope="module")
def stockholm_run(tmp_path_factory):
    from processor.pipeline import run

    out = tmp_path_factory.mktemp("stockholm")
    return run(STOCKHOLM, out, now=dt.datetime(2024, 5, 21, 9, 30).astimezone())


# --- what every document carries ---------------------------------------------------------------

def test_each_letter_carries_its_recipient_amount_deadline_and_diarienummer(stockholm_run):
    case, allocation = stockholm_run.case, stockholm_run.allocation
    names = unique_filenames([r.name for r in case.recipients])
    letters = sorted((stockholm_run.run_dir / LETTER_DIR).glob("*.docx"))
    assert len(letters) == sum(1 for t in allocation.totals if t > 0) == 15
    for i, recipient in enumerate(case.recipients):
        text = docx_text(stockholm_run.run_dir / LETTER_DIR / f"{names[i]}.docx")
        assert f"{recipient.name} tilldelas {formats.kronor(allocation.totals[i])}" in text
        assert "senast den 30 november 2024" in text
        assert "ÄLD 2024/0412" in text
        assert "{{" not in text and "{%" not in text and "None" not in text
        body, _, appendix = text.partition("Bilaga 1: Fördelning av stimulansmedel")
        assert formats.kronor(allocation.totals[i]) in body


def test_a_letter_breaks_its_amount_down_per_post_and_states_the_key(stockholm_run):
    text = docx_text(stockholm_run.run_dir / LETTER_DIR / "Bromma stadsdelsförvaltning.docx")
    assert f"Grundstöd: 800{NBSP}000{NBSP}kr (samma belopp till var och en av 11 mottagare)" in text
    assert "Utvecklingsmedel: 2" in text and "fördelas efter andel av befolkning; ert underlag: befolkning 79" in text
    assert "märk fakturan med referens GNV-2024" in text
    assert "Fakturaadress: Stockholms stad, Äldreförvaltningen, Box 8024, 104 20 Stockholm" in text
    assert "faktura.aldreforvaltningen@stockholm.example" in text
    assert "ska ni inte lägga på moms" in text
    assert "Patric Rylander" in text


def test_the_decision_document_carries_every_recipient_and_the_total(stockholm_run):
    text = docx_text(stockholm_run.run_dir / DECISION_FILE)
    for recipient in stockholm_run.case.recipients:
        assert recipient.name in text
    assert formats.number(53_690_007) in text
    assert "Äldrenämnden godkänner förvaltningens förslag till fördelning av stimulansmedel 2024 motsvarande " \
           f"53,7{NBSP}mnkr." in text
    for heading in ("Förvaltningens förslag till beslut", "Sammanfattning", "Bakgrund", "Ärendet", "Ärendets beredning",
                    "Förvaltningens synpunkter och förslag", "Jämställdhetsanalys", "Bilagor"):
        assert heading in text.splitlines()
    assert "varav Grundstöd" in text and "Stadsdelsförvaltningar" in text
    assert "Marie Björkman" in text and "Telefon: 08-508 362 65" in text and "Äldrenämnden" in text
    assert "Runt om i Sverige pågår en omställning" in text  # from the Texter sheet


def test_dalarna_decision_document_lists_the_recipients_in_its_body(cli, tmp_path):
    run_dir = run_ok(cli, DALARNA, tmp_path)
    text = docx_text(run_dir / DECISION_FILE)
    assert "Avesta\n23 178\n1 264 598".replace(" ", NBSP) in text
    assert formats.number(15_711_504) in text and "Bilagor" not in text
    assert "Fördelningen motsvarar 54,56" in text
    letter = docx_text(run_dir / LETTER_DIR / "Älvdalen.docx")
    assert "Medlen fördelas efter andel av befolkning; ert underlag är befolkning 7" in letter


def test_real_word_documents(stockholm_run):
    for path in (stockholm_run.run_dir / DECISION_FILE, stockholm_run.run_dir / LETTER_DIR / "Farsta stadsdelsförvaltning.docx"):
        document = Document(str(path))
        section = document.sections[0]
        assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
        styles = {p.style.name for p in document.paragraphs}
        assert {"Title", "Heading 1"} <= styles
        header = section.header._element.xml
        assert 'w:instr=" PAGE "' in header and 'w:instr=" NUMPAGES "' in header
        text_width_twips = (section.page_width - section.left_margin - section.right_margin) // 635
        tables = [t for t in document.tables if len(t.rows) > 1]  # the one-row sender block has no header
        assert tables
        for table in tables:
            assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
            width = sum(int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol")))
            assert width <= text_width_twips + 60
        lang = document.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
        assert lang.get(qn("w:val")) == "sv-SE"


def test_letters_only_for_recipients_who_get_money(cli, workbook, tmp_path):
    path = workbook(recipients=[("Mottagare", "Befolkning", "Deltar"), ("Avesta", 100, "Ja"), ("Borlänge", 300, "Nej"),
                                ("Falun", 0, "Ja"), ("Gagnef", 600, "Ja")])
    run_dir = run_ok(cli, path, tmp_path / "ut")
    assert sorted(p.name for p in (run_dir / LETTER_DIR).iterdir()) == ["Avesta.docx", "Gagnef.docx"]
    decision = docx_text(run_dir / DECISION_FILE)
    assert "Borlänge" in decision and "avstår" in decision


def test_names_with_ampersand_and_angle_brackets_are_escaped(cli, workbook, tmp_path):
    path = workbook(recipients=[("Mottagare", "Befolkning"), ("Vård & Omsorg <Syd> AB", 1), ('Hem "Solgläntan"', 3)])
    run_dir = run_ok(cli, path, tmp_path / "ut")
    letter = run_dir / LETTER_DIR / "Vård & Omsorg _Syd_ AB.docx"
    text = docx_text(letter)
    assert f"Vård & Omsorg <Syd> AB tilldelas 250{NBSP}kr" in text
    assert 'Hem "Solgläntan"' in docx_text(run_dir / DECISION_FILE)


def test_optional_fields_leave_no_broken_sentences(cli, workbook, tmp_path):
    path = workbook(case=[("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 1000), ("Nyckel", "Befolkning")])
    run_dir = run_ok(cli, path, tmp_path / "ut")
    letter = docx_text(run_dir / LETTER_DIR / "Avesta.docx")
    assert "Om ni vill ta del av medlen skickar ni en faktura." in letter
    assert "Fakturaadress" not in letter and "referens" not in letter and "diarienummer" not in letter
    assert "Har ni frågor är ni välkomna att kontakta oss." in letter
    assert "Ange ”Stimulansmedel 2024”, samt:" in letter
    decision = docx_text(run_dir / DECISION_FILE)
    assert "Nämnden godkänner förvaltningens förslag till fördelning av stimulansmedel motsvarande 1" in decision
    assert "Ärendet har beretts inom förvaltningen." in decision
    for text in (letter, decision):
        assert "None" not in text and " ." not in text and " ," not in text and "{{" not in text


def test_weighted_keys_are_described_in_words(cli, workbook, tmp_path):
    path = workbook(recipients=[("Mottagare", "Befolkning", "Patienter"), ("A", 1, 2), ("B", 3, 1)],
                    case=[*DEFAULT_CASE[:2], ("Nyckel", "Befolkning 50 %, Patienter 50 %")])
    run_dir = run_ok(cli, path, tmp_path / "ut")
    letter = docx_text(run_dir / LETTER_DIR / "A.docx")
    assert ("Medlen fördelas 50 procent efter andel av befolkning och 50 procent efter andel av patienter; "
            "ert underlag är befolkning 1 av 4, patienter 2 av 3.") in letter


def test_beyond_100_recipients_the_letter_refers_to_the_appendix(workbook):
    rows = [("Mottagare", "Befolkning")] + [(f"Kommun {i}", 10 + i) for i in range(101)]
    path = workbook(recipients=rows, case=[("Rubrik", "Stimulansmedel 2024"), ("Medel att fördela", 1_010_000),
                                           ("Nyckel", "Befolkning")])
    case, allocation = check(path)
    batch = prepare_documents(case, allocation, path)
    letter = batch.letter(5)
    (path.parent / "brev.docx").write_bytes(letter)
    text = docx_text(path.parent / "brev.docx")
    assert "Fördelningen mellan alla 101 mottagare framgår av bilaga 1, som skickas med som en separat fil." in text
    assert "Kommun 7" not in text and "Totalt" not in text


# --- custom templates ----------------------------------------------------------------------------

def test_the_mallar_field_replaces_the_letter_template(cli, workbook, tmp_path):
    word_template(tmp_path / "mina mallar" / "brev.docx",
                  "Särskilt brev till {{ mottagare.namn }} om {{ mottagare.belopp|kronor }}.",
                  "{%p for p in mottagare.poster %}", "{{ p.namn }}: {{ p.belopp|tal }}", "{%p endfor %}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mina mallar")])
    run_dir = run_ok(cli, path, tmp_path / "ut")
    assert docx_text(run_dir / LETTER_DIR / "Falun.docx") == f"Särskilt brev till Falun om 600{NBSP}kr.\nMedel: 600"
    assert "Förvaltningens förslag till beslut" in docx_text(run_dir / DECISION_FILE)


def test_a_templates_folder_in_the_working_directory_replaces_the_decision_document(cli, workbook, tmp_path, monkeypatch):
    word_template(tmp_path / "templates" / "tjansteutlatande.docx",
                  "Beslut om {{ arende.rubrik }}, {{ falt['Diarienummer'] }}",
                  "{%p for m in alla_mottagare %}", "{{ m.namn }} {{ m.belopp|kronor }}", "{%p endfor %}",
                  "Summa {{ summa|kronor }}, {{ arende.datum|datum }}")
    monkeypatch.chdir(tmp_path)
    run_dir = run_ok(cli, workbook(), tmp_path / "ut")
    assert docx_text(run_dir / DECISION_FILE).splitlines() == [
        "Beslut om Stimulansmedel God och nära vård 2024, ÄLD 2024/1", f"Avesta 100{NBSP}kr", f"Borlänge 300{NBSP}kr",
        f"Falun 600{NBSP}kr", f"Summa 1{NBSP}000{NBSP}kr, 21 maj 2024"]
    assert "Avesta tilldelas" in docx_text(run_dir / LETTER_DIR / "Avesta.docx")


def test_the_mallar_folder_wins_over_the_working_directory(workbook, tmp_path, monkeypatch):
    word_template(tmp_path / "templates" / "brev.docx", "Från arbetsmappen {{ mottagare.namn }}")
    word_template(tmp_path / "bok" / "mallar" / "brev.docx", "Från Mallar {{ mottagare.namn }}")
    path = workbook(name="bok/arbetsbok.xlsx", case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    monkeypatch.chdir(tmp_path)
    case, allocation = check(path)
    batch = prepare_documents(case, allocation, path)
    (tmp_path / "ett.docx").write_bytes(batch.letter(0))
    assert docx_text(tmp_path / "ett.docx") == "Från Mallar Avesta"


BAD_TEMPLATES = {
    "syntax error": (["Till {{ mottagare.namn }"], "vid texten \"Till {{ mottagare.namn }\""),
    "unclosed block": (["{% if mottagare.belopp %}Hej"], "{% if %} saknar sitt {% endif %}"),
    "unknown variable": (["Till {{ mottagaren.namn }}"], 'variabeln "mottagaren" finns inte (i taggen {{ mottagaren.namn }})'),
    "unknown attribute": (["Belopp {{ mottagare.bellopp|kronor }}"], '"bellopp" finns inte (i taggen {{ mottagare.bellopp|kronor }}). Menade du "belopp"?'),
    "unknown filter": (["Belopp {{ mottagare.belopp|pengar }}"], 'filtret "pengar" finns inte (i taggen {{ mottagare.belopp|pengar }})'),
    "python internals": (["{{ ''.__class__.__mro__ }}"], "taggen {{ ''.__class__.__mro__ }} försöker nå Pythons inre delar"),
    "empty field printed": (["Fakturera {{ arende.fakturaadress }}"], 'fältet "Fakturaadress" på bladet Ärende är tomt'),
    "huge power": (["{{ 10 ** 100000 }}"], "en tagg ger ett för stort resultat (exponenten är för stor)"),
}


@pytest.mark.parametrize("case_name", sorted(BAD_TEMPLATES))
def test_a_bad_template_stops_the_run_before_anything_is_written(cli, workbook, tmp_path, case_name):
    paragraphs, expected = BAD_TEMPLATES[case_name]
    word_template(tmp_path / "mallar" / "brev.docx", *paragraphs)
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert "mallar/brev.docx: " in err and expected in err, err
    assert "Traceback" not in err
    assert_nothing_written(tmp_path / "ut")


def test_braces_typed_in_the_workbook_are_data_not_template_code(cli, workbook, tmp_path):
    title = "Plan {{ 2025 }} och {% if x %}"
    case = [("Rubrik", title), *DEFAULT_CASE[1:], ("Kontaktperson", "Anna {{ mottagare.belopp }}")]
    word_template(tmp_path / "mallar" / "brev.docx", "{{ arende.rubrik }}: {{ arende.kontaktperson }}")
    path = workbook(case=[*case, ("Mallar", "mallar")])
    status, out, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 0, err
    run_dir = Path(out.splitlines()[-1])
    assert title in docx_text(run_dir / DECISION_FILE)
    assert docx_text(run_dir / LETTER_DIR / "Avesta.docx") == f"{title}: Anna {{{{ mottagare.belopp }}}}"


def test_a_tag_that_word_split_beyond_repair_is_found_in_the_template_text():
    env = word_environment()
    split = '<w:p><w:r><w:t>Till {</w:t></w:r><w:proofErr/><w:r><w:t>{ mottagare.namn }}</w:t></w:r></w:p>'
    assert leftover_tag(env, [split]) == "Till {{ mottagare.namn }}"
    assert leftover_tag(env, ["<w:p><w:r><w:t>Till {{ mottagare.namn }}</w:t></w:r></w:p>"]) is None
    assert leftover_tag(env, ["<w:t>{</w:t>{{ mottagare.namn }}<w:t>{</w:t>"]) is None


def test_a_template_fault_is_headed_by_the_template_not_the_workbook(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "Till {{ mottagaren.namn }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert err.splitlines()[0] == "Mallen mallar/brev.docx kan inte användas: 1 fel att rätta."
    assert "Arbetsboken" not in err


def test_faults_in_two_templates_name_both_in_the_heading(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "{{ mottagare.namn }")
    word_template(tmp_path / "mallar" / "tjansteutlatande.docx", "{{ rubrik }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert err.splitlines()[0] == ("Mallarna mallar/tjansteutlatande.docx och mallar/brev.docx kan inte användas: "
                                   "2 fel att rätta.")


def test_an_empty_field_of_its_own_is_named_with_both_ways_to_mend_it(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "Kontakt: {{ arende.kontaktperson }}")
    path = workbook(case=[*DEFAULT_CASE, ("Kontaktperson", None), ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert ('mallar/brev.docx: fältet "Kontaktperson" på bladet Ärende är tomt i arbetsboken men skrivs ut av taggen '
            "{{ arende.kontaktperson }}. Fyll i värdet i arbetsboken, eller skriv taggen inom "
            "{% if arende.kontaktperson %} … {% endif %}") in err, err
    assert_nothing_written(tmp_path / "ut")


def test_an_empty_field_of_its_own_can_be_left_out_with_if(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "Hej{% if arende.kontaktperson %} {{ arende.kontaktperson }}{% endif %}")
    path = workbook(case=[*DEFAULT_CASE, ("Kontaktperson", None), ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 0, err


def test_an_empty_standard_field_quotes_the_tag_that_prints_it_not_the_if_before_it(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "{% if arende.fakturareferens %}Referens finns.{% endif %}",
                  "Er referens: {{ arende.fakturareferens }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert ('fältet "Fakturareferens" på bladet Ärende är tomt i arbetsboken men skrivs ut av taggen '
            "{{ arende.fakturareferens }}. Fyll i värdet i arbetsboken, eller skriv taggen inom "
            "{% if arende.fakturareferens %} … {% endif %}") in err, err


def test_a_field_the_workbook_lacks_says_the_field_can_be_added(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "Kontakt: {{ arende.kontaktperson }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert ('"kontaktperson" finns inte (i taggen {{ arende.kontaktperson }}). Rätta taggen eller lägg till fältet '
            "på bladet Ärende") in err, err


def test_a_template_that_is_not_a_docx_is_refused(cli, workbook, tmp_path):
    (tmp_path / "mallar").mkdir()
    (tmp_path / "mallar" / "tjansteutlatande.docx").write_text("{{ arende.rubrik }}", encoding="utf-8")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert "mallar/tjansteutlatande.docx: filen är inte ett Word-dokument (.docx)" in err
    assert_nothing_written(tmp_path / "ut")


def test_every_template_is_reported_at_once(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "{{ mottagare.namn }")
    word_template(tmp_path / "mallar" / "tjansteutlatande.docx", "{{ rubrik }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2
    assert "mallar/brev.docx" in err and 'mallar/tjansteutlatande.docx: variabeln "rubrik" finns inte' in err


def test_a_problem_only_a_later_letter_meets_still_writes_nothing(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx",
                  "Till {{ mottagare.namn }}{% if mottagare.nummer == 3 %} {{ mottagare.kolumner['Kontakt'] }}{% endif %}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2 and "mallar/brev.docx" in err and "Kontakt" in err
    assert_nothing_written(tmp_path / "ut")


def test_a_decision_template_cannot_use_the_letter_recipient(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "tjansteutlatande.docx", "{{ mottagare.namn }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2 and 'variabeln "mottagare" finns bara i brev och e-post' in err


# --- formats, text templates ---------------------------------------------------------------------

def test_swedish_filters():
    assert FILTERS["kronor"](1_264_598) == f"1{NBSP}264{NBSP}598{NBSP}kr"
    assert FILTERS["mnkr"](53_690_007) == f"53,7{NBSP}mnkr"
    assert FILTERS["tkr"](800_000) == f"800{NBSP}tkr"
    assert FILTERS["procent"](Decimal("33.3")) == f"33,3{NBSP}%"
    assert FILTERS["tal"](287_966) == f"287{NBSP}966"
    assert FILTERS["datum"](dt.date(2020, 8, 30)) == "30 augusti 2020"
    assert FILTERS["datum"]("2020-08-30") == "30 augusti 2020"
    assert FILTERS["versal"]("äldredirektör") == "Äldredirektör"


def test_a_filter_given_the_wrong_kind_of_value_names_the_tag(cli, workbook, tmp_path):
    word_template(tmp_path / "mallar" / "brev.docx", "{{ mottagare.namn|kronor }}")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    status, _, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 2 and 'filtret "kronor" kan inte formatera \'Avesta\': det behöver ett belopp' in err


def test_text_templates_render_with_the_letter_context(workbook, tmp_path):
    (tmp_path / "mallar").mkdir()
    (tmp_path / "mallar" / "epost.txt").write_text(
        "Hej {{ mottagare.namn }}!\n{{ arende.rubrik }}: {{ mottagare.belopp|kronor }} senast {{ arende.sista_dag|datum }}.\n"
        "{% if arende.fakturareferens %}Ref {{ arende.fakturareferens }}{% endif %}", encoding="utf-8")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    case, allocation = check(path)
    batch = prepare_documents(case, allocation, path)
    body = batch.templates.render_text("epost.txt", batch.contexts.letter(1))
    assert body == f"Hej Borlänge!\nStimulansmedel God och nära vård 2024: 300{NBSP}kr senast 30 november 2024.\n"


def test_a_broken_text_template_is_an_input_error_naming_it(workbook, tmp_path):
    (tmp_path / "mallar").mkdir()
    (tmp_path / "mallar" / "epost.txt").write_text("Hej {{ mottagare.namn", encoding="utf-8")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    case, _ = check(path)
    with pytest.raises(InputError) as error:
        TemplateSet.for_case(case, path).text_template("epost.txt")
    assert str(error.value).startswith("mallar/epost.txt: ")


def test_text_templates_are_checked_with_the_word_templates(workbook, tmp_path):
    (tmp_path / "mallar").mkdir()
    (tmp_path / "mallar" / "epost.txt").write_text("Hej {{ mottagare.nman }}", encoding="utf-8")
    word_template(tmp_path / "mallar" / "brev.docx", "{{ mottagare.namn }")
    path = workbook(case=[*DEFAULT_CASE, ("Mallar", "mallar")])
    case, allocation = check(path)
    with pytest.raises(InputError) as error:
        prepare_documents(case, allocation, path, text_templates=("epost.txt",))
    assert [p.where for p in error.value.problems] == ["mallar/brev.docx", "mallar/epost.txt"]
    assert 'Menade du "namn"?' in str(error.value)


def test_the_text_sandbox_does_not_escape_but_stays_sandboxed():
    env = text_environment()
    assert env.from_string("{{ namn }}").render(namn="Vård & Omsorg <Syd> AB") == "Vård & Omsorg <Syd> AB"
    with pytest.raises(Exception, match="unsafe"):
        env.from_string("{{ ''.__class__.__mro__ }}").render()


# --- PDF -----------------------------------------------------------------------------------------

def test_pdf_beside_every_document(cli, workbook, tmp_path):
    require_program("soffice", "libreoffice", install="apt-get install libreoffice-writer-nogui")
    run_dir = run_ok(cli, workbook(), tmp_path / "ut", "--pdf")
    documents = [run_dir / DECISION_FILE, *sorted((run_dir / LETTER_DIR).glob("*.docx"))]
    assert len(documents) == 4
    for document in documents:
        pdf = document.with_suffix(".pdf")
        assert pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF-")
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "brev/Falun.pdf" in json.dumps(manifest, ensure_ascii=False)
    assert all(f["sha256"] == hashlib.sha256((run_dir / f["path"]).read_bytes()).hexdigest()
               for f in manifest["files"] if not f.get("edited"))
    messages = sorted((run_dir / "utskick").glob("*.eml"))
    assert messages
    for path in messages:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        letter = run_dir / LETTER_DIR / f"{path.stem}.pdf"
        assert attached[letter.name] == letter.read_bytes() and f"{path.stem}.docx" not in attached


def test_without_libreoffice_pdf_stops_before_anything_is_written(cli, workbook, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "inget"))
    status, _, err = cli("run", workbook(), "--out", tmp_path / "ut", "--pdf")
    assert status == 2
    assert "LibreOffice finns inte på den här datorn" in err and "kör utan --pdf" in err
    assert_nothing_written(tmp_path / "ut")


def test_pdf_chunks_are_balanced_and_small():
    documents = [Path(f"brev/Kommun {i}.docx") for i in range(450)] + [Path("tjansteutlatande.docx")]
    chunks = pdf_chunks(documents, workers=2, chunk=200)
    assert [len(c) for c in chunks] == [113, 113, 113, 112]
    assert sorted(map(str, (d for c in chunks for d in c))) == sorted(map(str, documents))


def test_two_documents_of_one_name_never_share_a_libreoffice_call():
    documents = [Path("brev/tjansteutlatande.docx"), Path("tjansteutlatande.docx"), Path("brev/Avesta.docx")]
    chunks = pdf_chunks(documents, workers=1, chunk=200)
    assert sorted(sorted(map(str, c)) for c in chunks) == [["brev/Avesta.docx", "brev/tjansteutlatande.docx"],
                                                           ["tjansteutlatande.docx"]]


@pytest.mark.parametrize("agreement, words", [
    ("God och nära vård 2024", "överenskommelsen God och nära vård 2024"),
    ("Överenskommelse om insatser inom psykisk hälsa och suicidprevention 2024",
     "överenskommelsen om insatser inom psykisk hälsa och suicidprevention 2024"),
])
def test_the_agreement_reads_well_as_a_short_name_and_as_a_full_title(cli, workbook, tmp_path, agreement, words):
    path = workbook(case=[*DEFAULT_CASE, ("Överenskommelse", agreement)])
    run_dir = run_ok(cli, path, tmp_path / "ut")
    letter = docx_text(run_dir / LETTER_DIR / "Avesta.docx")
    decision = docx_text(run_dir / DECISION_FILE)
    assert f"{words[0].upper()}{words[1:]} ligger till grund för stimulansmedlen." in letter
    assert f"i enlighet med {words}." in letter
    assert f"Stimulansmedlen ges inom {words}." in decision
    for text in (letter, decision):
        assert "överenskommelsen överenskommelse" not in text.casefold()
