"""Reading e-invoices (followup.md, ``processor faktura``): Peppol BIS Billing 3.0, read safely."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from processor.einvoice import CREDIT_NOTE, INVOICE, MAX_BYTES, parse_einvoice, read_einvoice_file
from processor.errors import InputError

PEPPOL = Path(__file__).parent / "data" / "peppol"


def test_an_invoice_gives_what_the_ledger_needs():
    invoice = read_einvoice_file(PEPPOL / "vaxholm-faktura.xml")
    assert (invoice.kind, invoice.number, invoice.issue_date, invoice.currency) == (
        INVOICE, "VX-2020-0412", dt.date(2020, 6, 15), "SEK")
    assert (invoice.buyer_reference, invoice.order_reference) == ("781", None)
    assert (invoice.seller_name, invoice.seller_org_number) == ("Vaxholms stad", "212000-0035")
    assert (invoice.amount, invoice.vat, invoice.signed_amount) == (Decimal("413522.00"), Decimal("0.00"), 413522)
    assert invoice.source == "vaxholm-faktura.xml"


def test_a_credit_note_subtracts():
    note = read_einvoice_file(PEPPOL / "vaxholm-kreditnota.xml")
    assert (note.kind, note.number, note.amount, note.signed_amount) == (CREDIT_NOTE, "VX-2020-0431", 13522, -13522)
    assert note.label == "kreditnota VX-2020-0431"


def test_vat_and_the_order_reference_are_read():
    assert read_einvoice_file(PEPPOL / "botkyrka-faktura-moms.xml").vat == Decimal("50000.00")
    late = read_einvoice_file(PEPPOL / "norrtalje-faktura.xml")
    assert (late.buyer_reference, late.order_reference, late.issue_date) == (None, "781", dt.date(2020, 9, 4))


def vaxholm() -> str:
    return (PEPPOL / "vaxholm-faktura.xml").read_text(encoding="utf-8")


def test_the_seller_is_found_by_name_and_scheme_0007_when_the_legal_entity_says_less():
    text = vaxholm().replace("<cbc:RegistrationName>Vaxholms stad</cbc:RegistrationName>", "<cbc:RegistrationName/>")
    text = text.replace('<cbc:CompanyID schemeID="0007">2120000035</cbc:CompanyID>', "")
    invoice = parse_einvoice(text.encode(), "f.xml")
    assert (invoice.seller_name, invoice.seller_org_number) == ("Vaxholms stad", "212000-0035")


def test_a_seller_number_in_another_scheme_is_no_organisation_number():
    text = vaxholm().replace('schemeID="0007">2120000035', 'schemeID="0088">7300010000001')
    assert parse_einvoice(text.encode(), "f.xml").seller_org_number is None


def test_an_invoice_in_another_encoding_is_read():
    text = vaxholm().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert parse_einvoice(text.encode("utf-16"), "f.xml").seller_name == "Vaxholms stad"
    latin = (PEPPOL / "norrtalje-faktura.xml").read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    assert parse_einvoice(latin.encode("latin-1"), "f.xml").seller_name == "Norrtälje kommun"


def test_an_invoice_in_a_business_document_envelope_is_read():
    body = vaxholm().split("?>", 1)[1]
    envelope = ('<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader">'
                f"<StandardBusinessDocumentHeader/>{body}</StandardBusinessDocument>")
    assert parse_einvoice(envelope.encode(), "f.xml").number == "VX-2020-0412"


def refused(data: bytes, name: str = "faktura-17.xml") -> str:
    with pytest.raises(InputError) as caught:
        parse_einvoice(data, name)
    [problem] = caught.value.problems
    assert problem.where == name
    return str(problem)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol3;</Invoice>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&secret;</ID></Invoice>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion laughs", "external entity"])
def test_a_hostile_file_is_refused_unread(data):
    assert refused(data).startswith("faktura-17.xml: filen innehåller en DTD eller egna entiteter")


@pytest.mark.parametrize("data, says", [
    (b"%PDF-1.7\n...", "filen är inte en XML-fil (en PDF)"),
    (b"Fakturanummer;Belopp\n17;1000\n", "filen är inte en XML-fil"),
    (b"", "filen är inte en XML-fil"),
    (b"<Invoice><cbc:ID>17</Invoice>", "XML-filen är trasig och kan inte läsas (rad 1"),
    (b'<?xml version="1.0"?>\n<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>',
     "filen är XML men ingen e-faktura (den börjar med <Order>"),
    (b"<Invoice/>", "filen är XML men ingen e-faktura"),
])
def test_what_is_not_an_invoice_says_so_in_swedish_with_the_fix(data, says):
    message = refused(data)
    assert message.startswith(f"faktura-17.xml: {says}")
    assert "Exportera fakturan" in message


@pytest.mark.parametrize("old, new, says", [
    ("<cbc:ID>VX-2020-0412</cbc:ID>", "", "fakturan saknar fakturanummer (cbc:ID)"),
    ("<cbc:IssueDate>2020-06-15</cbc:IssueDate>", "<cbc:IssueDate>15/6 2020</cbc:IssueDate>",
     'fakturans datum "15/6 2020" är inte ett datum'),
    ('<cbc:TaxExclusiveAmount currencyID="SEK">413522.00', '<cbc:TaxExclusiveAmount currencyID="SEK">413 522,00',
     'fakturans belopp "413 522,00" är inte ett tal'),
    ('<cbc:TaxExclusiveAmount currencyID="SEK">413522.00', '<cbc:TaxExclusiveAmount currencyID="SEK">1E+999999',
     'fakturans belopp "1E+999999" är inte ett tal'),
])
def test_an_invoice_missing_what_the_ledger_needs_is_refused(old, new, says):
    assert refused(vaxholm().replace(old, new, 1).encode()).startswith(f"faktura-17.xml: {says}")


def test_a_file_too_large_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "stor.xml"
    with big.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(InputError, match="stor.xml: filen är 20 MB, för stor för en e-faktura"):
        read_einvoice_file(big)


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path):
    with pytest.raises(InputError, match="saknas.xml: filen kan inte läsas: filen eller mappen finns inte"):
        read_einvoice_file(tmp_path / "saknas.xml")
