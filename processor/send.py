"""Deliver a run's outbox over SMTP, once per recipient, recording each delivery as it happens.

The journal ``utskick/skickat.jsonl`` gets one line per accepted delivery, written and
fsynced the moment the server accepts the message, so a second ``send`` skips what went out
and a run cut short picks up where it stopped. The only message that can go out twice is the
one in flight when the process died: accepted by the server but not yet written down.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import smtplib
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from processor.errors import InputError, Problem
from processor.journal import Journal, JournalBusy, MessageHeaders, delivered_to, read_journal
from processor.layout import MESSAGE_SUFFIX, OUTBOX_DIR, RunLayout
from processor.smtp import Refused, SendError, connect, transmit
from processor.smtp_settings import SmtpSettings

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DATE_HEADER = re.compile(rb"^Date:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", re.IGNORECASE | re.MULTILINE)
_MESSAGE_ID_HEADER = re.compile(rb"^Message-ID:", re.IGNORECASE | re.MULTILINE)

Progress = Callable[[str], None]


# --- the options of a send ----------------------------------------------------------------------

def check_options(bcc: str | None, rate: float | None) -> None:
    """The archive address and the rate limit, checked before anything is sent."""
    problems = []
    if bcc is not None and not _ADDRESS.match(bcc):
        problems.append(Problem("--bcc", f'"{bcc}" är ingen e-postadress. Ange arkivadressen, t.ex. arkiv@kommun.se.'))
    if rate is not None and not rate > 0:
        problems.append(Problem("--rate", "takten ska vara ett tal större än 0 (meddelanden per minut), t.ex. 30."))
    if problems:
        raise InputError(problems)


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try again: after a temporary refusal (4xx) and after a dropped connection."""

    attempts: int = 5
    first_delay: float = 15.0
    factor: float = 2.0
    reconnects: int = 3

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row: 15, 30, 60 …"""
        return self.first_delay * self.factor ** (failures - 1)


# --- the outbox and its journal -----------------------------------------------------------------

@dataclass(frozen=True)
class Outgoing:
    """One ``.eml`` of the outbox and who has had it already (according to the journal)."""

    path: Path
    message_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    delivered: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.path.name

    def pending(self, bcc: str | None = None) -> list[str]:
        """Envelope recipients still to send to; the archive copy only goes with a real delivery."""
        left = [a for a in self.to if a.lower() not in self.delivered]
        if left and bcc and bcc.lower() not in self.delivered and bcc.lower() not in {a.lower() for a in left}:
            left.append(bcc)
        return left

    def data(self, now: dt.datetime | None = None) -> bytes:
        """The file as sent: CRLF line ends even if an editor changed them, dated ``now`` (the moment of
        sending, so mail reviewed for a week does not arrive dated a week back), with a Message-ID if it
        had none. The file itself is left as it is: the journal knows a message by its file name.
        """
        data = re.sub(rb"\r?\n", b"\r\n", self.path.read_bytes())
        end = data.find(b"\r\n\r\n") + 2
        head, body = (data[:end], data[end:]) if end >= 2 else (data, b"")
        date = f"Date: {format_datetime(now or dt.datetime.now().astimezone())}\r\n".encode("ascii")
        head, dated = _DATE_HEADER.subn(lambda match: date, head, count=1)
        if not dated:
            head += date
        if not _MESSAGE_ID_HEADER.search(head):
            head += f"Message-ID: {self.message_id}\r\n".encode("ascii")
        return head + body


def lasting_message_id(name: str, headers: MessageHeaders) -> str:
    """A Message-ID for a message that has none, the same at every ``send`` (a retry is the same message)."""
    key = "\n".join([name, *headers.senders, *headers.to, headers.subject]).encode("utf-8")
    domain = headers.senders[0].rpartition("@")[2] if headers.senders else "processor.invalid"
    return f"<{hashlib.sha256(key).hexdigest()[:32]}@{domain}>"


def outbox_dir(run_dir: Path) -> Path:
    """The run folder's ``utskick/``; an input error when there is none."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError([Problem(str(run_dir), "körmappen finns inte. Ange mappen som processor run skrev ut på sista raden.")])
    folder = RunLayout(run_dir).outbox
    if not folder.is_dir():
        raise InputError([Problem(str(run_dir), "körmappen har inget utskick (mappen utskick saknas). Fyll i E-post för "
                                                "avsändaren och mottagarna i arbetsboken och kör processor run igen.")])
    return folder


def read_outbox(run_dir: Path) -> list[Outgoing]:
    """Every ``utskick/*.eml`` in name order, with what the journal says was delivered."""
    layout = RunLayout(outbox_dir(run_dir).parent)
    journal = read_journal(layout.journal)
    messages, problems = [], []
    for path in sorted(layout.outbox.glob(f"*{MESSAGE_SUFFIX}")):
        headers = MessageHeaders.read(path)
        if len(headers.senders) != 1 or not headers.to:
            problems.append(Problem(f"{OUTBOX_DIR}/{path.name}", "meddelandet saknar avsändare (From) eller mottagare (To). "
                                                                "Kör processor run igen för ett nytt utskick."))
            continue
        message_id = headers.message_id or lasting_message_id(path.name, headers)
        messages.append(Outgoing(path, message_id, headers.senders[0], headers.to, headers.subject,
                                 frozenset(delivered_to(journal.get(path.name, [])))))
    if problems:
        raise InputError(problems)
    return messages


