"""Deliver a run's outbox over SMTP, once per recipient, recording each delivery as it happens.

The journal ``utskick/skickat.jsonl`` gets one line per accepted delivery, written and
fsynced the moment the server accepts the message, so a second ``send`` skips what went out
and a run cut short picks up where it stopped. The only message that can go out twice is the
one in flight when the process died: accepted by the server but not yet written down.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from processor import oauth
from processor.errors import InputError, Problem
from processor.journal import Journal, JournalBusy, MessageHeaders, delivered_to, read_journal
from processor.layout import MESSAGE_SUFFIX, OUTBOX_DIR, RunLayout

SECURITY = ("starttls", "ssl", "none")
AUTH = ("password", "oauth2")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TENANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.-]*$")
_DATE_HEADER = re.compile(rb"^Date:[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", re.IGNORECASE | re.MULTILINE)
_MESSAGE_ID_HEADER = re.compile(rb"^Message-ID:", re.IGNORECASE | re.MULTILINE)

Progress = Callable[[str], None]


class SendError(Exception):
    """The server cannot be used (unreachable, refuses TLS or login): a Swedish message, exit status 1."""


# --- settings -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to connect; ``password`` comes from ``SMTP_PASSWORD``, never the command line.

    With ``auth="oauth2"`` the login is SASL XOAUTH2 with a token that ``tokens`` hands out
    afresh at every connection.
    """

    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    auth: str = "password"
    tokens: oauth.TokenSource | None = field(default=None, compare=False)

    def describe(self) -> str:
        """``smtp.office365.com:587 (STARTTLS, inloggning som a@b.se)`` for the confirmation."""
        how = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "okrypterat"}[self.security]
        login = f", inloggning som {self.user}" if self.user else ", utan inloggning"
        if self.auth == "oauth2" and self.tokens is not None:
            login += f" med OAuth 2.0, {self.tokens.describe()}"
        return f"{self.host}:{self.port} ({how}{login})"


def settings_from(host: str | None = None, port: str | int | None = None, security: str | None = None,
                  user: str | None = None, environ: dict | None = None, *, auth: str | None = None,
                  token_command: str | None = None, microsoft_tenant: str | None = None,
                  microsoft_client_id: str | None = None, prompt: Callable[[str], None] = print) -> SmtpSettings:
    """Command-line values first, then ``SMTP_HOST``, ``SMTP_PORT``, ``SMTP_SECURITY``, ``SMTP_USER``, ``SMTP_AUTH`` …

    Every setting is checked here, before anything is sent; ``prompt`` shows Microsoft's
    sign-in code when one is needed.
    """
    env = os.environ if environ is None else environ
    problems = []
    auth = (auth or env.get("SMTP_AUTH") or "password").strip().lower()
    if auth not in AUTH:
        problems.append(Problem("--auth", f'"{auth}" går inte. Välj password (lösenord) eller oauth2.'))
        auth = "password"
    signin = _oauth_settings(auth, token_command, microsoft_tenant, microsoft_client_id, env, problems)
    host = host or env.get("SMTP_HOST") or (oauth.MICROSOFT_SMTP_HOST if signin.get("tenant") else None)
    if not host:
        problems.append(Problem("--smtp-host", "ingen SMTP-server angiven. Ange --smtp-host, t.ex. smtp.office365.com, "
                                               "eller sätt miljövariabeln SMTP_HOST."))
    security = (security or env.get("SMTP_SECURITY") or "starttls").strip().lower()
    if security not in SECURITY:
        problems.append(Problem("--security", f'"{security}" går inte. Välj starttls, ssl eller none.'))
        security = "starttls"
    if auth == "oauth2" and security == "none":
        problems.append(Problem("--security", "OAuth 2.0 skickar en token som gäller som lösenord, och den får inte gå "
                                              "okrypterad. Använd --security starttls (port 587) eller ssl (port 465)."))
    port_number = _port(port if port is not None else env.get("SMTP_PORT"), security, problems)
    user = user or env.get("SMTP_USER") or None
    password = env.get("SMTP_PASSWORD") or None
    if auth == "password" and user and not password:
        problems.append(Problem("SMTP_PASSWORD", f"lösenord saknas för användaren {user}. Sätt miljövariabeln "
                                                 "SMTP_PASSWORD innan du kör processor send."))
    if auth == "oauth2" and not user:
        problems.append(Problem("--user", "OAuth 2.0 kräver brevlådans adress som användare. Ange --user, t.ex. "
                                          "--user stimulansmedel@kommun.se, eller sätt miljövariabeln SMTP_USER."))
    if problems:
        raise InputError(problems)
    tokens = _token_source(signin, user, env, prompt) if auth == "oauth2" else None
    return SmtpSettings(host=host.strip(), port=port_number, security=security, user=user,
                        password=password if auth == "password" else None, auth=auth, tokens=tokens)


