"""``processor omfordela``: a later round, where the money recipients decline is shared again among those who stay.

The round starts from a run folder, or from an earlier round's folder, and its ledger: who declines
(``Avstår`` = ``Ja``; with ``--ej-rekvirerat``, after ``Sista dag``, everyone who has invoiced nothing), which
post takes the pools with nobody left (``--till``). The pure engine (``processor.reallocate``) shares the money;
this module checks everything first (all problems at once, nothing written), then writes a new folder beside
the one it starts from, built hidden and renamed into place like every run folder: ``fordelning.json`` with the
round's figures, the appendix with *Tidigare*, *Tillägg* and *Nytt belopp*, the amended decision, a letter and an
e-mail to each recipient who gains, the report, the ledger carried over, the manifest. The folder it starts from
is never changed.

A round's ``fordelning.json`` keeps the first round's shape (the workbook's ``participates``, every first-round
member of a post in its ``amounts``, a declining one with 0), so the next round reads the first round's exact
shares from it; ``declined_round`` marks who has declined and in which round.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

from processor import describe, formats
from processor.case_folder import open_case_folder
from processor.checksums import Checksums, file_sha256, write_hashed
from processor.context import ContextBuilder, LazyList, Shape, context_names, large_amount
from processor.errors import InputError, Problem, TemplateInputError
from processor.followup import LedgerEntry
from processor.layout import LEDGER_FILE, MANIFEST_FILE, RunLayout, round_folder_stem
from processor.model import FAST, KEY, Allocation, Case, PostResult
from processor.presentation import Presentation, RoundFigures, present
from processor.reallocate import PostRedistribution, Redistribution, can_receive, redistribute
from processor.swedish import did_you_mean, norm
from processor.vocabulary import COMMITTEE, DEADLINE, DEPARTMENT

ROUND_DECISION_TEMPLATE = "tillaggsbeslut.docx"
ROUND_LETTER_TEMPLATE = "tillaggsbrev.docx"
ROUND_BODY_TEMPLATE = "tillagg-epost.txt"
ROUND_TEMPLATES = (ROUND_DECISION_TEMPLATE, ROUND_LETTER_TEMPLATE, ROUND_BODY_TEMPLATE)
SUBJECT_PREFIX = "Tillägg: "
DECLINES = "avstår"
NOT_INVOICED = "har inte rekvirerat före sista dag"

ROUND_SHAPE = Shape(("omgang", "datum", "foregaende", "avstar", "frigjort", "regel", "poster", "rader",
                     "tidigare_summa", "tillagg_summa", "antal_med_tillagg", "ej_fordelat", "ej_fordelat_nu",
                     "till_post"))
DECLINER_SHAPE = Shape(("namn", "belopp", "skal"))
ROUND_POST_SHAPE = Shape(("namn", "frigjort", "fordelat", "mottog", "regel"))
ROUND_ROW_SHAPE = Shape(("namn", "tidigare", "tillagg", "nytt_belopp", "avstar"))
ADDITION_SHAPE = Shape(("tidigare", "tillagg", "nytt_belopp"))
ROUND_NAMES = {"omfordelning"}
ROUND_LETTER_NAMES = {"omfordelning", "tillagg"}
REPORT_FIELDS = (COMMITTEE, DEPARTMENT)
"""The Ärende fields a round reads from the first round's report when ``fordelning.json`` lacks them (a folder from
before it kept them)."""


class RoundError(InputError):
    """The round cannot be made (exit status 2): every problem, each with its place."""

    def report_lines(self) -> list[str]:
        return [f"Omfördelningen kan inte göras: {len(self.problems)} fel att rätta.", *(f"  {p}" for p in self.problems)]


@dataclass(frozen=True)
class Decliner:
    """A recipient whose money this round frees, and why: it declines, or it has not invoiced by ``Sista dag``."""

    index: int
    name: str
    freed: int
    not_invoiced: bool = False


@dataclass(frozen=True)
class RoundPlan:
    """Everything a round needs, checked: the folder it starts from, the case as the first round split it,
    the ledger, who declines, and the engine's redistribution."""

    source: Path
    document: dict
    number: int
    case: Case
    """The case as the first round split it (the workbook's ``participates``, the first round's post members)."""
    allocation: Allocation
    """The folder's allocation, what everyone holds before this round."""
    entries: list[LedgerEntry]
    redistribution: Redistribution
    declined: frozenset[int]
    """Everyone declined in any round, this one included."""
    decliners: tuple[Decliner, ...]
    """Who declines in this round, in workbook order."""
    today: dt.date
    case_id: str
    """The case's identity, carried into every round (a first folder from before it had one: its result's SHA-256)."""
    warnings: list[Problem] = field(default_factory=list)

    @property
    def gainers(self) -> list[int]:
        """The recipients whose amount grows, in workbook order: they get a letter and an e-mail."""
        return [i for i, added in enumerate(self.redistribution.additions) if added > 0]

    @property
    def freed(self) -> int:
        return sum(d.freed for d in self.decliners)

    @property
    def unallocated_now(self) -> int:
        """Kronor this round leaves with no one (pools with nobody left and no ``--till``)."""
        return self.redistribution.unallocated - self.redistribution.unallocated_before

    def figures(self) -> RoundFigures:
        return RoundFigures(self.number, self.redistribution.previous, self.redistribution.additions, self.declined,
                            self.redistribution.unallocated)

    def allocation_after(self) -> Allocation:
        """The round as an allocation: each post's holdings, a declining first-round member kept with 0."""
        posts = []
        for before, after in zip(self.allocation.posts, self.redistribution.posts):
            shares = {i: after.holdings.get(i, 0) for i in sorted({*before.shares, *after.holdings})}
            amount = sum(shares.values())
            posts.append(PostResult(before.post, amount, shares, self._per_unit(before, shares, amount)))
        return Allocation(self.allocation.total, tuple(posts), self.redistribution.totals)

    def _per_unit(self, before: PostResult, shares: dict[int, int], amount: int) -> Fraction | None:
        """Kronor per unit of a one-column key among those who still hold money in the post."""
        post = before.post
        if before.per_unit is None or post.method != KEY or len(post.key) != 1:
            return None
        column = post.key[0].column
        units = sum((Fraction(self.case.recipients[i].bases.get(column, 0)) for i, held in shares.items() if held),
                    Fraction(0))
        return Fraction(amount) / units if units else None

    def view(self) -> Presentation:
        return present(self.case, self.allocation_after(), self.figures())

    def result(self, previous_manifest: str | None) -> dict:
        """The round's ``fordelning.json``: the first round's schema and the round's own keys."""
        from processor.result import result_document

        document = result_document(self.case, self.allocation_after(), self.case_id)
        document["case"] = self.document.get("case", {})
        document["warnings"] = [str(w) for w in self.warnings]
        rounds = {i: r["declined_round"] for i, r in enumerate(self.document["recipients"]) if "declined_round" in r}
        rounds.update({d.index: self.number for d in self.decliners})
        for i, recipient in enumerate(document["recipients"]):
            recipient["previous_total"] = self.redistribution.previous[i]
            recipient["addition"] = self.redistribution.additions[i]
            if i in rounds:
                recipient["declined_round"] = rounds[i]
        return {"round": self.number, "date": self.today.isoformat(),
                "previous": {"folder": self.source.name, "manifest_sha256": previous_manifest},
                **document, "unallocated": self.redistribution.unallocated}


