"""Every rule of the workbook format (shared/spec/workbook.md), through ``processor run``.

A broken workbook ends with exit status 2 and every problem on stderr as
``Sheet!Cell: what is wrong. How to mend it.``; no run folder appears and the workbook
is left as it was. A workbook that only deserves warnings passes ``processor validate``
and the warnings name their cells.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import DEFAULT_CASE
from processor.allocate import allocate
from processor.errors import InputError
from processor.validate import build_case
from processor.workbook import UNCALCULATED, ExcelError, Sheet

ROOT = Path(__file__).resolve().parents[1]
HEAD = ("Mottagare", "E-post", "Grupp", "Befolkning")
POST_HEAD = ("Post", "Belopp", "Metod", "Nyckel", "Mottagare")
KOMMUNER = [HEAD, ("Avesta", "registrator@avesta.example", "Kommun", 100),
            ("Borlänge", "registrator@borlange.example", "Kommun", 300),
            ("Falun", "registrator@falun.example", "Kommun", 600)]


def case(changes: dict | None = None, extra=(), drop=()) -> list[tuple]:
    """The default ``Ärende`` rows (Rubrik on row 1 … E-post on row 8) with fields changed, dropped or added from row 9."""
    changes = changes or {}
    return [(f, changes.get(f, v)) for f, v in DEFAULT_CASE if f not in drop] + list(extra)


def with_column(rows, name: str, values) -> list[tuple]:
    """``rows`` (header first) with one more column."""
    return [tuple(rows[0]) + (name,)] + [tuple(r) + (v,) for r, v in zip(rows[1:], values)]


def posts(*rows) -> list[tuple]:
    return [POST_HEAD, *rows]






@pytest.fixture
def accepted(cli):
    """``accepted(path)`` → stdout of ``validate`` on a workbook that must pass (warnings included)."""

    def check(path: Path) -> str:
        status, out, err = cli("validate", path)
        assert status == 0, err
        assert err == ""
        return out

    return check


def amounts(out: str) -> dict[str, int]:
    """Recipient → total from ``validate``'s table."""
    rows = re.findall(r"^  (\S.*?)\s{2,}([\d ]+) kr(?:  \(avstår\))?$", out, flags=re.M)
    return {name: int(total.replace(" ", "")) for name, total in rows}


# --- one broken rule at a time -----------------------------------------------------------------------

SOCIAL = [HEAD, ("Socialförvaltningen", "sof@stad.example", "Fackförvaltning", None),
          ("Avesta", None, "Kommun", 100), ("Borlänge", None, "Kommun", 300)]
STADSDEL = [HEAD, ("Stadsdel", None, "Central", 1), ("Bromma", None, "Stadsdel", 2), ("Farsta", None, "Stadsdel", 3)]
DECLINING = with_column(KOMMUNER, "Deltar", ["Nej", "Nej", "Nej"])
TWO_KEYS = with_column(KOMMUNER, "Patienter", [10, 20, 30])

