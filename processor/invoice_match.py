"""Whose an e-invoice is: this case or another, which recipient, and what to warn about. Pure.

An invoice belongs to the case when its buyer reference (BT-10) or order reference (BT-13)
equals ``Fakturareferens`` (trimmed, without case). Its recipient is the one with the
seller's organisation number, else the one whose name has the seller's name key
(``name_key``). The words dropped from names are ``kommun``, ``stad``, ``AB`` and
``aktiebolag``, never ``region``: Region Stockholm is not Stockholms stad.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from processor import formats
from processor.einvoice import EInvoice
from processor.layout import LEDGER_FILE
from processor.model import Recipient
from processor.swedish import closest, norm
from processor.vocabulary import INVOICE_REFERENCE, ORG_NUMBER_COL

CURRENCY = "SEK"
_DROPPED_WORDS = frozenset({"kommun", "stad", "ab", "aktiebolag"})
_BY_HAND = f"Hör fakturan hit, för in den för hand på mottagarens rad i {LEDGER_FILE}."


@dataclass(frozen=True)
class InvoiceMatch:
    """An invoice with its recipient, or with why it cannot be recorded; and its warnings (Swedish)."""

    invoice: EInvoice
    recipient: str | None = None
    refusal: str | None = None
    warnings: tuple[str, ...] = ()


def name_key(name: str) -> str:
    """``'Vaxholms stad'`` → ``'vaxholm'``: no case, punctuation, ``kommun``/``stad``/``AB``, nor a final genitive s.

    Both sides of a comparison go through it, so a name that ends in s (``Borås``, ``Hofors``) still matches.
    """
    words = [w for w in re.findall(r"[^\W_]+", norm(name)) if w not in _DROPPED_WORDS]
    if words and len(words[-1]) > 2 and words[-1].endswith("s"):
        words[-1] = words[-1][:-1]
    return " ".join(words)


def match_invoice(invoice: EInvoice, reference: str | None, deadline: dt.date | None,
                  recipients: Sequence[Recipient]) -> InvoiceMatch:
    """The invoice's recipient in this case, or the reason it is not recorded."""
    refusal = _not_this_case(invoice, reference)
    if refusal is not None:
        return InvoiceMatch(invoice, refusal=refusal)
    warnings = _warnings(invoice, deadline)
    if invoice.currency.upper() != CURRENCY:
        return InvoiceMatch(invoice, refusal=f"{invoice.label} är i {invoice.currency}, inte i svenska kronor, och förs "
                                             f"därför inte in. Be mottagaren skicka en kreditnota och en ny faktura i kronor, "
                                             f"eller för in beloppet i kronor för hand i {LEDGER_FILE}.", warnings=warnings)
    if invoice.amount != invoice.amount.to_integral_value():
        return InvoiceMatch(invoice, refusal=f"{invoice.label} är på {formats.kronor(invoice.amount, nbsp=False)}, med ören, "
                                             "men tilldelningen är i hela kronor; fakturan förs inte in. Be mottagaren "
                                             "kreditera den och fakturera ett belopp i hela kronor.", warnings=warnings)
    recipient, refusal = _recipient(invoice, recipients)
    return InvoiceMatch(invoice, recipient, refusal, warnings)


def _not_this_case(invoice: EInvoice, reference: str | None) -> str | None:
    if reference is None or not reference.strip():
        return (f'ärendet har ingen "{INVOICE_REFERENCE}" att känna igen fakturorna på. Skriv fältet {INVOICE_REFERENCE} '
                "på bladet Ärende (samma referens som i breven) och kör ärendet igen.")
    given = [r for r in (invoice.buyer_reference, invoice.order_reference) if r]
    if any(norm(r) == norm(reference) for r in given):
        return None
    if not given:
        return (f"{invoice.label} har varken köparens referens (BuyerReference) eller ordernummer (OrderReference), så den "
                f'kan inte kännas igen som en faktura i detta ärende (referens "{reference.strip()}"). {_BY_HAND}')
    return (f'{invoice.label} har referensen "{given[0]}", inte ärendets "{reference.strip()}": den hör till ett annat '
            f"ärende och förs inte in. {_BY_HAND}")


def _warnings(invoice: EInvoice, deadline: dt.date | None) -> tuple[str, ...]:
    warnings = []
    if invoice.vat > 0:
        warnings.append(f"{invoice.label} har {formats.kronor(invoice.vat, nbsp=False)} i moms, men statsbidrag faktureras "
                        "utan moms. Beloppet utan moms räknas; be mottagaren kreditera momsen.")
    if deadline is not None and invoice.issue_date > deadline:
        warnings.append(f"{invoice.label} är daterad {formats.long_date(invoice.issue_date)}, efter sista dag "
                        f"{formats.long_date(deadline)}.")
    return tuple(warnings)


def _recipient(invoice: EInvoice, recipients: Sequence[Recipient]) -> tuple[str | None, str | None]:
    """The recipient's name, or why there is none."""
    seller = invoice.seller_name or invoice.seller_org_number or "(namn saknas)"
    if invoice.seller_org_number is not None:
        by_number = [r for r in recipients if r.org_number == invoice.seller_org_number]
        if by_number:
            return by_number[0].name, None
    key = name_key(invoice.seller_name or "")
    by_name = [r for r in recipients if key and name_key(r.name) == key]
    if len(by_name) > 1:
        names = " och ".join(r.name for r in by_name)
        return None, (f'säljaren "{seller}" kan vara både {names}, och fakturan har inget organisationsnummer som avgör '
                      f"vilken. {_BY_HAND}")
    if by_name and by_name[0].org_number and invoice.seller_org_number:
        found = by_name[0]
        return None, (f'säljaren "{seller}" har organisationsnummer {invoice.seller_org_number}, men mottagaren {found.name} '
                      f"har {found.org_number} ({ORG_NUMBER_COL} i arbetsboken). {_BY_HAND}")
    if by_name:
        return by_name[0].name, None
    return None, _unknown_seller(invoice, seller, key, recipients)


def _unknown_seller(invoice: EInvoice, seller: str, key: str, recipients: Sequence[Recipient]) -> str:
    number = f" (organisationsnummer {invoice.seller_org_number})" if invoice.seller_org_number else ""
    keys = {name_key(r.name): r.name for r in recipients}
    guess = closest(key, list(keys)) if key else None
    suggestion = f' Menade du "{keys[guess]}"?' if guess else ""
    return f'säljaren "{seller}"{number} finns inte bland mottagarna.{suggestion} {_BY_HAND}'

