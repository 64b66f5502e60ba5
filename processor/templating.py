"""What templates see: the context of the decision document, each letter and each e-mail.

The context uses stable ASCII names (``arende.rubrik``, ``mottagare.belopp``); docs/mallar.md lists
every one of them. Where templates are found is ``template_files``, the sandbox they render in
``sandbox``, and the messages for their mistakes ``template_errors``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import SimpleNamespace

from processor import formats
from processor.appendix import appendix_title, area_groups
from processor.describe import basis_word, footnote, key_in_words, method_in_words, per_unit_in_words, round_ore
from processor.model import EQUAL, FAST, KEY, PER_RECIPIENT, Allocation, Case, PostResult
from processor.sandbox import empty
from processor.sandbox import plain_value as _plain
from processor.swedish import norm
from processor.validate import CASE_FIELDS

APPENDIX_IN_LETTER_MAX = 100
DECISION_SECTIONS = ("Sammanfattning", "Bakgrund", "Ärendet", "Ärendets beredning",
                     "Förvaltningens synpunkter och förslag", "Jämställdhetsanalys")
SECTION_ALIASES = {norm("Förvaltningens synpunkter"): norm("Förvaltningens synpunkter och förslag")}
LETTER_ONLY = ("mottagare",)



# --- the context --------------------------------------------------------------------------------

def slug(name: str) -> str:
    """A field or column name as a template name: ``Sista dag`` → ``sista_dag``, ``E-post`` → ``e_post``."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_only).strip("_")


class Fields(Mapping):
    """Values by their Swedish name, looked up as the workbook compares names (case, spaces ignored).

    ``get`` gives an empty value for a name that is not there, so ``{% if falt.get("X") %}`` works
    and printing it is an error rather than a silent blank.
    """

    def __init__(self, values: Mapping[str, object], what: str = 'fältet "{name}" på bladet Ärende'):
        self._values = {norm(k): (k, v) for k, v in values.items()}
        self._what = what

    def __getitem__(self, name):
        key = norm(name)
        if key not in self._values:
            raise KeyError(name)
        original, value = self._values[key]
        return value if value is not None else empty(self._what.replace("{name}", original), str(name))

    def get(self, name, default=None):
        try:
            return self[name]
        except KeyError:
            return default if default is not None else empty(self._what.replace("{name}", str(name)), str(name))

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._values.values())

    def __len__(self) -> int:
        return len(self._values)


class Texts(Mapping):
    """The ``Texter`` sheet: ``texter.Bakgrund`` or ``texter["Ärendets beredning"]``; empty when absent."""

    def __init__(self, sections: Sequence[tuple[str, str]]):
        self._sections = {section_key(h): (h, t) for h, t in sections}
        self.avsnitt = [SimpleNamespace(rubrik=h, text=t) for h, t in sections]

    def __getitem__(self, heading):
        found = self._sections.get(section_key(str(heading)))
        return found[1] if found else empty(f'avsnittet "{heading}" på bladet Texter', str(heading))

    def __iter__(self) -> Iterator[str]:
        return (heading for heading, _ in self._sections.values())

    def __len__(self) -> int:
        return len(self._sections)


def section_key(heading: str) -> str:
    """How section headings compare: loosely, and "Förvaltningens synpunkter" as the full heading."""
    key = norm(heading)
    return SECTION_ALIASES.get(key, key)


def large_amount(amount: int) -> str:
    """``53,7 mnkr`` from a million up, else ``800 000 kr``: how decision points state sums."""
    return formats.mnkr(amount) if amount >= 1_000_000 else formats.kronor(amount)


class LazyList(Sequence):
    """A list whose items are built when a template reaches them, so that a run never holds them all at once."""

    def __init__(self, length: int, build: Callable[[int], object]):
        self._length, self._build = length, build

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(self._length))]
        if not -self._length <= index < self._length:
            raise IndexError(index)
        return self._build(index % self._length)


class LazyNamespace(SimpleNamespace):
    """A namespace whose costly values are made when a template first reads them (then kept).

    A decision document lists every recipient but reads few of their texts; a letter reads its own.
    """

    def __init__(self, lazy: Mapping[str, Callable[[], object]], **values):
        super().__init__(**values)
        object.__setattr__(self, "_lazy", lazy)

    def __getattr__(self, name: str):
        lazy = self.__dict__.get("_lazy", {})
        if name not in lazy:
            raise AttributeError(name)
        value = lazy[name]()
        setattr(self, name, value)
        return value