def _oauth_settings(auth: str, command: str | None, tenant: str | None, client_id: str | None, env,
                    problems: list[Problem]) -> dict:
    """The token command or the Microsoft app, exactly one of them, and only with ``--auth oauth2``."""
    given = {"--token-command": command, "--microsoft-tenant": tenant, "--microsoft-client-id": client_id}
    if auth != "oauth2":
        for option in (name for name, value in given.items() if value):
            problems.append(Problem(option, "gäller bara inloggning med OAuth 2.0. Lägg till --auth oauth2, eller ta "
                                            f"bort {option}."))
        return {}
    command = (command or env.get("SMTP_TOKEN_COMMAND") or "").strip()
    tenant = (tenant or env.get("SMTP_MICROSOFT_TENANT") or "").strip()
    client_id = (client_id or env.get("SMTP_MICROSOFT_CLIENT_ID") or "").strip()
    if command and (tenant or client_id):
        problems.append(Problem("--token-command", "ange antingen ett tokenkommando eller Microsoft-appen "
                                                   "(--microsoft-tenant och --microsoft-client-id), inte båda. Ta bort "
                                                   "det ena (se också SMTP_TOKEN_COMMAND och SMTP_MICROSOFT_*)."))
    elif command:
        return {"command": command}
    elif not (tenant or client_id):
        problems.append(Problem("--token-command", "--auth oauth2 behöver en token: ange --token-command KOMMANDO "
                                                   "(ett kommando som skriver ut token), eller --microsoft-tenant och "
                                                   "--microsoft-client-id för Microsoft 365."))
    elif not tenant:
        problems.append(Problem("--microsoft-tenant", "organisationens katalog-id saknas. Ange --microsoft-tenant "
                                                      "(Directory/tenant ID från appens sida i Entra ID) eller "
                                                      "SMTP_MICROSOFT_TENANT."))
    elif not client_id:
        problems.append(Problem("--microsoft-client-id", "appens klient-id saknas. Ange --microsoft-client-id "
                                                         "(Application/client ID från appens sida i Entra ID) eller "
                                                         "SMTP_MICROSOFT_CLIENT_ID."))
    else:
        if not _TENANT.match(tenant):
            problems.append(Problem("--microsoft-tenant", f'"{tenant}" är inget katalog-id. Ange Directory (tenant) ID, '
                                                          "t.ex. 0c1d…-…, eller domänen, t.ex. kommun.onmicrosoft.com."))
        if not _GUID.match(client_id):
            problems.append(Problem("--microsoft-client-id", f'"{client_id}" är inget klient-id. Ange Application '
                                                             "(client) ID från appens sida i Entra ID, 36 tecken som "
                                                             "00000000-0000-0000-0000-000000000000."))
        return {"tenant": tenant, "client_id": client_id}
    return {}


def _token_source(signin: dict, user: str, env, prompt: Callable[[str], None]) -> oauth.TokenSource:
    if "command" in signin:
        return oauth.CommandToken(signin["command"])
    return oauth.MicrosoftToken(signin["tenant"], signin["client_id"], user,
                                client_secret=env.get("SMTP_CLIENT_SECRET") or None,
                                cache_path=oauth.config_dir(env) / oauth.CACHE_FILE, prompt=prompt)


def _port(value, security: str, problems: list[Problem]) -> int:
    if value is None or str(value).strip() == "":
        return DEFAULT_PORTS[security]
    text = str(value).strip()
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    problems.append(Problem("--smtp-port", f'"{text}" är ingen port. Ange ett tal, t.ex. 587 (starttls), 465 (ssl) eller 25.'))
    return DEFAULT_PORTS[security]


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


# --- the SMTP connection ------------------------------------------------------------------------