# --- checking ---------------------------------------------------------------------------------

def plan_round(run_dir: Path, today: dt.date, *, not_invoiced: bool = False, to_post: str | None = None) -> RoundPlan:
    """Read and check the folder, its ledger and the options; → the round, shared by the engine.

    RoundError with every problem (nothing declined, ``--ej-rekvirerat`` before ``Sista dag``, an unknown
    ``--till`` post or one with nobody left, the ledger open or broken) before anything is written.
    """
    from processor.ledger import refuse_if_open

    run_dir = Path(run_dir)
    try:
        folder = open_case_folder(run_dir)
        document = json.loads(folder.layout.result.read_text(encoding="utf-8"))
        case, allocation = _case_with_bases(document, folder.layout)
    except InputError as error:
        raise RoundError(error.problems) from None
    problems: list[Problem] = []
    try:
        refuse_if_open(folder.layout)
    except InputError as error:
        problems += error.problems
    entries: list[LedgerEntry] | None = None
    warnings: list[Problem] = []
    try:
        entries, warnings = folder.read_ledger(today)
    except InputError as error:
        problems += error.problems
    deadline = folder.deadline
    if not_invoiced and (deadline is None or today <= deadline):
        problems.append(_too_early(deadline))
    target = _post_index(case, to_post, problems) if to_post is not None else None
    earlier = {i for i, r in enumerate(document["recipients"]) if "declined_round" in r}
    decliners: list[Decliner] = []
    declined = set(earlier)
    late = not_invoiced and deadline is not None and today > deadline
    if entries is not None:
        for i, entry in enumerate(entries):
            out = entry.declined or (late and entry.requested == 0 and allocation.totals[i] > 0)
            if out:
                declined.add(i)
                if i not in earlier and allocation.totals[i] > 0:
                    decliners.append(Decliner(i, entry.name, allocation.totals[i], not entry.declined))
        if not decliners:
            problems.append(_nothing_declined(late))
    if target is not None and not can_receive(case, target, declined):
        problems.append(Problem("--till", f'posten "{case.posts[target].name}" har ingen mottagare kvar som kan ta emot '
                                          "pengarna: alla i posten har avstått. Ange en annan post, eller utelämna "
                                          "--till så att pengarna redovisas som ej fördelade och betalas tillbaka."))
    if problems:
        raise RoundError(problems)
    redistribution = redistribute(case, [dict(p.shares) for p in allocation.posts], declined, target,
                                  document.get("unallocated", 0))
    return RoundPlan(run_dir, document, document.get("round", 1) + 1, case, allocation, entries, redistribution,
                     frozenset(declined), tuple(decliners), today, folder.case_id, warnings)