class ContextBuilder:
    """The values every template sees, built once per case; letters add their recipient."""

    def __init__(self, case: Case, allocation: Allocation, today: dt.date | None = None):
        self.case = case
        self.allocation = allocation
        self.today = today or dt.date.today()
        self._sums: dict[tuple[str, str], Decimal] = {}
        self.columns = list(dict.fromkeys(c for r in case.recipients for c in [*r.bases, *r.texts]))
        self.post_views = {r.post.name: self._post(r) for r in allocation.posts}
        self.recipients = LazyList(len(case.recipients), self._recipient)
        self.common = self._common()

    def letter(self, index: int) -> dict:
        """The context of recipient ``index``'s letter and e-mail: everything plus ``mottagare``."""
        return {**self.common, "mottagare": self._recipient(index)}

    def decision(self) -> dict:
        return dict(self.common)

    def _common(self) -> dict:
        case, allocation = self.case, self.allocation
        info = case.info
        posts = list(self.post_views.values())
        areas = [SimpleNamespace(namn=area if area else empty("området", "omrade"),
                                 belopp=sum(r.amount for r in results),
                                 poster=[self.post_views[r.post.name] for r in results])
                 for area, results in area_groups(allocation)]
        return {
            "arende": self._case_fields(),
            "falt": Fields(info.fields),
            "summa": allocation.total,
            "poster": posts,
            "omraden": areas,
            "grupper": self._groups(),
            "alla_mottagare": self.recipients,
            "antal_mottagare": len(case.recipients),
            "antal_brev": sum(1 for t in allocation.totals if t > 0),
            "avstar": [r.name for r in case.recipients if not r.participates],
            "texter": Texts(case.texts),
            "ovriga_texter": [s for s in Texts(case.texts).avsnitt
                              if section_key(s.rubrik) not in {section_key(h) for h in DECISION_SECTIONS}],
            "beslutspunkter": self._decision_points(),
            "sammanstallning": self._summary(),
            "bilaga": SimpleNamespace(rubrik=appendix_title(case), titel=appendix_title(case).removeprefix("Bilaga 1: "),
                                      i_brevet=len(case.recipients) <= APPENDIX_IN_LETTER_MAX,
                                      fotnot=footnote(case, allocation),
                                      underlag_rubrik=self._basis_heading()),
            "dagens_datum": self.today,
        }

    def _case_fields(self) -> SimpleNamespace:
        info = self.case.info
        values: dict[str, object] = {}
        for name, value in info.fields.items():
            key = slug(name)
            if key.isidentifier() and key not in values:
                values[key] = value if value is not None else empty(f'fältet "{name}" på bladet Ärende', key)
        values.update(rubrik=info.title, medel_att_fordela=info.grant, overfort_fran_tidigare_ar=info.carried_over,
                      avrundning=info.rounding)
        for name in CASE_FIELDS:
            values.setdefault(slug(name), empty(f'fältet "{name}" på bladet Ärende', slug(name)))
        return SimpleNamespace(**values)

    def _post(self, result: PostResult) -> SimpleNamespace:
        post = result.post
        per_unit = round_ore(result.per_unit) if result.per_unit is not None else None
        return SimpleNamespace(
            namn=post.name, belopp=result.amount, metod=post.method,
            omrade=post.area or empty(f'området för posten "{post.name}"', "omrade"),
            beskrivning=method_in_words(result, self.case),
            nyckel_i_ord=key_in_words(post) if post.method == KEY else empty(f'nyckeln för posten "{post.name}"', "nyckel_i_ord"),
            nyckel=[SimpleNamespace(kolumn=p.column, vikt=p.weight) for p in post.key],
            per_enhet=per_unit if per_unit is not None else empty(f'beloppet per enhet för posten "{post.name}"', "per_enhet"),
            per_enhet_i_ord=per_unit_in_words(result) or empty(f'beloppet per enhet för posten "{post.name}"', "per_enhet_i_ord"),
            antal_mottagare=len(result.shares),
        )

    def _recipient(self, index: int) -> LazyNamespace:
        """Recipient ``index`` as templates see it; its texts are made when a template reads them."""
        recipient = self.case.recipients[index]
        allocation = self.allocation
        return LazyNamespace(
            {"poster": lambda: [self._recipient_post(result, index) for result in allocation.posts
                                if index in result.shares],
             "underlag": lambda: self._bases_in_words(recipient, index) or "",
             "kolumner": lambda: Fields({**dict.fromkeys(self.columns), **recipient.bases, **recipient.texts},
                                        what=f'kolumnen "{{name}}" för mottagaren "{recipient.name}"'),
             "grupp": lambda: recipient.group or empty(f'gruppen för mottagaren "{recipient.name}"', "grupp"),
             "e_post": lambda: "; ".join(recipient.emails) or empty(f'e-postadressen för mottagaren "{recipient.name}"',
                                                                   "e_post")},
            namn=recipient.name, belopp=allocation.totals[index], nummer=index + 1, deltar=recipient.participates,
            adresser=list(recipient.emails),
        )

    def _recipient_post(self, result: PostResult, index: int) -> LazyNamespace:
        """One post in a recipient's letter: the post's own words (made once per post) and the recipient's part."""
        post, view = result.post, self.post_views[result.post.name]
        return LazyNamespace(
            {"underlag_i_ord": lambda: (self._share_in_words(result, index)
                                        or empty(f'underlaget för posten "{post.name}"', "underlag_i_ord")),
             "forklaring": lambda: self._explanation(result, index)},
            namn=post.name, belopp=result.shares[index], metod=post.method, omrade=view.omrade,
            beskrivning=view.beskrivning, nyckel_i_ord=view.nyckel_i_ord,
        )

    def _explanation(self, result: PostResult, index: int) -> str:
        """How the recipient's part of a post came about, for its letter: ``fast belopp``, ``… ert underlag: …``."""
        post = result.post
        count = len(result.shares)
        if post.method == FAST:
            return "fast belopp"
        if post.method == PER_RECIPIENT:
            return f"samma belopp till var och en av {count} mottagare"
        if post.method == EQUAL:
            return f"lika delar mellan {count} mottagare"
        return f"fördelas {self.post_views[post.name].nyckel_i_ord}; ert underlag: {self._share_in_words(result, index)}"

    def _share_in_words(self, result: PostResult, index: int) -> str:
        """``befolkning 48 214 av 888 837`` for each basis of a key post; empty for other methods."""
        post = result.post
        if post.method != KEY:
            return ""
        parts = []
        for part in post.key:
            mine = self.case.recipients[index].bases.get(part.column, Decimal(0))
            parts.append(f"{basis_word(part.column)} {formats.number(mine)} av {formats.number(self._whole(result, part.column))}")
        return ", ".join(parts)

    def _whole(self, result: PostResult, column: str) -> Decimal:
        """A key column's sum over a post's recipients, computed once per post (not per letter)."""
        key = (result.post.name, column)
        if key not in self._sums:
            self._sums[key] = sum((self.case.recipients[j].bases.get(column, Decimal(0)) for j in result.shares),
                                  Decimal(0))
        return self._sums[key]

    def _basis_columns(self) -> list[str]:
        seen: list[str] = []
        for post in self.case.posts:
            if post.method == KEY:
                seen.extend(p.column for p in post.key if p.column not in seen)
        return seen

    def _basis_heading(self) -> str:
        columns = self._basis_columns()
        return columns[0] if len(columns) == 1 else ("Underlag" if columns else "")

    def _bases_in_words(self, recipient, index: int) -> str:
        """The recipient's basis values: ``23 178`` for one basis column, ``Befolkning 23 178, …`` for several."""
        if not recipient.participates:
            return "avstår"
        columns = [c for c in self._basis_columns() if c in recipient.bases]
        if len(self._basis_columns()) == 1 and columns:
            return formats.number(recipient.bases[columns[0]])
        return ", ".join(f"{c} {formats.number(recipient.bases[c])}" for c in columns)

    def _groups(self) -> list[SimpleNamespace]:
        groups: dict[str, list[int]] = {}
        for i, recipient in enumerate(self.case.recipients):
            if recipient.group:
                groups.setdefault(recipient.group, []).append(i)
        return [SimpleNamespace(namn=name, antal=len(members), belopp=sum(self.allocation.totals[i] for i in members),
                                mottagare=[self.case.recipients[i].name for i in members])
                for name, members in groups.items()]

    def _decision_points(self) -> list[str]:
        """The proposed decisions: approve the distribution, delegate the payments (seeds 001, 002)."""
        info = self.case.info
        committee = info.fields.get("Nämnd") or "Nämnden"
        year = info.fields.get("År")
        year_text = f" {_plain(year)}" if year is not None else ""
        amount = large_amount(self.allocation.total)
        return [
            f"{committee} godkänner förvaltningens förslag till fördelning av stimulansmedel{year_text} "
            f"motsvarande {amount}.",
            f"{committee} beslutar att delegera till förvaltningschefen att fördela stimulansmedel om {amount} "
            "utifrån den modell som föreslås i detta ärende.",
        ]

    def _post_words(self, result: PostResult) -> str:
        """The summary's description of a post: how it is split, with the amount per unit where there is one."""
        words = method_in_words(result, self.case)
        if result.per_unit is None:
            return words
        return f"{words} ({formats.kronor(round_ore(result.per_unit))} per enhet)"

    def _summary_row(self, index: int) -> SimpleNamespace:
        recipient = self.case.recipients[index]
        return SimpleNamespace(text=recipient.name, beskrivning=self._bases_in_words(recipient, index) or "",
                               belopp=self.allocation.totals[index], varav=False, rubrik=False)

    def _summary(self) -> SimpleNamespace:
        """The decision document's table: areas with "varav" lines for their posts, or one row per recipient."""
        allocation = self.allocation
        rows = []
        if len(allocation.posts) == 1:
            return SimpleNamespace(rubriker=["Mottagare", self._basis_heading(), "Belopp, kr"],
                                   rader=LazyList(len(self.case.recipients), self._summary_row),
                                   summa=allocation.total, per_mottagare=True)
        for area, results in area_groups(allocation):
            if area is None or len(results) == 1:
                for result in results:
                    text = f"{area}: {result.post.name}" if area and area != result.post.name else result.post.name
                    rows.append(SimpleNamespace(text=text, beskrivning=self._post_words(result),
                                                belopp=result.amount, varav=False, rubrik=False))
                continue
            rows.append(SimpleNamespace(text=area, beskrivning="", belopp=sum(r.amount for r in results),
                                        varav=False, rubrik=True))
            for result in results:
                rows.append(SimpleNamespace(text=f"varav {result.post.name}", beskrivning=self._post_words(result),
                                            belopp=result.amount, varav=True, rubrik=False))
        heading = "Område och post" if any(r.post.area for r in allocation.posts) else "Post"
        return SimpleNamespace(rubriker=[heading, "Fördelning", "Belopp, kr"], rader=rows, summa=allocation.total,
                               per_mottagare=False)