class Refused(Exception):
    """The server refused the whole message (MAIL FROM or DATA) with ``code``."""

    def __init__(self, code: int, answer: str):
        super().__init__(answer)
        self.code, self.answer = code, answer


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, logged-in connection, or SendError saying in Swedish what to check."""
    where = f"{settings.host}:{settings.port}"
    token = _token(settings)
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            if settings.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if token is not None:
                xoauth2(smtp, settings.user or "", token)
            elif settings.user:
                login(smtp, settings.user, settings.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp
    except smtplib.SMTPAuthenticationError as error:
        if token is not None:
            raise SendError(_token_refused(where, settings, error)) from None
        raise SendError(f"servern {where} nekade inloggningen för {settings.user} ({_answer(error)}). Kontrollera "
                        "--user och SMTP_PASSWORD. I Microsoft 365 måste autentiserad SMTP (SMTP AUTH) vara påslaget "
                        "för brevlådan.") from None
    except smtplib.SMTPNotSupportedError as error:
        raise SendError(_unsupported(where, settings, error)) from None
    except socket.gaierror:
        raise SendError(f"hittar ingen server som heter {settings.host}. Kontrollera --smtp-host (SMTP_HOST).") from None
    except ConnectionRefusedError:
        raise SendError(f"servern {where} tar inte emot anslutningar. Kontrollera --smtp-host och --smtp-port, "
                        "och att servern är igång.") from None
    except (TimeoutError, socket.timeout):
        raise SendError(f"inget svar från {where} inom {settings.timeout:g} s. Kontrollera adress och port, och att "
                        "brandväggen släpper igenom anslutningen.") from None
    except ssl.SSLCertVerificationError as error:
        raise SendError(f"serverns certifikat kunde inte verifieras ({error.verify_message}). Kontrollera att "
                        f"--smtp-host är serverns riktiga namn, {settings.host}.") from None
    except ssl.SSLError as error:
        raise SendError(f"krypteringen mot {where} misslyckades ({error.reason or error}). Kontrollera --security: "
                        "port 587 brukar vara starttls och port 465 ssl.") from None
    except smtplib.SMTPResponseException as error:
        raise SendError(f"servern {where} svarade {_answer(error)}. Kontrollera inställningarna.") from None
    except (smtplib.SMTPException, OSError) as error:
        raise SendError(f"kunde inte ansluta till {where} ({error}). Kontrollera --smtp-host, --smtp-port och "
                        "--security.") from None


def _token(settings: SmtpSettings) -> str | None:
    """A fresh token before connecting (a sign-in may take minutes; the server would not wait)."""
    if settings.auth != "oauth2":
        return None
    try:
        return settings.tokens.token()
    except oauth.TokenError as error:
        raise SendError(f"ingen token att logga in med: {error}") from None


def xoauth2(smtp: smtplib.SMTP, user: str, token: str) -> None:
    """SASL XOAUTH2: the initial response at once; an error challenge (334) is answered with an empty line."""
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    if "XOAUTH2" not in smtp.esmtp_features["auth"].upper().split():
        raise smtplib.SMTPNotSupportedError("XOAUTH2")
    code, answer = smtp.docmd("AUTH", "XOAUTH2 " + oauth.xoauth2_response(user, token))
    if code == 334:
        code, answer = smtp.docmd("")
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, answer)


def _token_refused(where: str, settings: SmtpSettings, error: smtplib.SMTPResponseException) -> str:
    return (f"servern {where} nekade inloggningen med OAuth 2.0 för {settings.user} ({_answer(error)}). Kontrollera "
            "1) att autentiserad SMTP (SMTP AUTH) är påslaget för brevlådan (Set-CASMailbox "
            "-SmtpClientAuthenticationDisabled $false), 2) att appen i Entra ID har behörigheten SMTP.Send (delegerad) "
            "eller SMTP.SendAsApp (program, och brevlådan tilldelad appens tjänstens huvudnamn) med administratörens "
            "medgivande, 3) att token är utfärdad för https://outlook.office365.com och inte har gått ut, och "
            "4) att --user är brevlådans adress, samma konto som token gäller. Se docs/epost.md.")


def login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """``smtplib`` login, but a password with å, ä or ö is sent as UTF-8 rather than failing on ASCII."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    mechanisms = smtp.esmtp_features["auth"].upper().split()
    if "PLAIN" in mechanisms:
        token = b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")
        code, answer = smtp.docmd("AUTH", "PLAIN " + base64.b64encode(token).decode("ascii"))
    elif "LOGIN" in mechanisms:
        code, answer = smtp.docmd("AUTH", "LOGIN " + base64.b64encode(user.encode("utf-8")).decode("ascii"))
        if code == 334:
            code, answer = smtp.docmd(base64.b64encode(password.encode("utf-8")).decode("ascii"))
    else:
        raise smtplib.SMTPNotSupportedError("No suitable authentication method found.")
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, answer)