def _case_with_bases(document: dict, layout: RunLayout) -> tuple[Case, Allocation]:
    """The case and allocation of the folder, with the key bases from ``fordelning.json``, or else (a folder from
    before they were kept there) from its report's embedded data."""
    from processor.report import read_embedded_data
    from processor.result import read_back

    if all("bases" in r for r in document["recipients"]) or not any(p["key"] for p in document["posts"]):
        case, allocation = read_back(document, [], [])
    else:
        extras = read_embedded_data(layout.report)
        case, allocation = read_back(document, extras.get("basis_columns") or [], extras.get("bases") or [])
    return _with_report_fields(case, layout), allocation


def _with_report_fields(case: Case, layout: RunLayout) -> Case:
    """The case with ``Nämnd`` and ``Avdelning`` from the fields the report shows, for a folder whose
    ``fordelning.json`` is from before it kept them; the report is not read when it has them both."""
    from processor.report import read_embedded_data

    if all(name in case.info.fields for name in REPORT_FIELDS):
        return case
    try:
        shown = dict(read_embedded_data(layout.report).get("fields") or [])
    except (InputError, TypeError, ValueError):
        return case
    found = {name: shown[name] for name in REPORT_FIELDS
             if isinstance(shown.get(name), str) and shown[name] and name not in case.info.fields}
    if not found:
        return case
    return dataclasses.replace(case, info=dataclasses.replace(case.info, fields={**case.info.fields, **found}))


def _post_index(case: Case, name: str, problems: list[Problem]) -> int | None:
    """The post ``--till`` names (compared without case), or a problem with a "Menade du …?"."""
    names = [p.name for p in case.posts]
    found = [i for i, p in enumerate(names) if norm(p) == norm(name)]
    if found:
        return found[0]
    problems.append(Problem("--till", f'"{name}" är ingen post i ärendet.{did_you_mean(name, names)} Ange namnet på en '
                                      f"post som det står i Fördelning: {', '.join(names)}."))
    return None


def _too_early(deadline: dt.date | None) -> Problem:
    if deadline is None:
        return Problem("--ej-rekvirerat", f'ärendet har ingen "{DEADLINE}", så ingen kan räknas som att den inte har '
                                          "rekvirerat i tid. Ta bort --ej-rekvirerat och skriv Ja i Avstår för dem som "
                                          "avstår.")
    return Problem("--ej-rekvirerat", f"sista dag att rekvirera är {formats.long_date(deadline)}, så den som inte har "
                                      "rekvirerat än har fortfarande tid. Vänta till efter sista dag, eller ta bort "
                                      "--ej-rekvirerat och skriv Ja i Avstår för dem som har avstått.")


def _nothing_declined(late: bool) -> Problem:
    """Nothing to share; with ``--ej-rekvirerat`` after ``Sista dag`` (``late``) everyone with money has invoiced too."""
    extra = " och alla med pengar har rekvirerat något" if late else ""
    return Problem(f"{LEDGER_FILE} Uppföljning", "ingen avstår några pengar: ingen mottagare med pengar har Ja i "
                                                 f"kolumnen Avstår{extra}, så det finns inget att fördela om. Skriv Ja i "
                                                 "Avstår för varje mottagare som avstår, spara filen och kör igen.")


