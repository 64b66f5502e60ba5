"""The test invoices are valid under the official Peppol BIS Billing 3.0 and CEN EN16931 rules.

The rules and the Schematron compiler are not shipped (tests run without network), so this runs only
where they are: ``PEPPOL_RULES`` names the ``rules/sch`` folder of OpenPEPPOL/peppol-bis-invoice-3, and
``SCHXSLT`` SchXslt's ``xslt/2.0/pipeline-for-svrl.xsl``; it needs the ``saxonche`` package.
tests/data/peppol/README.md records the versions that passed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring

saxonche = pytest.importorskip("saxonche")
if not (os.environ.get("PEPPOL_RULES") and os.environ.get("SCHXSLT")):
    pytest.skip("PEPPOL_RULES and SCHXSLT are not set", allow_module_level=True)

PEPPOL = Path(__file__).parent / "data" / "peppol"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """Each schematron compiled to XSLT once."""
    with saxonche.PySaxonProcessor(license=False) as processor:
        xslt = processor.new_xslt30_processor()
        pipeline = xslt.compile_stylesheet(stylesheet_file=os.environ["SCHXSLT"])
        compiled = {}
        for name in ("CEN-EN16931-UBL.sch", "PEPPOL-EN16931-UBL.sch"):
            target = tmp_path_factory.mktemp("rules") / f"{name}.xsl"
            pipeline.transform_to_file(source_file=str(Path(os.environ["PEPPOL_RULES"]) / name), output_file=str(target))
            compiled[name] = xslt.compile_stylesheet(stylesheet_file=str(target))
        yield compiled


@pytest.mark.parametrize("invoice", sorted(p.name for p in PEPPOL.glob("*.xml")))
def test_a_test_invoice_breaks_no_rule(rules, invoice):
    for name, stylesheet in rules.items():
        report = fromstring(stylesheet.transform_to_string(source_file=str(PEPPOL / invoice)).encode())
        assert report.findall(f".//{SVRL}fired-rule"), name
        failed = [f"{a.get('id')} ({a.get('flag')})" for a in report.iter() if a.tag in (
            f"{SVRL}failed-assert", f"{SVRL}successful-report")]
        assert failed == [], name