ERRORS = [
    # Ärende: the sheet and its fields
    pytest.param(dict(case=None), ['Ärende: bladet "Ärende" saknas. Lägg till ett blad med namnet "Ärende"'], id="case-sheet-missing"),
    pytest.param(dict(case=None, extra_sheets={"Arende": DEFAULT_CASE}),
                 ['Ärende: bladet "Ärende" saknas. Menade du "Arende"? Byt i så fall namn på bladet till "Ärende".'],
                 id="case-sheet-misspelt"),
    pytest.param(dict(recipients=None), ['Mottagare: bladet "Mottagare" saknas. Lägg till ett blad'], id="recipient-sheet-missing"),
    pytest.param(dict(case=case(drop=["Rubrik"])),
                 ['Ärende: fältet "Rubrik" saknas. Lägg till en rad med "Rubrik" i kolumn A'], id="title-missing"),
    pytest.param(dict(case=case({"Medel att fördela": None})),
                 ['Ärende!B2: fältet "Medel att fördela" saknar värde. Skriv årets belopp i hela kronor i kolumn B.'],
                 id="grant-blank"),
    pytest.param(dict(case=case(drop=["Medel att fördela"], extra=[("Medel att fördel", 1000)])),
                 ['Ärende: fältet "Medel att fördela" saknas. Menade du "Medel att fördel" (rad 8)? Rätta stavningen i kolumn A.'],
                 id="grant-misspelt"),
    pytest.param(dict(case=case({"Medel att fördela": 1000.5})),
                 ['Ärende!B2: "Medel att fördela" ska vara hela kronor, inte 1 000,5. Avrunda beloppet till hela kronor.'],
                 id="grant-decimal"),
    pytest.param(dict(case=case({"Medel att fördela": -1000})),
                 ['Ärende!B2: "Medel att fördela" får inte vara negativt (-1 000 kr). Skriv ett belopp på 0 kr eller mer.'],
                 id="grant-negative"),
    pytest.param(dict(case=case({"Medel att fördela": 0})),
                 ['Ärende!B2: "Medel att fördela" är 0 kr. Skriv beloppet som ska fördelas, större än 0.'], id="grant-zero"),
    pytest.param(dict(case=case({"Medel att fördela": "tre tusen"})),
                 ['Ärende!B2: "tre tusen" är inte ett tal ("Medel att fördela"). Skriv ett tal, t.ex. 15 711 504'], id="grant-text"),
    pytest.param(dict(case=case(extra=[("Överfört från tidigare år", -500)])),
                 ['Ärende!B9: "Överfört från tidigare år" får inte vara negativt (-500 kr).'], id="carried-negative"),
    pytest.param(dict(case=case(extra=[("Avrundning", 5)])),
                 ["Ärende!B9: avrundningen 5 kr går inte. Välj 1, 10, 100 eller 1000."], id="rounding-5"),
    pytest.param(dict(case=case(extra=[("Avrundning", "hundra")])),
                 ['Ärende!B9: "hundra" är inte ett tal (Avrundning).'], id="rounding-text"),
    pytest.param(dict(case=case({"Datum": "30 augusti 2020"})),
                 ['Ärende!B5: "30 augusti 2020" är inget datum (Datum). Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2020-08-30'],
                 id="date-words"),
    pytest.param(dict(case=case({"Sista dag": "2024-02-30"})),
                 ['Ärende!B6: "2024-02-30" är inget datum (Sista dag).'], id="date-impossible"),
    pytest.param(dict(case=case(extra=[("Mallar", "mina mallar")])),
                 ['Ärende!B9: mallmappen "mina mallar" finns inte bredvid arbetsboken',
                  "Skapa mappen, rätta namnet, eller töm fältet för att använda standardmallarna."], id="templates-missing"),
    pytest.param(dict(case=case(extra=[(" rubrik ", "En till")])),
                 ['Ärende!A9: fältet "Rubrik" finns redan på rad 1. Ta bort den ena raden.'], id="field-twice"),
    pytest.param(dict(case=case({"E-post": "aldre(at)stad.example"})),
                 ['Ärende!B8: "aldre(at)stad.example" är ingen giltig e-postadress (fältet "E-post"). Rätta adressen'],
                 id="sender-address-bad"),
    pytest.param(dict(case=case({"E-post": "aldre@stad.example\nBcc: alla@stad.example"})),
                 ['Ärende!B8: e-postadressen för fältet "E-post" innehåller en radbrytning', "Skriv adresserna på en rad"],
                 id="sender-address-header-injection"),
    pytest.param(dict(case=case({"E-post": "aldre@stad.example; chef@stad.example"})),
                 ['Ärende!B8: fältet "E-post" ska ha en enda adress, inte 2. Behåll en av dem.'], id="sender-two-addresses"),
    pytest.param(dict(case=case(extra=[("Ämne", "Stimulansmedel\r\nBcc: alla@stad.example")])),
                 ['Ärende!B9: fältet "Ämne" innehåller en radbrytning, vilket inte går i ett e-posthuvud. Skriv värdet på en rad.'],
                 id="subject-header-injection"),
    pytest.param(dict(case=case({"Avsändare": "Äldreförvaltningen\nBcc: alla@stad.example"})),
                 ['Ärende!B7: fältet "Avsändare" innehåller en radbrytning'], id="sender-name-header-injection"),
    pytest.param(dict(case=case({"Rubrik": "Stimulansmedel\nGod och nära vård"})),
                 ['Ärende!B1: fältet "Rubrik" innehåller en radbrytning, och "Rubrik" blir e-postens ämne när fältet "Ämne" saknas.'],
                 id="title-line-break-without-subject"),
    pytest.param(dict(case=case(extra=[("Överfört från tidigare", 500)])),
                 ['Ärende!A9: fältet "Överfört från tidigare" är inget känt fält och påverkar inte beloppen. '
                  'Menade du "Överfört från tidigare år"? Rätta stavningen i kolumn A.'], id="carried-misspelt"),
    pytest.param(dict(case=case(extra=[("Avrundnig", 100)])),
                 ['Ärende!A9: fältet "Avrundnig" är inget känt fält och påverkar inte beloppen. Menade du "Avrundning"?'],
                 id="rounding-misspelt"),
    pytest.param(dict(case=[("Rubrik", "Medel att fördela", "Nyckel"), ("Stimulansmedel", 1000, "Befolkning")]),
                 ['Ärende!A1: fältnamnen står bredvid varandra på rad 1 ("Rubrik", "Medel att fördela" …). '
                  "Skriv ett fält per rad: namnet i kolumn A och värdet i kolumn B.", "1 fel att rätta"], id="case-laid-out-across"),
    pytest.param(dict(case=case(drop=["Nyckel"])),
                 ['Ärende: fältet "Nyckel" saknas. Det behövs när det inte finns något blad "Fördelning".'], id="key-missing"),
    pytest.param(dict(case=case(drop=["Nyckel"], extra=[("Nyckeln", "Befolkning")])),
                 ['Ärende: fältet "Nyckel" saknas. Menade du "Nyckeln" (rad 8)? Rätta stavningen i kolumn A.'], id="key-misspelt"),
    pytest.param(dict(case=case({"Nyckel": "Befolkninng"})),
                 ['Ärende!B3: kolumnen "Befolkninng" i nyckeln finns inte i Mottagare. Menade du "Befolkning"?'],
                 id="key-unknown-column"),
    pytest.param(dict(extra_sheets={"Fordelning": posts(("Bas", 1000, "nyckel", "Befolkning", "alla"))}),
                 ['Fordelning: bladet "Fordelning" läses inte, eftersom fördelningsbladet ska heta "Fördelning". '
                  'Byt namn på bladet till "Fördelning"'], id="model-sheet-misspelt"),
    pytest.param(dict(case=case({"Medel att fördela": 1500}, extra=[("Avrundning", 1000)])),
                 ["Ärende!B2: att fördela, 1 500 kr, går inte jämnt upp i avrundningen 1 000 kr (fältet Avrundning). "
                  "Sätt Avrundning till 1"], id="default-post-not-a-multiple"),

    # Mottagare
    pytest.param(dict(recipients=[("Namn", "E-post", "Grupp", "Befolkning"), ("Avesta", None, None, 1)]),
                 ['Mottagare!A1: kolumnen "Mottagare" saknas på rad 1. Är kolumnen "Namn" mottagarna? '
                  'Döp i så fall om rubriken till "Mottagare".'], id="name-column-missing"),
    pytest.param(dict(recipients=[("Mottagre", "Befolkning"), ("Avesta", 1)]),
                 ['Mottagare!A1: kolumnen "Mottagare" saknas på rad 1. Menade du "Mottagre"?'], id="name-column-misspelt"),
    pytest.param(dict(recipients=[("Stimulansmedel 2024: mottagare",), (), *KOMMUNER]),
                 ["Mottagare!A1: rubrikraden ska vara rad 1, men rubrikerna står på rad 3. Ta bort raderna ovanför rubrikraden"],
                 id="title-row-above-recipients"),
    pytest.param(dict(recipients=[*KOMMUNER, (" avesta ", None, "Kommun", 5)]),
                 ['Mottagare!A5: mottagaren "avesta" finns redan på rad 2. Varje mottagare får bara stå en gång'],
                 id="duplicate-name-case-and-spaces"),
    pytest.param(dict(recipients=[HEAD, ("S\u00e4ter", None, None, 1), ("Sa\u0308ter", None, None, 2)]),
                 ['Mottagare!A3: mottagaren "Säter" finns redan på rad 2.'], id="duplicate-name-nfc"),
    pytest.param(dict(recipients=[*KOMMUNER, (None, "x@stad.example", "Kommun", 5)]),
                 ["Mottagare!A5: raden har värden men inget namn på mottagaren. Skriv namnet i kolumn Mottagare, eller töm raden."],
                 id="row-without-name"),
    pytest.param(dict(recipients=[*KOMMUNER, (None, None, None, 1000)]),
                 ['Mottagare!A5: raden har värden men inget namn på mottagaren. Skriv namnet i kolumn Mottagare, eller töm raden. '
                  'Är det en summarad? Skriv då "Summa" i kolumn Mottagare.'], id="unlabelled-totals-row"),
    pytest.param(dict(recipients=with_column(KOMMUNER, "Deltar", ["Ja", "Kanske", None])),
                 ['Mottagare!E3: Deltar ska vara "Ja" eller "Nej", inte "Kanske" (mottagare Borlänge). '
                  "Skriv Ja, Nej eller lämna tomt (= Ja)."], id="participates-bad"),
    pytest.param(dict(recipients=[HEAD, ("Avesta", "registrator.avesta.example", None, 1)]),
                 ['Mottagare!B2: "registrator.avesta.example" är ingen giltig e-postadress (mottagare Avesta). Rätta adressen'],
                 id="recipient-address-bad"),
    pytest.param(dict(recipients=[HEAD, ("Avesta", "a@avesta.example\nBcc: b@stad.example", None, 1)]),
                 ["Mottagare!B2: e-postadressen för mottagare Avesta innehåller en radbrytning"],
                 id="recipient-address-header-injection"),
    pytest.param(dict(recipients=[HEAD, ("Avesta\nBcc: b@stad.example", None, None, 1)]),
                 ['Mottagare!A2: mottagarens namn "Avesta Bcc: b@stad.example" innehåller en radbrytning eller ett osynligt '
                  "styrtecken, men namnet hamnar i e-postens ämne och i filnamn. Skriv namnet på en rad.",
                  "1 fel att rätta"], id="recipient-name-line-break"),
    pytest.param(dict(recipients=[*KOMMUNER, ("Summa:", None, None, 1000)]),
                 ['Mottagare!A5: "Summa:" ser ut som en summarad men skulle räknas som mottagare. Skriv bara "Summa"'],
                 id="totals-row-with-colon"),
    pytest.param(dict(recipients=[]), ["Mottagare: bladet är tomt. Skriv rubrikerna"], id="recipient-sheet-empty"),
    pytest.param(dict(recipients=[HEAD]), ["Mottagare: bladet har inga mottagare. Skriv en mottagare per rad"],
                 id="no-recipients"),
    pytest.param(dict(recipients=[HEAD, ("Summa", None, None, 0)]), ["Mottagare: bladet har inga mottagare."],
                 id="only-a-totals-row"),
    pytest.param(dict(recipients=with_column(KOMMUNER, "Deltar?", ["Ja", "Nej", "Ja"])),
                 ['Mottagare!E1: kolumnen "Deltar?" har svaren Ja, Nej men heter inte "Deltar", så alla mottagare räknas som '
                  'deltagande. Byt namn på rubriken till "Deltar"'], id="participates-column-misspelt"),
    pytest.param(dict(recipients=[("Mottagare", "Befolkning", "befolkning"), ("Avesta", 1, 2)]),
                 ['Mottagare!C1: kolumnrubriken "befolkning" finns två gånger på rad 1. Ge kolumnerna olika namn.'],
                 id="column-twice"),

    # Fördelning: the sheet and its columns
    pytest.param(dict(posts=[("Post", "Belopp", "Nyckel", "Mottagare"), ("Bas", 1000, "Befolkning", "alla")]),
                 ['Fördelning!A1: kolumnen "Metod" saknas på rad 1. Rubrikerna ska vara Post, Belopp, Metod'],
                 id="method-column-missing"),
    pytest.param(dict(posts=[("Post", "Belopp (kr)", "Metod"), ("Bas", 1000, "lika")]),
                 ['Fördelning!A1: kolumnen "Belopp" saknas på rad 1. Menade du "Belopp (kr)"?'], id="amount-column-misspelt"),
    pytest.param(dict(posts=[("Post", "Belopp", "Metod", "Nyckel", "Mottagre"), ("Bas", 1000, "fast", None, "Avesta")]),
                 ['Fördelning!E1: kolumnen "Mottagre" läses inte. Menade du "Mottagare"? Byt namn på rubriken till "Mottagare"; '
                  "annars går varje post till alla mottagare.", "1 fel att rätta"], id="selector-column-misspelt"),
    pytest.param(dict(posts=[("Fördelning 2024",), POST_HEAD, ("Bas", 1000, "lika", None, "alla")]),
                 ["Fördelning!A1: rubrikraden ska vara rad 1, men rubrikerna står på rad 2."], id="title-row-above-posts"),
    pytest.param(dict(posts=posts(("Bas", 500, "lika", None, "alla"), ("bas", 500, "lika", None, "alla"))),
                 ['Fördelning!A3: posten "bas" finns redan på rad 2. Ge posterna olika namn.'], id="post-twice"),
    pytest.param(dict(posts=posts(("Bas", 1000, "lika delar", None, "alla"))),
                 ['Fördelning!C2: metoden "lika delar" finns inte. Menade du "lika"? Skriv fast, lika, per mottagare eller nyckel.'],
                 id="method-unknown"),
    pytest.param(dict(posts=posts(("Bas", 1000, None, None, "alla"))),
                 ['Fördelning!C2: posten "Bas" saknar metod. Skriv fast, lika, per mottagare eller nyckel.'], id="method-blank"),
    pytest.param(dict(posts=posts(("Bas", "fyra miljoner", "lika", None, "alla"))),
                 ['Fördelning!B2: "fyra miljoner" är inte ett tal (beloppet för posten "Bas").'], id="amount-text"),
    pytest.param(dict(posts=posts(("Bas", -1000, "lika", None, "alla"))),
                 ['Fördelning!B2: beloppet för posten "Bas" får inte vara negativt (-1 000 kr).'], id="amount-negative"),
    pytest.param(dict(posts=posts(("Bas", 999.5, "lika", None, "alla"))),
                 ['Fördelning!B2: beloppet för posten "Bas" ska vara hela kronor, inte 999,5.'], id="amount-decimal"),
    pytest.param(dict(posts=posts(("Bas", None, "lika", None, "alla"))),
                 ['Fördelning!B2: posten "Bas" saknar belopp. Skriv ett belopp i hela kronor eller ordet "rest".'], id="amount-blank"),
    pytest.param(dict(posts=posts(("Fast", 400, "fast", None, "Avesta"), ("Resten", "resten", "lika", None, "alla"))),
                 ['Fördelning!B3: "resten" är inget belopp. Menade du "rest"?'], id="rest-misspelt"),
    pytest.param(dict(posts=posts(("A", "rest", "lika", None, "alla"), ("B", "Rest", "fast", None, "Avesta"))),
                 ['Fördelning!B3: bara en post får ha Belopp "rest", men rad 2 har det redan.'], id="two-rest-posts"),
    pytest.param(dict(posts=posts(("A", "rest", "per mottagare", None, "alla"))),
                 ['Fördelning!B2: posten "A" är "per mottagare" och kan inte vara "rest".'], id="rest-per-recipient"),
    pytest.param(dict(posts=posts(("Fast", 1200, "fast", None, "Avesta"), ("Rest", "rest", "lika", None, "alla"))),
                 ["Fördelning!B3: de övriga posterna summerar till 1 200 kr, mer än att fördela 1 000 kr, så resten blir -200 kr. "
                  "Minska beloppen eller öka Medel att fördela."], id="rest-negative"),
    pytest.param(dict(case=case({"Medel att fördela": 42_190_007}, extra=[("Överfört från tidigare år", 11_500_000)]),
                      posts=posts(("Fast", 4_000_000, "fast", None, "Avesta"),
                                  ("Utveckling", 26_180_000, "nyckel", "Befolkning", "alla"),
                                  ("Lika", 23_510_000, "lika", None, "alla"))),
                 ['Fördelning!B4: posterna summerar till 53 690 000 kr men att fördela är 53 690 007 kr (7 kr kvar). '
                  'Lägg till en post med Belopp "rest" eller justera beloppen.'], id="posts-short-of-the-total"),
    pytest.param(dict(posts=posts(("A", 600, "lika", None, "alla"), ("B", 410, "fast", None, "Avesta"))),
                 ["Fördelning!B3: posterna summerar till 1 010 kr men att fördela är 1 000 kr (10 kr för mycket). "
                  "Minska beloppen så att de summerar till 1 000 kr."], id="posts-over-the-total"),

    # Avrundning: lika, nyckel, rest and the per-recipient amount must be multiples
    pytest.param(dict(case=case({"Medel att fördela": 1050}, extra=[("Avrundning", 100)]),
                      posts=posts(("Lika", 1050, "lika", None, "alla"))),
                 ['Fördelning!B2: beloppet för posten "Lika", 1 050 kr, går inte jämnt upp i avrundningen 100 kr (fältet Avrundning). '
                  "Ändra beloppet till en multipel av 100 kr, eller sätt Avrundning till 1."], id="rounding-equal"),
    pytest.param(dict(case=case({"Medel att fördela": 1050}, extra=[("Avrundning", 100)]),
                      posts=posts(("Nyckel", 1050, "nyckel", "Befolkning", "alla"))),
                 ['Fördelning!B2: beloppet för posten "Nyckel", 1 050 kr, går inte jämnt upp i avrundningen 100 kr'], id="rounding-key"),
    pytest.param(dict(case=case({"Medel att fördela": 1050}, extra=[("Avrundning", 100)]),
                      posts=posts(("Per", 150, "per mottagare", None, "alla"), ("Fast", 600, "fast", None, "Falun"))),
                 ['Fördelning!B2: beloppet per mottagare för posten "Per", 150 kr, går inte jämnt upp i avrundningen 100 kr'],
                 id="rounding-per-recipient"),
    pytest.param(dict(case=case({"Medel att fördela": 1050}, extra=[("Avrundning", 100)]),
                      posts=posts(("Fast", 1000, "fast", None, "Avesta"), ("Rest", "rest", "lika", None, "alla"))),
                 ['Fördelning!B3: resten för posten "Rest", 50 kr, går inte jämnt upp i avrundningen 100 kr'], id="rounding-rest"),

    # Nyckel
    pytest.param(dict(posts=posts(("Bas", 1000, "nyckel", "Befolkninng", "alla"))),
                 ['Fördelning!D2: kolumnen "Befolkninng" i nyckeln finns inte i Mottagare. Menade du "Befolkning"? '
                  "Skriv namnet på en kolumn med tal från rad 1 i Mottagare."], id="key-column-unknown"),
    pytest.param(dict(recipients=TWO_KEYS, posts=posts(("Bas", 1000, "nyckel", "Befolkning 50 %, Patienter 40 %", "alla"))),
                 ["Fördelning!D2: nyckelns vikter summerar till 90 %, inte 100 %. Justera vikterna så att de blir exakt 100 %."],
                 id="key-weights-not-100"),
    pytest.param(dict(recipients=TWO_KEYS, posts=posts(("Bas", 1000, "nyckel", "Befolkning 100 %; Patienter 0 %", "alla"))),
                 ["Fördelning!D2: vikten för Patienter måste vara större än 0 %. Ta bort delen eller ge den en vikt."],
                 id="key-weight-zero"),
    pytest.param(dict(posts=posts(("Bas", 1000, "nyckel", "Befolkning 50 %; befolkning 50 %", "alla"))),
                 ["Fördelning!D2: kolumnen Befolkning står två gånger i nyckeln. Slå ihop delarna till en."], id="key-column-twice"),
    pytest.param(dict(recipients=TWO_KEYS, posts=posts(("Bas", 1000, "nyckel", "Befolkning, Patienter", "alla"))),
                 ['Fördelning!D2: nyckeln "Befolkning, Patienter" har flera delar men inga procent. Ge varje del en vikt'],
                 id="key-parts-without-weights"),
    pytest.param(dict(recipients=TWO_KEYS, posts=posts(("Bas", 1000, "nyckel", "50 % Befolkning, 50 % Patienter", "alla"))),
                 ['Fördelning!D2: nyckeln "50 % Befolkning, 50 % Patienter" kan inte läsas vid "50 % Befolkning".'],
                 id="key-weight-first"),
    pytest.param(dict(posts=posts(("Bas", 1000, "nyckel", "Grupp", "alla"))),
                 ['Fördelning!D2: kolumnen "Grupp" i nyckeln är ingen underlagskolumn i Mottagare.'], id="key-reserved-column"),
    pytest.param(dict(posts=posts(("Bas", 1000, "nyckel", None, "alla"))),
                 ['Fördelning!D2: posten "Bas" fördelas efter nyckel men kolumn Nyckel är tom.'], id="key-blank"),
    pytest.param(dict(posts=[("Post", "Belopp", "Metod", "Mottagare"), ("Bas", 1000, "nyckel", "alla")]),
                 ['Fördelning!A2: posten "Bas" fördelas efter nyckel men bladet saknar kolumnen Nyckel.'], id="key-column-absent"),

    # Mottagare in Fördelning
    pytest.param(dict(recipients=SOCIAL, posts=posts(("Soc", 1000, "fast", None, "Socialförvaltning"))),
                 ['Fördelning!E2: mottagaren eller gruppen "Socialförvaltning" finns inte. Menade du "Socialförvaltningen"? '
                  'Skriv ett namn från Mottagare, en grupp från kolumn Grupp, eller "alla"; flera skiljs med semikolon.'],
                 id="selector-unknown-recipient"),
    pytest.param(dict(posts=posts(("Bas", 1000, "lika", None, "Kommuner"))),
                 ['Fördelning!E2: mottagaren eller gruppen "Kommuner" finns inte. Menade du "Kommun"?'], id="selector-unknown-group"),
    pytest.param(dict(posts=posts(("Bas", 1000, "lika", None, "Kommun; Avestaa; Falu"))),
                 ['Fördelning!E2: mottagaren eller gruppen "Avestaa" finns inte. Menade du "Avesta"?',
                  'Fördelning!E2: mottagaren eller gruppen "Falu" finns inte. Menade du "Falun"?'], id="selector-two-unknown"),
    pytest.param(dict(recipients=STADSDEL, posts=posts(("Bas", 1000, "lika", None, "Stadsdel"))),
                 ['Fördelning!E2: "Stadsdel" är både en grupp och en mottagare. Byt namn på gruppen eller mottagaren'],
                 id="selector-group-and-recipient"),
    pytest.param(dict(posts=posts(("Bas", 1000, "lika", None, "Avesta, Borlänge"))),
                 ['Fördelning!E2: "Avesta / Borlänge" ska vara flera mottagare eller grupper, men de ska skiljas med semikolon '
                  'på en rad. Skriv "Avesta; Borlänge".'], id="selector-comma"),
    pytest.param(dict(posts=posts(("Bas", 1000, "lika", None, "Avesta\nBorlänge"))),
                 ['Skriv "Avesta; Borlänge".'], id="selector-line-break"),
    pytest.param(dict(posts=posts(("Fast", 1000, "fast", None, "Kommun"))),
                 ['Fördelning!E2: posten "Fast" är ett fast belopp och ska gå till exakt en mottagare, men väljer 3.'],
                 id="fixed-to-several"),
    pytest.param(dict(recipients=with_column(KOMMUNER, "Deltar", ["Nej", "Ja", "Ja"]),
                      posts=posts(("Fast", 1000, "fast", None, "Avesta"))),
                 ['Fördelning!E2: mottagaren Avesta avstår (Deltar = Nej) men posten "Fast" är ett fast belopp till den. '
                  "Välj en annan mottagare, eller ändra Deltar."], id="fixed-to-declining"),
    pytest.param(dict(recipients=DECLINING, posts=posts(("Lika", 1000, "lika", None, "Kommun"))),
                 ['Fördelning!E2: posten "Lika" har ingen deltagande mottagare'], id="equal-with-nobody"),
    pytest.param(dict(recipients=DECLINING, posts=posts(("Nyckel", 1000, "nyckel", "Befolkning", "alla"))),
                 ['Fördelning!E2: posten "Nyckel" har ingen deltagande mottagare'], id="key-with-nobody"),
    pytest.param(dict(recipients=[HEAD, ("Avesta", None, None, 0), ("Borlänge", None, None, 0)],
                      posts=posts(("Bas", 1000, "nyckel", "Befolkning", "alla"))),
                 ['Fördelning!D2: kolumnen Befolkning summerar till 0 för de deltagande mottagarna i posten "Bas"'],
                 id="key-sums-to-zero"),
    pytest.param(dict(recipients=[KOMMUNER[0], KOMMUNER[1], ("Borlänge", None, "Kommun", None), KOMMUNER[3]]),
                 ["Mottagare!D3: värde saknas i kolumn Befolkning för mottagare Borlänge, som nyckeln i Ärende fördelar efter. "
                  "Skriv ett tal (0 är tillåtet), eller sätt Deltar till Nej om mottagaren avstår."], id="basis-blank"),
    pytest.param(dict(recipients=[KOMMUNER[0], KOMMUNER[1], ("Borlänge", None, "Kommun", -300), KOMMUNER[3]],
                      posts=posts(("Bas", 1000, "nyckel", "Befolkning", "alla"))),
                 ['Mottagare!D3: -300 är negativt (kolumn Befolkning, mottagare Borlänge). '
                  'Posten "Bas" fördelar efter kolumnen; skriv 0 eller mer.'], id="basis-negative"),
    pytest.param(dict(recipients=[KOMMUNER[0], KOMMUNER[1], ("Borlänge", None, "Kommun", "tre hundra"), KOMMUNER[3]]),
                 ['Mottagare!D3: "tre hundra" är inte ett tal (kolumn Befolkning, mottagare Borlänge). '
                  "Nyckeln i Ärende fördelar efter kolumnen; skriv ett tal, t.ex. 23 178."], id="basis-text"),
    pytest.param(dict(recipients=DECLINING),
                 ["Ärende!B3: ingen mottagare deltar (alla har Deltar = Nej), så det finns ingen att fördela till. "
                  "Ändra Deltar till Ja för minst en mottagare."], id="nobody-participates"),

    # Texter
    pytest.param(dict(texts=[("Avsnitt", "Text"), (None, "Ett stycke utan rubrik.")]),
                 ["Texter!A2: texten saknar rubrik. Skriv avsnittets rubrik i kolumn A, t.ex. Bakgrund."], id="text-without-heading"),
]