def context_names(letter: bool) -> set[str]:
    """The top-level names a template may use (``mottagare`` only in letters and e-mail)."""
    names = {"arende", "falt", "summa", "poster", "omraden", "grupper", "alla_mottagare", "antal_mottagare",
             "antal_brev", "avstar", "texter", "ovriga_texter", "beslutspunkter", "sammanstallning", "bilaga",
             "dagens_datum"}
    return names | set(LETTER_ONLY) if letter else names


def attribute_names() -> set[str]:
    """Every attribute name the context's objects have, for "Menade du …?" suggestions."""
    return {"rubrik", "diarienummer", "datum", "sista_dag", "avsandare", "avdelning", "namnd", "handlaggare", "telefon",
            "e_post", "undertecknare", "undertecknarens_titel", "fakturaadress", "faktura_e_post", "fakturareferens",
            "overenskommelse", "amne", "ar", "medel_att_fordela", "overfort_fran_tidigare_ar", "avrundning", "nyckel",
            "namn", "belopp", "metod", "omrade", "beskrivning", "nyckel_i_ord", "per_enhet", "per_enhet_i_ord",
            "antal_mottagare", "nummer", "grupp", "deltar", "adresser", "poster", "underlag", "kolumner",
            "underlag_i_ord", "antal", "mottagare", "text", "varav", "rader", "rubriker", "i_brevet", "fotnot",
            "underlag_rubrik", "per_mottagare", "titel", "forklaring", "avsnitt", "kolumn", "vikt"}