# --- what the templates see ---------------------------------------------------------------------

class RoundContexts:
    """The amended decision's and each letter's context: the first round's names, the round's own, and for a letter
    ``tillagg`` (docs/mallar.md, "Omfördelningen")."""

    def __init__(self, plan: RoundPlan, view: Presentation):
        self.plan = plan
        self.builder = ContextBuilder(view, plan.today)
        self.round = self._round(view)

    def decision(self) -> dict:
        return {**self.builder.decision(), "omfordelning": self.round, "beslutspunkter": self._decision_points()}

    def letter(self, index: int) -> dict:
        redistribution = self.plan.redistribution
        addition = ADDITION_SHAPE.make(tidigare=redistribution.previous[index], tillagg=redistribution.additions[index],
                                       nytt_belopp=redistribution.totals[index])
        return {**self.builder.letter(index), "omfordelning": self.round, "beslutspunkter": self._decision_points(),
                "tillagg": addition}

    def _round(self, view: Presentation) -> SimpleNamespace:
        """``omfordelning``: the round's facts from the plan, its table from the presentation (as every writer's)."""
        plan, redistribution, figures = self.plan, self.plan.redistribution, view.round
        posts = [ROUND_POST_SHAPE.make(namn=p.post.name, frigjort=p.freed, fordelat=p.shared, mottog=p.received,
                                       regel=_post_rule(p))
                 for p in redistribution.posts if p.freed or p.received]
        rows = LazyList(len(view.case.recipients), lambda i: ROUND_ROW_SHAPE.make(
            namn=view.case.recipients[i].name, tidigare=figures.previous[i], tillagg=figures.additions[i],
            nytt_belopp=view.allocation.totals[i], avstar=not view.case.recipients[i].participates))
        target = redistribution.to_post
        return ROUND_SHAPE.make(
            omgang=figures.number, datum=plan.today, foregaende=plan.source.name,
            avstar=[DECLINER_SHAPE.make(namn=d.name, belopp=d.freed, skal=NOT_INVOICED if d.not_invoiced else DECLINES)
                    for d in plan.decliners],
            frigjort=plan.freed, regel=describe.redistribution_rule(plan.case.info.rounding), poster=posts, rader=rows,
            tidigare_summa=sum(figures.previous), tillagg_summa=sum(figures.additions),
            antal_med_tillagg=len(plan.gainers), ej_fordelat=figures.unallocated,
            ej_fordelat_nu=plan.unallocated_now, till_post=plan.case.posts[target].name if target is not None else "")

    def _decision_points(self) -> list[str]:
        """The amended decision's points: share what is freed, repay what no one can take, pay out the additions."""
        plan = self.plan
        committee = plan.case.info.fields.get(COMMITTEE) or "Nämnden"
        shared = sum(plan.redistribution.additions)
        points = []
        if shared:
            points.append(f"{committee} godkänner att {formats.kronor(shared)} av de medel {self._whose()} fördelas "
                          f"på övriga mottagare enligt bilaga 1, så att den nya fördelningen blir "
                          f"{large_amount(sum(plan.redistribution.totals))}.")
        if plan.unallocated_now:
            points.append(f"{committee} beslutar att {formats.kronor(plan.unallocated_now)} som ingen mottagare kan ta "
                          "emot inte fördelas, utan betalas tillbaka till den som beviljade medlen.")
        if shared:
            points.append(f"{committee} beslutar att delegera till förvaltningschefen att betala ut tilläggen enligt "
                          "den nya fördelningen.")
        return points

    def _whose(self) -> str:
        """``som Nykvarn avstår``, ``som Avesta inte har rekvirerat före sista dag``, or both joined."""
        declining = [d.name for d in self.plan.decliners if not d.not_invoiced]
        late = [d.name for d in self.plan.decliners if d.not_invoiced]
        parts = ([f"som {describe.names_in_words(declining)} {DECLINES}"] if declining else []) + (
            [f"som {describe.names_in_words(late)} inte har rekvirerat före sista dag"] if late else [])
        return " och ".join(parts)


def _post_rule(post: PostRedistribution) -> str:
    """How a post's freed money is shared, in words; a post with nobody left shares nothing."""
    if post.nobody_left and post.post.method != FAST:
        return "ingen mottagare finns kvar i posten"
    return describe.redistribution_in_words(post.post)