@pytest.mark.parametrize("sheets, expected", ERRORS)
def test_rule_is_reported_where_it_is_broken_with_the_fix(refused, workbook, sheets, expected):
    err = refused(workbook(**sheets))
    for line in expected:
        assert f"  {line}" in err or line in err, err


def test_every_problem_is_reported_at_once(refused, workbook):
    path = workbook(
        case=case({"Datum": "igår"}, extra=[("Avrundning", 7)]),
        recipients=[("Mottagare", "E-post", "Grupp", "Befolkning", "Deltar"),
                    ("Avesta", "registrator@avesta", "Kommun", 100, "Ja"),
                    ("Borlänge", None, "Kommun", 300, "Kanske"),
                    ("avesta", None, "Kommun", 5, None)],
        posts=posts(("Bas", 1000, "nyckel", "Befolkning", "Kommun"),
                    ("Extra", 10, "fixt", None, "Avesta"),
                    ("Soc", 10, "fast", None, "Socialförvaltningen")),
        texts=[("Avsnitt", "Text"), (None, "Text utan rubrik.")],
    )
    err = refused(path)
    for where in ("Ärende!B5:", "Ärende!B9:", "Mottagare!B2:", "Mottagare!E3:", "Mottagare!A4:", "Fördelning!C3:",
                  "Fördelning!E4:", "Texter!A2:"):
        assert f"  {where}" in err, err
    assert err.splitlines()[0] == "Arbetsboken kan inte användas: 8 fel att rätta."


