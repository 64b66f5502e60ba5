"""What templates see: the context of the decision document, each letter and each e-mail.

The context uses stable ASCII names (``arende.rubrik``, ``mottagare.belopp``); docs/mallar.md lists
every one of them. Where templates are found is ``template_files``, the sandbox they render in
``sandbox``, and the messages for their mistakes ``template_errors``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace

from processor import formats
from processor.appendix import appendix_attached, appendix_in_letter
from processor.describe import agreement_in_words
from processor.model import CaseInfo
from processor.presentation import PostView, Presentation
from processor.sandbox import empty
from processor.sandbox import plain_value as _plain
from processor.swedish import norm
from processor.vocabulary import AGREEMENT, CASE_FIELDS, CASE_SHEET, COMMITTEE, TEXT_SHEET, YEAR
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

    def __init__(self, values: Mapping[str, object], what: str = 'fältet "{name}" på bladet ' + CASE_SHEET):
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
        self.avsnitt = [SECTION_SHAPE.make(rubrik=h, text=t) for h, t in sections]

    def __getitem__(self, heading):
        found = self._sections.get(section_key(str(heading)))
        return found[1] if found else empty(f'avsnittet "{heading}" på bladet {TEXT_SHEET}', str(heading))

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


@dataclass(frozen=True)
class Shape:
    """One kind of object a template sees and the names it has: the one list of them (docs/mallar.md is checked
    against it). ``open`` shapes take more names than these (``arende`` takes every field of the workbook)."""

    names: tuple[str, ...]
    open: bool = False

    def make(self, lazy: Mapping[str, Callable[[], object]] | None = None, **values) -> SimpleNamespace:
        """The object, with exactly the declared names (lazy ones made when a template reads them)."""
        given = values.keys() | (lazy or {}).keys()
        if not (given >= set(self.names) if self.open else given == set(self.names)):
            raise TypeError(f"context object has {sorted(given)}, its shape {sorted(self.names)}")
        return LazyNamespace(lazy, **values) if lazy else SimpleNamespace(**values)


CASE_SHAPE = Shape(("rubrik", "medel_att_fordela", "overfort_fran_tidigare_ar", "avrundning", "overenskommelse_i_ord",
                    *dict.fromkeys(slug(name) for name in CASE_FIELDS)), open=True)
POST_SHAPE = Shape(("namn", "belopp", "metod", "omrade", "beskrivning", "nyckel_i_ord", "nyckel", "per_enhet",
                    "per_enhet_i_ord", "antal_mottagare"))
KEY_PART_SHAPE = Shape(("kolumn", "vikt"))
AREA_SHAPE = Shape(("namn", "belopp", "poster"))
GROUP_SHAPE = Shape(("namn", "antal", "belopp", "mottagare"))
RECIPIENT_SHAPE = Shape(("namn", "belopp", "nummer", "deltar", "adresser", "poster", "underlag", "kolumner", "grupp",
                         "e_post"))
RECIPIENT_POST_SHAPE = Shape(("namn", "belopp", "metod", "omrade", "beskrivning", "nyckel_i_ord", "underlag_i_ord",
                              "forklaring"))
TEXTS_SHAPE = Shape(("avsnitt",))
SECTION_SHAPE = Shape(("rubrik", "text"))
SUMMARY_SHAPE = Shape(("rubriker", "rader", "summa", "per_mottagare"))
SUMMARY_ROW_SHAPE = Shape(("text", "beskrivning", "belopp", "varav", "rubrik"))
APPENDIX_SHAPE = Shape(("rubrik", "titel", "i_brevet", "bifogas", "fotnot", "underlag_rubrik"))
CONTEXT_SHAPE = Shape(("arende", "falt", "summa", "poster", "omraden", "grupper", "alla_mottagare", "antal_mottagare",
                       "antal_brev", "avstar", "texter", "ovriga_texter", "beslutspunkter", "sammanstallning", "bilaga",
                       "dagens_datum"))
ATTRIBUTE_SHAPES = (CASE_SHAPE, POST_SHAPE, KEY_PART_SHAPE, AREA_SHAPE, GROUP_SHAPE, RECIPIENT_SHAPE,
                    RECIPIENT_POST_SHAPE, TEXTS_SHAPE, SECTION_SHAPE, SUMMARY_SHAPE, SUMMARY_ROW_SHAPE, APPENDIX_SHAPE)


def case_namespace(info: CaseInfo) -> SimpleNamespace:
    """``arende``: every field of the Ärende sheet by its slug, the known ones empty when missing."""
    values: dict[str, object] = {}
    for name, value in info.fields.items():
        key = slug(name)
        if key.isidentifier() and key not in values:
            values[key] = value if value is not None else empty(f'fältet "{name}" på bladet {CASE_SHEET}', key)
    agreement = info.fields.get(AGREEMENT)
    values.update(rubrik=info.title, medel_att_fordela=info.grant, overfort_fran_tidigare_ar=info.carried_over,
                  avrundning=info.rounding,
                  overenskommelse_i_ord=agreement_in_words(str(agreement)) if agreement not in (None, "") else
                  empty(f'fältet "{AGREEMENT}" på bladet {CASE_SHEET}', "overenskommelse_i_ord"))
    for name in CASE_FIELDS:
        values.setdefault(slug(name), empty(f'fältet "{name}" på bladet {CASE_SHEET}', slug(name)))
    return CASE_SHAPE.make(**values)


class ContextBuilder:
    """The values every template sees, made from the run's presentation; letters add their recipient."""

    def __init__(self, view: Presentation, today: dt.date | None = None):
        self.view = view
        self.case = view.case
        self.allocation = view.allocation
        self.today = today or dt.date.today()
        self.columns = list(dict.fromkeys(c for r in self.case.recipients for c in [*r.bases, *r.texts]))
        self.post_views = {p.name: self._post(p) for p in view.posts}
        self.recipients = LazyList(len(self.case.recipients), self._recipient)
        self.common = self._common()

    def letter(self, index: int) -> dict:
        """The context of recipient ``index``'s letter and e-mail: everything plus ``mottagare``."""
        return {**self.common, "mottagare": self._recipient(index)}

    def decision(self) -> dict:
        return dict(self.common)

    def _common(self) -> dict:
        view, case, allocation = self.view, self.case, self.allocation
        texts = Texts(case.texts)
        decision_sections = {section_key(h) for h in DECISION_SECTIONS}
        context = CONTEXT_SHAPE.make(
            arende=case_namespace(case.info),
            falt=Fields(case.info.fields),
            summa=view.allocated_total,
            poster=list(self.post_views.values()),
            omraden=[AREA_SHAPE.make(namn=area.name if area.name else empty("området", "omrade"), belopp=area.amount,
                                     poster=[self.post_views[p.name] for p in area.posts]) for area in view.areas],
            grupper=self._groups(),
            alla_mottagare=self.recipients,
            antal_mottagare=len(case.recipients),
            antal_brev=sum(1 for t in allocation.totals if t > 0),
            avstar=[r.name for r in case.recipients if not r.participates],
            texter=texts,
            ovriga_texter=[s for s in texts.avsnitt if section_key(s.rubrik) not in decision_sections],
            beslutspunkter=self._decision_points(),
            sammanstallning=self._summary(),
            bilaga=APPENDIX_SHAPE.make(rubrik=view.appendix_title, titel=view.appendix_title.removeprefix("Bilaga 1: "),
                                       i_brevet=appendix_in_letter(case),
                                       bifogas=appendix_attached(case),
                                       fotnot=list(view.footnote), underlag_rubrik=view.basis_heading),
            dagens_datum=self.today,
        )
        return vars(context)

    def _post(self, post: PostView) -> SimpleNamespace:
        return POST_SHAPE.make(
            namn=post.name, belopp=post.amount, metod=post.method,
            omrade=post.area or empty(f'området för posten "{post.name}"', "omrade"),
            beskrivning=post.method_words,
            nyckel_i_ord=post.key_words or empty(f'nyckeln för posten "{post.name}"', "nyckel_i_ord"),
            nyckel=[KEY_PART_SHAPE.make(kolumn=p.column, vikt=p.weight) for p in post.key],
            per_enhet=post.per_unit if post.per_unit is not None else empty(f'beloppet per enhet för posten "{post.name}"',
                                                                            "per_enhet"),
            per_enhet_i_ord=post.per_unit_words or empty(f'beloppet per enhet för posten "{post.name}"', "per_enhet_i_ord"),
            antal_mottagare=post.recipient_count,
        )

    def _recipient(self, index: int) -> SimpleNamespace:
        """Recipient ``index`` as templates see it; its texts are made when a template reads them."""
        recipient = self.case.recipients[index]
        view = self.view
        return RECIPIENT_SHAPE.make(
            {"poster": lambda: [self._recipient_post(post, index) for post in view.posts if index in post.shares],
             "underlag": lambda: view.bases_words(index) or "",
             "kolumner": lambda: Fields({**dict.fromkeys(self.columns), **recipient.bases, **recipient.texts},
                                        what=f'kolumnen "{{name}}" för mottagaren "{recipient.name}"'),
             "grupp": lambda: recipient.group or empty(f'gruppen för mottagaren "{recipient.name}"', "grupp"),
             "e_post": lambda: "; ".join(recipient.emails) or empty(f'e-postadressen för mottagaren "{recipient.name}"',
                                                                   "e_post")},
            namn=recipient.name, belopp=self.allocation.totals[index], nummer=index + 1, deltar=recipient.participates,
            adresser=list(recipient.emails),
        )

    def _recipient_post(self, post: PostView, index: int) -> SimpleNamespace:
        """One post in a recipient's letter: the post's own words (made once per post) and the recipient's part."""
        words = self.post_views[post.name]
        part = functools.cache(lambda: self.view.recipient_post(post, index))  # its basis words made once
        return RECIPIENT_POST_SHAPE.make(
            {"underlag_i_ord": lambda: part().share_words or empty(f'underlaget för posten "{post.name}"', "underlag_i_ord"),
             "forklaring": lambda: part().explanation},
            namn=post.name, belopp=post.shares[index], metod=post.method, omrade=words.omrade,
            beskrivning=words.beskrivning, nyckel_i_ord=words.nyckel_i_ord,
        )

    def _groups(self) -> list[SimpleNamespace]:
        groups: dict[str, list[int]] = {}
        for i, recipient in enumerate(self.case.recipients):
            if recipient.group:
                groups.setdefault(recipient.group, []).append(i)
        return [GROUP_SHAPE.make(namn=name, antal=len(members), belopp=sum(self.allocation.totals[i] for i in members),
                                 mottagare=[self.case.recipients[i].name for i in members])
                for name, members in groups.items()]

    def _decision_points(self) -> list[str]:
        """The proposed decisions: approve the distribution, delegate the payments (seeds 001, 002)."""
        info = self.case.info
        committee = info.fields.get(COMMITTEE) or "Nämnden"
        year = info.fields.get(YEAR)
        year_text = f" {_plain(year)}" if year is not None else ""
        amount = large_amount(self.allocation.total)
        return [
            (f"{committee} godkänner förvaltningens förslag till fördelning av stimulansmedel{year_text} "
             f"motsvarande {amount}."),
            (f"{committee} beslutar att delegera till förvaltningschefen att fördela stimulansmedel om {amount} "
             "utifrån den modell som föreslås i detta ärende."),
        ]

    def _summary_row(self, index: int) -> SimpleNamespace:
        return SUMMARY_ROW_SHAPE.make(text=self.case.recipients[index].name, beskrivning=self.view.bases_words(index) or "",
                                      belopp=self.allocation.totals[index], varav=False, rubrik=False)

    def _summary(self) -> SimpleNamespace:
        """The decision document's table: areas with "varav" lines for their posts, or one row per recipient."""
        view = self.view
        if len(view.posts) == 1:
            return SUMMARY_SHAPE.make(rubriker=["Mottagare", view.basis_heading, "Belopp, kr"],
                                      rader=LazyList(len(self.case.recipients), self._summary_row),
                                      summa=self.view.allocated_total, per_mottagare=True)
        rows = []
        for area in view.areas:
            if area.name is None or len(area.posts) == 1:
                for post in area.posts:
                    text = f"{area.name}: {post.name}" if area.name and area.name != post.name else post.name
                    rows.append(SUMMARY_ROW_SHAPE.make(text=text, beskrivning=post.summary_words, belopp=post.amount,
                                                       varav=False, rubrik=False))
                continue
            rows.append(SUMMARY_ROW_SHAPE.make(text=area.name, beskrivning="", belopp=area.amount, varav=False,
                                               rubrik=True))
            for post in area.posts:
                rows.append(SUMMARY_ROW_SHAPE.make(text=f"varav {post.name}", beskrivning=post.summary_words,
                                                   belopp=post.amount, varav=True, rubrik=False))
        heading = "Område och post" if any(p.area for p in view.posts) else "Post"
        return SUMMARY_SHAPE.make(rubriker=[heading, "Fördelning", "Belopp, kr"], rader=rows,
                                  summa=self.view.allocated_total, per_mottagare=False)


def context_names(letter: bool) -> set[str]:
    """The top-level names a template may use (``mottagare`` only in letters and e-mail)."""
    names = set(CONTEXT_SHAPE.names)
    return names | set(LETTER_ONLY) if letter else names


def attribute_names() -> set[str]:
    """Every attribute name the context's objects have, for "Menade du …?" suggestions."""
    return {name for shape in ATTRIBUTE_SHAPES for name in shape.names}