# --- the documents ------------------------------------------------------------------------------

@dataclass
class RoundDocuments:
    """The round's checked templates and its rendered decision, letters and e-mail bodies, made before writing."""

    decision: bytes
    letters: dict[int, bytes]
    bodies: dict[int, str]


def render_round_documents(plan: RoundPlan, view: Presentation, cwd: Path | None = None) -> RoundDocuments:
    """Every round template found and checked strictly, and everything rendered in memory; TemplateInputError with
    every template problem, before anything is written."""
    from processor.documents import WordTemplate
    from processor.mail import tidy_body
    from processor.template_files import TemplateSet
    from processor.sandbox import word_environment

    templates = TemplateSet.for_run_folder(plan.case, cwd)
    contexts = RoundContexts(plan, view)
    env = word_environment()
    problems: list[Problem] = []
    loaded: dict[str, WordTemplate] = {}
    for name, letter, extra in ((ROUND_DECISION_TEMPLATE, False, ROUND_NAMES),
                                (ROUND_LETTER_TEMPLATE, True, ROUND_LETTER_NAMES)):
        try:
            template = WordTemplate(templates.find(name), env)
            template.check(letter, context_names(letter) | extra)
            loaded[name] = template
        except InputError as error:
            problems += error.problems
    allowed = context_names(True) | ROUND_LETTER_NAMES
    try:
        templates.text_template(ROUND_BODY_TEMPLATE, allowed)
    except InputError as error:
        problems += error.problems
    if problems:
        raise TemplateInputError(problems)
    decision = loaded[ROUND_DECISION_TEMPLATE].render(contexts.decision())
    letters, bodies = {}, {}
    for i in plan.gainers:
        context = contexts.letter(i)
        letters[i] = loaded[ROUND_LETTER_TEMPLATE].render(context)
        bodies[i] = tidy_body(templates.render_text(ROUND_BODY_TEMPLATE, context, allowed))
    return RoundDocuments(decision, letters, bodies)


# --- writing ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoundResult:
    """What a round made: its folder, the plan it followed, the files written, the e-mails in its outbox."""

    folder: Path
    plan: RoundPlan
    files: list[str]
    mailed: list[int]


def second_round(run_dir: Path, today: dt.date, *, not_invoiced: bool = False, to_post: str | None = None,
                 out_dir: Path | None = None, now: dt.datetime | None = None, cwd: Path | None = None) -> RoundResult:
    """Make the next round from ``run_dir``: check everything, then write its folder beside ``run_dir`` (or in
    ``out_dir``) whole or not at all. ``run_dir`` is never changed."""
    from processor.appendix import appendix_attached, appendix_xlsx
    from processor.ledger import ALLOCATED, DECLINED, update_ledger
    from processor.manifest import manifest_json
    from processor.report import write_report
    from processor.rundir import atomic_run_dir, check_complete

    plan = plan_round(run_dir, today, not_invoiced=not_invoiced, to_post=to_post)
    view = plan.view()
    documents = render_round_documents(plan, view, cwd)
    source = plan.source
    manifest = source / MANIFEST_FILE
    previous_manifest = file_sha256(manifest) if manifest.is_file() else None
    result = plan.result(previous_manifest)
    appendix = appendix_xlsx(view)
    now = now or dt.datetime.now().astimezone()
    names = [r.name for r in plan.case.recipients]
    out_dir = Path(out_dir).absolute() if out_dir is not None else source.absolute().parent
    after = [dataclasses.replace(entry, allocated=total, declined=entry.declined or i in plan.declined)
             for i, (entry, total) in enumerate(zip(plan.entries, plan.redistribution.totals))]
    with atomic_run_dir(out_dir, round_folder_stem(source.name), now) as run:
        layout = RunLayout.for_recipients(run.path, names)
        checksums = Checksums(layout.root)
        checksums.add(layout.result, write_hashed(layout.result, [_json(result)]))
        checksums.add(layout.appendix, write_hashed(layout.appendix, [appendix]))
        shutil.copy2(source / LEDGER_FILE, layout.ledger)
        update_ledger(layout, plan.entries, after, (ALLOCATED, DECLINED), keep_previous=False)
        checksums.add(layout.ledger, file_sha256(layout.ledger))
        checksums.add(layout.round_decision, write_hashed(layout.round_decision, [documents.decision]))
        mailed = _write_letters_and_mail(plan, layout, documents, checksums, appendix if appendix_attached(plan.case)
                                         else None, now)
        checksums.add(*write_report(view.case, view.allocation, layout.root, checksums, created=now, result=result))
        manifest_bytes = manifest_json(Path(source.name), previous_manifest or "", [str(w) for w in plan.warnings], now,
                                       checksums)
        checksums.add(layout.manifest, write_hashed(layout.manifest, [manifest_bytes]))
        files = sorted(entry.path for entry in check_complete(layout.root, checksums))
    return RoundResult(run.final, plan, files, mailed)