def test_a_bad_rounding_does_not_hide_a_text_in_a_basis_cell(refused, workbook):
    err = refused(workbook(case=case(extra=[("Avrundning", 7)]),
                           recipients=[KOMMUNER[0], ("Borlänge", None, "Kommun", "tre tusen"), KOMMUNER[3]]))
    assert ("Ärende!B9: avrundningen 7 kr går inte. Välj 1, 10, 100 eller 1000. "
            "Beloppen mot avrundningen kontrolleras när detta är rättat.") in err
    assert 'Mottagare!D2: "tre tusen" är inte ett tal (kolumn Befolkning, mottagare Borlänge).' in err
    assert "2 fel att rätta" in err


def test_five_mistakes_in_the_posts_are_reported_in_one_run(refused, workbook):
    err = refused(workbook(recipients=TWO_KEYS,
                           posts=posts(("Bas", 500, "nyckel", "Befolkninng 50 %, Patienter 40 %", "alla"),
                                       ("Soc", 100, "fast", None, "Avestaa"),
                                       ("Fast", 100, "fast", None, "Kommun"),
                                       ("Lika", 200, "lika", None, "alla"))))
    for line in ['Fördelning!D2: kolumnen "Befolkninng" i nyckeln finns inte i Mottagare.',
                 "Fördelning!D2: nyckelns vikter summerar till 90 %, inte 100 %.",
                 'Fördelning!E3: mottagaren eller gruppen "Avestaa" finns inte.',
                 'Fördelning!E4: posten "Fast" är ett fast belopp och ska gå till exakt en mottagare, men väljer 3.',
                 "Fördelning!B5: posterna summerar till 900 kr men att fördela är 1 000 kr (100 kr kvar)."]:
        assert f"  {line}" in err, err
    assert "5 fel att rätta" in err