# --- the batch ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """A message (or some of its recipients) not delivered in this run."""

    file: str
    recipients: tuple[str, ...]
    answer: str
    permanent: bool


@dataclass
class SendResult:
    """What a ``send`` did: messages in the outbox, sent before, delivered now, not delivered."""

    total: int
    already: int
    delivered: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    stopped: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and self.stopped is None

    @property
    def left(self) -> int:
        """Messages not (wholly) delivered yet: what the next ``send`` goes on with."""
        return self.total - self.already - len(self.delivered)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during ``send``: what had been done by then (every delivery is in the journal)."""

    def __init__(self, result: SendResult):
        super().__init__()
        self.result = result


class RateLimiter:
    """At most ``per_minute`` transactions a minute, evenly spaced (Microsoft 365: 30)."""

    def __init__(self, per_minute: float | None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


class ConnectionLost(Exception):
    """The connection dropped and could not be made again within the retry policy."""


class Batch:
    """Sends one message after another over one connection, reconnecting when it drops."""

    def __init__(self, settings: SmtpSettings, journal: Journal, retry: RetryPolicy, limiter: RateLimiter,
                 sleep: Callable[[float], None], progress: Progress):
        self.settings, self.journal, self.retry = settings, journal, retry
        self.limiter, self.sleep, self.progress = limiter, sleep, progress
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        self.smtp = connect(self.settings)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def send(self, outgoing: Outgoing, bcc: str | None, label: str) -> list[Failure]:
        """Deliver one message to its pending recipients; the failures left when done trying."""
        pending, failures, attempt = outgoing.pending(bcc), [], 0
        data = outgoing.data()
        while pending:
            attempt += 1
            self.limiter.wait()
            try:
                accepted, refused, answer = self._transmit(outgoing, pending, data, label)
            except Refused as refusal:
                accepted, refused, answer = [], {a: (refusal.code, refusal.answer) for a in pending}, ""
            if accepted:
                self.journal.record(outgoing.name, outgoing.message_id, accepted, answer)
                self.progress(f"{label} {outgoing.name} → {', '.join(accepted)}: skickat ({answer})")
            permanent = {a: r for a, r in refused.items() if r[0] >= 500}
            for address, (_, text) in permanent.items():
                self.progress(f"{label} {outgoing.name} → {address}: nekat ({text})")
                failures.append(Failure(outgoing.name, (address,), text, permanent=True))
            pending = [a for a, r in refused.items() if r[0] < 500]
            if pending and attempt >= self.retry.attempts:
                text = refused[pending[0]][1]
                self.progress(f"{label} {outgoing.name} → {', '.join(pending)}: ger upp efter {attempt} försök ({text})")
                failures.append(Failure(outgoing.name, tuple(pending), text, permanent=False))
                pending = []
            elif pending:
                delay = self.retry.delay(attempt)
                self.progress(f"{label} {outgoing.name}: tillfälligt fel ({refused[pending[0]][1]}), försöker igen "
                              f"om {delay:g} s (försök {attempt + 1} av {self.retry.attempts})")
                self.sleep(delay)
        return failures

    def _transmit(self, outgoing: Outgoing, recipients: list[str], data: bytes, label: str):
        """``transmit`` over a live connection; when the line drops, connect again at once, then with back-off."""
        drops = 0
        while True:
            try:
                if self.smtp is None or self.smtp.sock is None:
                    self.open()
                return transmit(self.smtp, outgoing.sender, recipients, data)
            except smtplib.SMTPNotSupportedError as error:
                raise Refused(554, f"servern stöder inte {error}") from None
            except (SendError, OSError) as error:
                self._drop()
                drops += 1
                if drops > self.retry.reconnects:
                    raise ConnectionLost(str(error)) from None
                delay = self.retry.delay(drops - 1) if drops > 1 else 0.0
                self.progress(f"{label} {outgoing.name}: anslutningen bröts ({error}); ansluter igen"
                              f"{f' om {delay:g} s' if delay else ''} (försök {drops} av {self.retry.reconnects})")
                self.sleep(delay)

    def _drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None


def answered(run_dir: Path, today: dt.date | None = None) -> dict[str, str]:
    """In a reminder round: file → recipient of each message whose recipient has answered since (not to be sent)."""
    from processor.reminders import answered_since

    return answered_since(run_dir, today or dt.date.today())


def send_outbox(run_dir: Path, settings: SmtpSettings, *, bcc: str | None = None, rate: float | None = None,
                retry: RetryPolicy = RetryPolicy(), progress: Progress = lambda line: None,
                sleep: Callable[[float], None] = time.sleep, skip: dict[str, str] | None = None) -> SendResult:
    """Send every message of the run's outbox not yet delivered, recording each delivery at once.

    In a reminder round the messages in ``skip`` (default: ``answered``, read from the ledger now) are not sent.

    Raises InputError for an unusable run folder or option, SendError when the server cannot be
    reached or refuses the login before anything was sent (then nothing is recorded).
    """
    check_options(bcc, rate)
    folder = outbox_dir(run_dir)
    with ExitStack() as held:
        try:
            journal = held.enter_context(Journal(folder))
        except JournalBusy:
            raise SendError(f"en annan sändning av samma utskick pågår redan ({folder}). "
                            "Vänta tills den är klar och kör sedan processor send igen.") from None
        outbox = read_outbox(run_dir)
        skip = answered(run_dir) if skip is None else skip
        outbox = [m for m in outbox if m.name not in skip]
        waiting = [m for m in outbox if m.pending(bcc)]
        result = SendResult(total=len(outbox), already=len(outbox) - len(waiting), skipped=dict(skip))
        if not waiting:
            return result
        batch = Batch(settings, journal, retry, RateLimiter(rate, sleep=sleep), sleep, progress)
        batch.open()
        try:
            for n, outgoing in enumerate(waiting, 1):
                label = f"[{n}/{len(waiting)}]"
                try:
                    failures = batch.send(outgoing, bcc, label)
                except ConnectionLost as error:
                    result.stopped = (f"anslutningen till {settings.host}:{settings.port} bröts och gick inte att "
                                      f"återuppta ({error})")
                    result.failures += [Failure(m.name, tuple(m.pending(bcc)), "inte skickat", permanent=False)
                                        for m in waiting[n - 1:]]
                    break
                result.failures += failures
                if not failures:
                    result.delivered.append(outgoing.name)
        except KeyboardInterrupt:
            batch._drop()  # no polite QUIT: the user wants it to stop now
            raise Interrupted(result) from None
        finally:
            batch.close()
    return result


# --- what the command prints --------------------------------------------------------------------

def messages(n: int) -> str:
    """``1 meddelande``, ``15 meddelanden``."""
    return f"{n} meddelande" if n == 1 else f"{n} meddelanden"


def plan_lines(outbox: list[Outgoing], settings: SmtpSettings, bcc: str | None = None) -> list[str]:
    """What ``send`` is about to do, for the user to confirm: count, recipients, server."""
    waiting = [m for m in outbox if m.pending(bcc)]
    sent = len(outbox) - len(waiting)
    lines = [f"Utskicket har {messages(len(outbox))}: {sent} redan {_sent_word(sent)}, "
             f"{len(waiting)} att skicka."]
    lines += [f"  {m.name} → {', '.join(m.pending())}" for m in waiting]
    lines.append(f"Server: {settings.describe()}.")
    if bcc:
        lines.append(f"Kopia av varje meddelande till arkivet: {bcc} (syns inte för mottagarna).")
    return lines


def skipped_lines(skipped: dict[str, str]) -> list[str]:
    """The messages of a round not sent because the ledger says their recipient has answered (a reminder: invoiced or
    declined; a form or a reminder to report: reported), whether before the round was written or since."""
    if not skipped:
        return []
    return [f"Skickas inte, mottagaren har redan svarat enligt uppfoljning.xlsx: {messages(len(skipped))}.",
            *(f"  {file}: {recipient}" for file, recipient in sorted(skipped.items()))]


def interrupted_lines(result: SendResult) -> list[str]:
    """After Ctrl-C: how many went, and that ``send`` goes on where it stopped."""
    return [(f"Avbrutet. Skickade {messages(len(result.delivered))} innan avbrottet; {result.already} var redan "
             f"skickade; {result.left} återstår."),
            ("Kör processor send igen för att fortsätta där sändningen slutade: det som redan kommit fram "
             "skickas inte en gång till.")]


def _sent_word(n: int) -> str:
    """'skickat' agrees with one message, 'skickade' with several (or none)."""
    return "skickat" if n == 1 else "skickade"


def summary_lines(result: SendResult) -> list[str]:
    """The end of a ``send``: what went out now, before, and what did not (and what to do)."""
    lines = [f"Skickade {messages(len(result.delivered))} nu; {result.already} var redan {_sent_word(result.already)}; "
             f"{len({f.file for f in result.failures})} kom inte fram."]
    if result.stopped:
        lines.append(f"Sändningen avbröts: {result.stopped}.")
    for failure in result.failures:
        kind = "nekat" if failure.permanent else "ej skickat"
        lines.append(f"  {failure.file} → {', '.join(failure.recipients)}: {kind} ({failure.answer})")
    if result.failures:
        lines.append("Åtgärda felet (t.ex. adressen eller serverns inställningar) och kör processor send igen: "
                     "det som redan kommit fram skickas inte en gång till.")
    return lines