def _unsupported(where: str, settings: SmtpSettings, error: Exception) -> str:
    if "STARTTLS" in str(error).upper():
        return (f"servern {where} erbjuder inte STARTTLS. Använd --security ssl (oftast port 465) eller, för ett "
                "internt relä utan kryptering, --security none.")
    if str(error) == "XOAUTH2":
        return (f"servern {where} erbjuder inte inloggning med OAuth 2.0 (XOAUTH2). Kontrollera --smtp-host (för "
                "Microsoft 365 smtp.office365.com), eller logga in med lösenord (--auth password).")
    return (f"servern {where} erbjuder ingen inloggning. Ta bort --user om reläet släpper igenom utan inloggning, "
            "eller använd --security starttls.")


def _answer(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else str(error.smtp_error)
    return f"{error.smtp_code} {' '.join(text.split())}"


def transmit(smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes) -> tuple[list[str], dict, str]:
    """One SMTP transaction: → (accepted recipients, refused {address: (code, answer)}, the server's answer).

    Like ``smtplib.SMTP.sendmail`` but keeps the final answer (with the server's queue id) for
    the journal. Raises ``Refused`` when MAIL FROM or DATA is refused, OSError when the line drops.
    """
    smtp.ehlo_or_helo_if_needed()
    options = []
    if smtp.does_esmtp and smtp.has_extn("size"):
        options.append(f"SIZE={len(data)}")
    if not (sender + "".join(recipients)).isascii():
        options += ["SMTPUTF8", "BODY=8BITMIME"]
    code, answer = smtp.mail(sender, options)
    if code != 250:
        _reset(smtp, code)
        raise Refused(code, _text(code, answer))
    accepted, refused = [], {}
    for recipient in recipients:
        code, answer = smtp.rcpt(recipient)
        if code in (250, 251):
            accepted.append(recipient)
        else:
            refused[recipient] = (code, _text(code, answer))
    if not accepted:
        _reset(smtp, min(c for c, _ in refused.values()))
        return accepted, refused, ""
    code, answer = smtp.data(data)
    if code != 250:
        _reset(smtp, code)
        raise Refused(code, _text(code, answer))
    return accepted, refused, _text(code, answer)


def _reset(smtp: smtplib.SMTP, code: int) -> None:
    """After a refusal: a 421 means the server is closing, anything else leaves a usable session."""
    if code == 421:
        smtp.close()
    else:
        smtp.rset()


def _text(code: int, answer: bytes) -> str:
    return f"{code} {' '.join(answer.decode('utf-8', 'replace').split())}".strip()


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


def send_outbox(run_dir: Path, settings: SmtpSettings, *, bcc: str | None = None, rate: float | None = None,
                retry: RetryPolicy = RetryPolicy(), progress: Progress = lambda line: None,
                sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Send every message of the run's outbox not yet delivered, recording each delivery at once.

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
        waiting = [m for m in outbox if m.pending(bcc)]
        result = SendResult(total=len(outbox), already=len(outbox) - len(waiting))
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
                    result.stopped = f"anslutningen till {settings.host}:{settings.port} bröts och gick inte att återuppta ({error})"
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
    lines = [f"Utskicket har {messages(len(outbox))}: {len(outbox) - len(waiting)} redan skickade, "
             f"{len(waiting)} att skicka."]
    lines += [f"  {m.name} → {', '.join(m.pending())}" for m in waiting]
    lines.append(f"Server: {settings.describe()}.")
    if bcc:
        lines.append(f"Kopia av varje meddelande till arkivet: {bcc} (syns inte för mottagarna).")
    return lines


def interrupted_lines(result: SendResult) -> list[str]:
    """After Ctrl-C: how many went, and that ``send`` goes on where it stopped."""
    return [(f"Avbrutet. Skickade {messages(len(result.delivered))} innan avbrottet; {result.already} var redan "
             f"skickade; {result.left} återstår."),
            ("Kör processor send igen för att fortsätta där sändningen slutade: det som redan kommit fram "
             "skickas inte en gång till.")]


def summary_lines(result: SendResult) -> list[str]:
    """The end of a ``send``: what went out now, before, and what did not (and what to do)."""
    lines = [f"Skickade {messages(len(result.delivered))} nu; {result.already} var redan skickade; "
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