def test_the_rounding_is_checked_on_posts_and_totals_that_have_other_errors(refused, workbook):
    err = refused(workbook(case=case({"Medel att fördela": 1050, "Nyckel": "Befolkninng"}, extra=[("Avrundning", 100)])))
    assert 'Ärende!B3: kolumnen "Befolkninng" i nyckeln finns inte i Mottagare.' in err
    assert "Ärende!B2: att fördela, 1 050 kr, går inte jämnt upp i avrundningen 100 kr (fältet Avrundning)." in err
    err = refused(workbook(case=case({"Medel att fördela": 1050}, extra=[("Avrundning", 100)]),
                           posts=posts(("Lika", 950, "lika", None, "Avestaa"), ("Fast", 100, "fast", None, "Avesta"))))
    assert 'Fördelning!E2: mottagaren eller gruppen "Avestaa" finns inte.' in err
    assert 'Fördelning!B2: beloppet för posten "Lika", 950 kr, går inte jämnt upp i avrundningen 100 kr' in err


def test_a_key_whose_recipients_are_unknown_says_its_bases_wait(refused, workbook):
    err = refused(workbook(posts=posts(("Bas", 1000, "nyckel", "Befolkning", "Kommuner"))))
    assert ('Fördelning!E2: mottagaren eller gruppen "Kommuner" finns inte. Menade du "Kommun"? Skriv ett namn från Mottagare, '
            'en grupp från kolumn Grupp, eller "alla"; flera skiljs med semikolon. Underlaget för nyckeln kontrolleras när '
            "detta är rättat.") in err