def _write_letters_and_mail(plan: RoundPlan, layout: RunLayout, documents: RoundDocuments, checksums: Checksums,
                            appendix: bytes | None, now: dt.datetime) -> list[int]:
    """A letter to each recipient who gains, and an e-mail with it to each of them with an address; → who is mailed."""
    from processor.mail import APPENDIX_NAME, attachment_part, message_parts, sender_of, subject_for

    sender, sender_name = sender_of(plan.case)
    layout.letters.mkdir()
    mailed = [i for i in plan.gainers if sender and plan.case.recipients[i].emails]
    if mailed:
        layout.outbox.mkdir()
    shared = [attachment_part(appendix, APPENDIX_NAME)] if appendix is not None else []
    for i in plan.gainers:
        letter = layout.letter(i)
        checksums.add(letter, write_hashed(letter, [documents.letters[i]]))
        if i in mailed:
            recipient = plan.case.recipients[i]
            parts = message_parts(sender=sender, sender_name=sender_name, to=recipient.emails,
                                  subject=SUBJECT_PREFIX + subject_for(plan.case, recipient), body=documents.bodies[i],
                                  attachments=[attachment_part(documents.letters[i], letter.name), *shared], date=now)
            checksums.add(layout.message(i), write_hashed(layout.message(i), parts))
    return mailed


def _json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def round_lines(result: RoundResult) -> list[str]:
    """What ``processor omfordela`` prints: who declines, who gains, what stays unallocated, where the folder is."""
    from processor.mail import sender_of

    plan = result.plan
    redistribution = plan.redistribution

    def kr(value: int) -> str:
        return formats.kronor(value, nbsp=False)

    lines = [f"Omfördelning, omgång {plan.number}, från {plan.source.name}:"]
    lines += [f"  {d.name} {NOT_INVOICED if d.not_invoiced else DECLINES}: {kr(d.freed)} frigörs." for d in plan.decliners]
    lines += [f"  {plan.case.recipients[i].name}: {kr(redistribution.previous[i])} + {kr(redistribution.additions[i])} "
              f"= {kr(redistribution.totals[i])}" for i in plan.gainers]
    if plan.gainers:
        lines.append(f"{kr(plan.freed)} frigörs; {kr(sum(redistribution.additions))} fördelas på "
                     f"{len(plan.gainers)} mottagare.")
    else:
        lines.append(f"{kr(plan.freed)} frigörs; ingen mottagare kan ta emot dem.")
    if redistribution.unallocated:
        lines.append(f"Ej fördelat: {kr(redistribution.unallocated)}, att betala tillbaka till den som beviljade medlen.")
    unmailed = [plan.case.recipients[i].name for i in plan.gainers if i not in result.mailed]
    if unmailed and not sender_of(plan.case)[0]:
        lines.append("Inga e-postmeddelanden: ärendet har ingen avsändaradress (E-post). Skicka breven på annat sätt.")
    elif unmailed:
        lines.append(f"Inget e-postmeddelande (ingen adress): {', '.join(unmailed)}.")
    if not plan.gainers:
        return [*lines, f"Klart: {len(result.files)} filer. Ingen får ett tillägg, så det finns inget att skicka.",
                "Granska tillaggsbeslut.docx och rapport.html.", str(result.folder)]
    if not result.mailed:
        return [*lines, f"Klart: {len(result.files)} filer, inga e-postmeddelanden.",
                "Granska tillaggsbeslut.docx och rapport.html och skicka breven i brev/.", str(result.folder)]
    mails = describe.count(len(result.mailed), "e-postmeddelande", "e-postmeddelanden")
    lines += [f"Klart: {len(result.files)} filer, {mails} i utskick/.",
              f"Granska tillaggsbeslut.docx och rapport.html och skicka med: processor send {result.folder}",
              str(result.folder)]
    return lines