def test_the_posts_are_checked_when_the_recipients_cannot_be_read(refused, workbook):
    err = refused(workbook(recipients=[("Namn", "Befolkning"), ("Avesta", 1)],
                           posts=posts(("Bas", 500, "nyckel", "Befolkning 50 %, Patienter 40 %", "alla"),
                                       ("Extra", 100, "fixt", None, "Avesta"))))
    assert ('Mottagare!A1: kolumnen "Mottagare" saknas på rad 1. Är kolumnen "Namn" mottagarna? Döp i så fall om rubriken '
            'till "Mottagare". Vilka mottagare posterna i Fördelning går till och nycklarnas kolumner kontrolleras när '
            "detta är rättat.") in err
    assert "Fördelning!D2: nyckelns vikter summerar till 90 %, inte 100 %." in err
    assert 'Fördelning!C3: metoden "fixt" finns inte.' in err
    assert "3 fel att rätta" in err


def test_a_sum_that_cannot_be_checked_says_so_in_the_error_that_blocks_it(refused, workbook):
    err = refused(workbook(posts=posts(("Bas", "fyra", "lika", None, "alla"), ("Fast", 100, "fast", None, "Avesta"))))
    assert ('Fördelning!B2: "fyra" är inte ett tal (beloppet för posten "Bas"). Skriv ett tal, t.ex. 15 711 504 eller 33,3. '
            "Summan av posterna kontrolleras när detta är rättat.") in err
    assert "1 fel att rätta" in err


def test_a_key_summing_to_zero_waits_for_a_broken_basis(refused, workbook):
    err = refused(workbook(recipients=[HEAD, ("Avesta", None, None, 0), ("Borlänge", None, None, "x")]))
    assert ('Mottagare!D3: "x" är inte ett tal (kolumn Befolkning, mottagare Borlänge). Nyckeln i Ärende fördelar efter '
            "kolumnen; skriv ett tal, t.ex. 23 178. Summan av kolumnen Befolkning i nyckeln i Ärende kontrolleras när "
            "detta är rättat.") in err
    assert "1 fel att rätta" in err


@pytest.mark.parametrize("sheets, where, mark", [
    (dict(recipients=[HEAD, ("Avesta\u202efdp.exe", None, None, 1), ("Borlänge", None, None, 2)]), "Mottagare!A2", "202E"),
    (dict(case=case(extra=[("Ämne", "Stimulansmedel \u2067beslut\u2069")])), "Ärende!B9", "2067"),
    (dict(posts=posts(("Bas\u200f", 1000, "lika", None, "alla"))), "Fördelning!A2", "200F"),
    (dict(texts=[("Avsnitt", "Text"), ("Bakgrund", "Om medlen\u061c.")]), "Texter!B2", "061C"),
], ids=["recipient-name", "subject", "post-name", "text"])
def test_characters_that_turn_the_direction_of_text_are_refused(refused, workbook, sheets, where, mark):
    err = refused(workbook(**sheets))
    assert f"  {where}: texten " in err
    assert (f"innehåller ett osynligt tecken som vänder textens riktning (U+{mark}), så att namn, filnamn och ämnesrader "
            "kan visas vilseledande. Skriv in texten på nytt för hand i stället för att klistra in den.") in err
    assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in err)


def test_a_workbook_file_name_that_turns_the_direction_of_text_is_refused(refused, workbook):
    err = refused(workbook(name="fördelning\u202eslx.xlsx"))
    assert err.splitlines()[1] == ("  fördelningslx.xlsx: filnamnet innehåller ett osynligt tecken som vänder textens riktning och "
                                   "blir en del av körmappens namn, där det visas vilseledande. Byt namn på filen och skriv "
                                   "namnet för hand.")


@pytest.mark.parametrize("twin", ["Mottagare ", " MOTTAGARE"])
def test_two_sheets_named_alike_but_for_case_or_spaces_are_an_error(refused, workbook, twin):
    err = refused(workbook(extra_sheets={twin: [HEAD]}))
    assert (f'  Mottagare: bladen "Mottagare" och "{twin}" har samma namn så när som på stora och små bokstäver eller '
            "mellanslag, så det går inte att veta vilket som ska läsas. Ta bort det ena bladet eller byt namn på det.") in err
    assert "1 fel att rätta" in err


def test_two_sheets_differing_only_by_case_are_an_error():
    def read(rows):
        return [tuple(Decimal(v) if isinstance(v, int) else v for v in row) for row in rows]

    sheets = [Sheet("Ärende", read(case())), Sheet("Mottagare", read(KOMMUNER)), Sheet("mottagare", [HEAD])]
    with pytest.raises(InputError) as error:
        build_case(sheets, ROOT)
    assert [str(p) for p in error.value.problems] == [
        'Mottagare: bladen "Mottagare" och "mottagare" har samma namn så när som på stora och små bokstäver eller '
        "mellanslag, så det går inte att veta vilket som ska läsas. Ta bort det ena bladet eller byt namn på det."]


def test_money_checks_still_run_when_only_an_address_is_wrong(refused, workbook):
    err = refused(workbook(recipients=[HEAD, ("Avesta", "fel adress", None, 1), ("Borlänge", None, None, 2)],
                            posts=posts(("Bas", 900, "lika", None, "alla"))))
    assert "Mottagare!B2:" in err and "Fördelning!B2: posterna summerar till 900 kr men att fördela är 1 000 kr" in err


def test_a_formula_cell_is_named_once_not_again_as_blank(refused, workbook):
    err = refused(workbook(recipients=[HEAD, ("Avesta", None, None, 1), ("Borlänge", None, None, "=B2*2")]))
    assert err.count("Mottagare!D3") == 1 and "formel utan beräknat värde" in err


# --- warnings: the workbook is usable, and the warning names the cell ---------------------------------

def test_totals_row_that_disagrees_is_a_warning_quoting_both_numbers(accepted, workbook):
    out = accepted(workbook(recipients=[*KOMMUNER, ("Summa", None, None, 999)]))
    assert ("Varning: Mottagare!D5: summaraden anger 999 men kolumnen Befolkning summerar till 1 000 (skillnad 1). "
            "Summaraden används inte i beräkningen; kontrollera underlaget.") in out
    assert amounts(out) == {"Avesta": 100, "Borlänge": 300, "Falun": 600}


def test_seed_004_totals_row_disagrees_as_in_the_source(accepted):
    out = accepted(ROOT / "input" / "dalarna_2020.xlsx")
    assert "Varning: Mottagare!D17: summaraden anger 287 795 men kolumnen Befolkning summerar till 287 966" in out
    assert amounts(out)["Avesta"] == 1_264_598


@pytest.mark.parametrize("name", ["Summa", "summa totalt", " Totalt ", "TOTAL"])
def test_totals_rows_are_not_recipients(accepted, workbook, name):
    out = accepted(workbook(recipients=[*KOMMUNER, (name, None, None, 1000)]))
    assert set(amounts(out)) == {"Avesta", "Borlänge", "Falun"} and "Varning" not in out


def test_a_totals_row_under_another_label_is_a_warning_with_the_fix(accepted, workbook):
    out = accepted(workbook(recipients=[*KOMMUNER, ("Stockholms län", None, None, 1000)]))
    assert ('Varning: Mottagare!A5: raden "Stockholms län" har samma underlag som summan av alla andra mottagare '
            "(Befolkning 1 000) och ser ut som en summarad, men den räknas som mottagare och får pengar. Ta bort raden, "
            'skriv "Summa" i kolumn Mottagare, eller sätt Deltar till Nej om den inte ska ha något.') in out


def test_a_row_equal_to_a_groups_subtotal_is_a_warning(accepted, workbook):
    out = accepted(workbook(recipients=[HEAD, ("Avesta", None, "Kommun", 100), ("Borlänge", None, "Kommun", 300),
                                        ("Kommunerna", None, None, 400), ("Region Dalarna", None, "Region", 600)]))
    assert ('Varning: Mottagare!A4: raden "Kommunerna" har samma underlag som summan av gruppen "Kommun" '
            "(Befolkning 400) och ser ut som en summarad") in out
    assert out.count("ser ut som en summarad") == 1


def test_rows_that_only_happen_to_match_one_other_row_are_fine(accepted, workbook):
    out = accepted(workbook(recipients=[HEAD, ("Avesta", None, "Kommun", 100), ("Borlänge", None, "Kommun", 100)]))
    assert "summarad" not in out


def test_numbers_typed_as_text_with_swedish_separators_are_read_with_a_warning(accepted, workbook):
    path = workbook(case=case({"Medel att fördela": "15 711 504"}),
                    recipients=[HEAD, ("Avesta", None, None, "33,3"), ("Borlänge", None, None, 66.7),
                                ("Summa", None, None, "100")])
    out = accepted(path)
    assert 'Varning: Ärende!B2: talet är skrivet som text ("15 711 504") och läses som 15 711 504.' in out
    assert 'Varning: Mottagare!D2: talet är skrivet som text ("33,3") och läses som 33,3.' in out
    assert "summaraden" not in out
    assert amounts(out) == {"Avesta": 5_231_931, "Borlänge": 10_479_573}


def test_zero_amount_and_zero_rest_are_warnings(accepted, workbook):
    out = accepted(workbook(posts=posts(("Noll", 0, "lika", None, "alla"), ("Fast", 1000, "fast", None, "Avesta"),
                                        ("Rest", "rest", "lika", None, "alla"))))
    assert 'Varning: Fördelning!B2: posten "Noll" är 0 kr och ger ingen mottagare något.' in out
    assert 'Varning: Fördelning!B4: resten (posten "Rest") blir 0 kr' in out
    assert amounts(out)["Avesta"] == 1000


def test_per_recipient_post_with_nobody_is_zero_with_a_warning(accepted, workbook):
    recipients = with_column(KOMMUNER, "Deltar", ["Ja", "Nej", "Nej"])
    out = accepted(workbook(recipients=recipients,
                            posts=posts(("Per", 100, "per mottagare", None, "Borlänge; Falun"),
                                        ("Bas", "rest", "fast", None, "Avesta"))))
    assert 'Varning: Fördelning!E2: posten "Per" har ingen deltagande mottagare och blir 0 kr.' in out
    assert amounts(out) == {"Avesta": 1000, "Borlänge": 0, "Falun": 0}


def test_fixed_post_need_not_be_a_multiple_of_the_rounding(accepted, workbook):
    out = accepted(workbook(case=case({"Medel att fördela": 1050}, extra=[("Avrundning", 100)]),
                            posts=posts(("Fast", 50, "fast", None, "Avesta"), ("Lika", 900, "lika", None, "alla"),
                                        ("Per", 100, "per mottagare", None, "Falun"))))
    assert amounts(out) == {"Avesta": 350, "Borlänge": 300, "Falun": 400}


@pytest.mark.parametrize("key", ["Befolkning 33,3 %, Patienter 66,7 %", "Befolkning 33,3 %; Patienter 66,7 %",
                                 " befolkning 33,3%;patienter 66,7 % "])
def test_decimal_comma_weights_and_both_separators(accepted, workbook, key):
    out = accepted(workbook(recipients=[HEAD + ("Patienter",), ("Avesta", None, None, 1, 0), ("Borlänge", None, None, 0, 1)],
                            posts=posts(("Bas", 1000, "nyckel", key, "alla"))))
    assert amounts(out) == {"Avesta": 333, "Borlänge": 667}


def test_a_key_without_percent_is_one_column_even_with_a_number_in_its_name(accepted, workbook):
    out = accepted(workbook(case=case({"Nyckel": "Befolkning 2019"}),
                            recipients=[("Mottagare", "Befolkning 2019"), ("Avesta", 1), ("Borlänge", 3)]))
    assert amounts(out) == {"Avesta": 250, "Borlänge": 750}


def test_alla_with_other_words_means_everyone_once(accepted, workbook):
    out = accepted(workbook(posts=posts(("Lika", 900, "lika", None, "Avesta; alla; Kommun"),
                                        ("Fast", 100, "fast", None, "Avesta"))))
    assert amounts(out) == {"Avesta": 400, "Borlänge": 300, "Falun": 300}


def test_fixed_post_to_a_group_of_one(accepted, workbook):
    out = accepted(workbook(posts=posts(("Lika", 900, "lika", None, "Kommun"), ("Region", 100, "fast", None, "region")),
                            recipients=[*KOMMUNER, ("Region Dalarna", None, "Region", None)]))
    assert amounts(out) == {"Avesta": 300, "Borlänge": 300, "Falun": 300, "Region Dalarna": 100}


def test_declining_recipient_needs_no_basis(accepted, workbook):
    recipients = [HEAD + ("Deltar",), ("Avesta", None, None, 100, "J"), ("Borlänge", None, None, None, "Nej"),
                  ("Falun", None, None, 300, 1), ("Gagnef", None, None, 600, None), ("Hedemora", None, None, 0, "n")]
    out = accepted(workbook(recipients=recipients))
    assert amounts(out) == {"Avesta": 100, "Borlänge": 0, "Falun": 300, "Gagnef": 600, "Hedemora": 0}
    assert "(avstår)" in out


def test_title_with_a_line_break_is_fine_when_the_subject_is_given(accepted, workbook):
    accepted(workbook(case=case({"Rubrik": "Stimulansmedel\nGod och nära vård"}, extra=[("Ämne", "Stimulansmedel 2024")])))


def test_misspelt_document_field_is_a_warning(accepted, workbook):
    out = accepted(workbook(case=case(drop=["Diarienummer"], extra=[("Diarienumer", "ÄLD 2024/1")])))
    assert 'Varning: Ärende!A8: fältet "Diarienumer" är inget känt fält och används bara om en mall nämner det. ' \
           'Menade du "Diarienummer"?' in out


def test_free_fields_and_a_field_header_row_are_fine(accepted, workbook):
    out = accepted(workbook(case=[("Fält", "Värde"), *case(extra=[("Kontaktperson", "Karin")])]))
    assert "Varning" not in out


def test_unused_case_key_is_a_warning_when_posts_have_their_own(accepted, workbook):
    out = accepted(workbook(posts=posts(("Bas", 1000, "lika", None, "alla"))))
    assert 'Varning: Ärende!B3: fältet "Nyckel" används inte, eftersom bladet "Fördelning" finns' in out


def test_answers_under_another_heading_are_a_warning(accepted, workbook):
    out = accepted(workbook(recipients=with_column(KOMMUNER, "Intresserad", ["Ja", "Nej", "Ja"])))
    assert 'Varning: Mottagare!E1: kolumnen "Intresserad" har svaren Ja, Nej men heter inte "Deltar"' in out


def test_addresses_under_another_heading_are_a_warning(accepted, workbook):
    out = accepted(workbook(recipients=[("Mottagare", "Mejl", "Befolkning"), ("Avesta", "a@avesta.example", 1)]))
    assert 'Varning: Mottagare!B1: kolumnen "Mejl" har e-postadresser men heter inte "E-post"' in out


def test_several_addresses_separated_by_semicolon_or_comma(cli, workbook, tmp_path):
    path = workbook(recipients=[HEAD, ("Avesta", "a@avesta.example; b@avesta.example,c@avesta.example", None, 1)])
    status, out, err = cli("run", path, "--out", tmp_path / "ut")
    assert status == 0, err
    result = json.loads((Path(out.strip().splitlines()[-1]) / "fordelning.json").read_text(encoding="utf-8"))
    assert result["recipients"][0]["email"] == ["a@avesta.example", "b@avesta.example", "c@avesta.example"]


def test_misspelt_texts_sheet_is_a_warning(accepted, workbook):
    out = accepted(workbook(extra_sheets={"Text": [("Avsnitt", "Text"), ("Bakgrund", "Om medlen.")]}))
    assert 'Varning: Text: bladet "Text" läses inte, eftersom textbladet ska heta "Texter".' in out


def test_a_total_typed_in_millions_is_a_warning(accepted, workbook):
    out = accepted(workbook(case=case({"Medel att fördela": 16})))
    assert ('Varning: Ärende!B2: att fördela är bara 16 kr. Belopp skrivs i hela kronor (t.ex. 15 711 504), inte i tusental '
            'eller miljoner; kontrollera "Medel att fördela".') in out


def test_dates_as_text_with_a_time_after_them(accepted, workbook):
    accepted(workbook(case=case({"Datum": "2024-05-21 00:00:00", "Sista dag": "2024-11-30"})))


def test_key_parts_without_separators(refused, workbook):
    err = refused(workbook(recipients=TWO_KEYS, posts=posts(("Bas", 1000, "nyckel", "Befolkning 50 % Patienter 50 %", "alla"))))
    assert ('Fördelning!D2: nyckeln "Befolkning 50 % Patienter 50 %" har delar utan skiljetecken mellan sig. Skilj delarna '
            "med semikolon") in err


# --- what a spreadsheet shows differently from what it holds --------------------------------------------

def edited(path: Path, change) -> Path:
    """The workbook after ``change(book)``, as a user would edit it in Excel."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    change(book)
    book.save(path)
    return path


def test_cells_merged_over_several_rows_are_an_error(refused, workbook):
    path = edited(workbook(posts=posts(("Lika", 600, "lika", None, "Kommun"), ("Nyckel", 400, "nyckel", "Befolkning", None))),
                  lambda book: book["Fördelning"].merge_cells("E2:E3"))
    err = refused(path)
    assert ("Fördelning!E2: cellerna E2:E3 är sammanfogade över flera rader, och bara den översta har ett värde; de andra "
            "raderna läses som tomma. Dela upp cellerna") in err


def test_cells_merged_across_a_title_are_fine(accepted, workbook):
    accepted(edited(workbook(), lambda book: book["Ärende"].merge_cells("B1:C1")))


def test_hidden_rows_are_read_with_a_warning(accepted, workbook):
    def hide(book):
        book["Mottagare"].row_dimensions[3].hidden = True
        book["Mottagare"].row_dimensions[4].hidden = True

    out = accepted(edited(workbook(), hide))
    assert ("Varning: Mottagare!A3: raderna 3 och 4 är dolda (eller bortfiltrerade) men räknas med. Visa raderna och "
            "kontrollera dem") in out
    assert amounts(out) == {"Avesta": 100, "Borlänge": 300, "Falun": 600}


def test_a_totals_row_among_the_posts_is_an_error(refused, workbook):
    err = refused(workbook(posts=posts(("Lika", 1000, "lika", None, "alla"), ("Summa", 1000, None, None, None))))
    assert 'Fördelning!A3: "Summa" ser ut som en summarad, men Fördelning ska bara ha poster. Ta bort raden' in err
    assert "1 fel att rätta" in err


# --- any workbook at all: an InputError or a case the engine can split exactly ------------------------

ODD = [None, "rest", "Ja", "Nej", "kanske", "=1+1", "33,3", "15 711 504", "-5", "x@y.example", "Avesta\nBcc: x", True,
       UNCALCULATED, ExcelError("#REF!"), Decimal("0.1"), Decimal(-3), Decimal("1E+20"), "Summa", " avesta", "Sa\u0308ter"]


@st.composite
def case_sheets(draw):
    """A sensible workbook as plain sheets, then up to two cells replaced by odd values."""
    rounding = draw(st.sampled_from([1, 1, 10, 100]))
    kronor = st.integers(0, 30).map(lambda n: Decimal(n * rounding))
    case_rows = [["Rubrik", "Stöd"], ["Medel att fördela", Decimal(draw(st.integers(1, 300)) * rounding)],
                 ["Avrundning", Decimal(rounding)],
                 ["Nyckel", draw(st.sampled_from(["Befolkning", "Patienter 50 %; Befolkning 50 %", "Befolkning 100 %"]))]]
    if draw(st.booleans()):
        case_rows.append(["Överfört från tidigare år", draw(kronor)])
    names = draw(st.lists(st.sampled_from(["Avesta", "Borlänge", "Falun", "Säter", "Region Dalarna"]),
                          min_size=1, max_size=5, unique=True))
    people = [[n, draw(st.sampled_from(["Kommun", "Region", None])), Decimal(draw(st.integers(0, 50))),
               Decimal(draw(st.integers(0, 50))), draw(st.sampled_from(["Ja", "Nej", None, "j", "N"]))] for n in names]
    sheets = [["Ärende", case_rows], ["Mottagare", [["Mottagare", "Grupp", "Befolkning", "Patienter", "Deltar"], *people]]]
    if draw(st.booleans()):
        rows = [[name, draw(kronor), draw(st.sampled_from(["fast", "lika", "per mottagare", "nyckel"])),
                 draw(st.sampled_from(["Befolkning", "Patienter", "Befolkning 50 %, Patienter 50 %"])),
                 draw(st.sampled_from(["alla", "Kommun", "Region", "Avesta", "Avesta; Borlänge", None]))]
                for name in draw(st.lists(st.sampled_from("ABCD"), max_size=3, unique=True))]
        if draw(st.booleans()):
            rows.append(["Rest", "rest", draw(st.sampled_from(["lika", "nyckel", "fast"])), "Befolkning",
                         draw(st.sampled_from(["alla", "Avesta", "Kommun"]))])
        sheets.append(["Fördelning", [list(POST_HEAD), *rows]])
    for _ in range(draw(st.integers(0, 2))):
        title, rows = draw(st.sampled_from(sheets))
        row = draw(st.sampled_from(rows))
        row[draw(st.integers(0, len(row) - 1))] = draw(st.sampled_from(ODD))
    return [Sheet(title, [tuple(r) for r in rows]) for title, rows in sheets]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case_sheets())
def test_any_workbook_is_refused_with_messages_or_split_exactly(sheets):
    try:
        case = build_case(sheets, ROOT)
    except InputError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.where and problem.message.rstrip().endswith((".", "?", ")")), problem
        return
    allocation = allocate(case)
    assert sum(allocation.totals) == case.info.total
    assert all(t >= 0 for t in allocation.totals)
    for result in allocation.posts:
        if result.post.method != "fast":
            assert all(share % case.info.rounding == 0 for share in result.shares.values())

