"""``processor send``: the outbox over real SMTP (aiosmtpd on 127.0.0.1), each message exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from conftest import processor_command
from processor.journal import Journal, read_journal
from processor.layout import JOURNAL_FILE as JOURNAL
from processor.mail import APPENDIX_NAME
from processor.send import RateLimiter, RetryPolicy, SendResult, send_outbox, summary_lines
from processor.smtp import SendError
from processor.smtp_settings import settings_from
from test_mail import make_outbox

ROOT = Path(__file__).resolve().parent.parent
FAST = RetryPolicy(attempts=3, first_delay=0.0, reconnects=2)


class Recorder:
    """An SMTP handler that keeps what it accepts and misbehaves on request."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}
        self.busy = 0
        self.drop_at: int | None = None
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.busy:
            self.busy -= 1
            return "451 4.3.0 Tillfälligt fel, försök igen senare"
        if self.drop_at is not None and len(self.received) == self.drop_at:
            self.drop_at = None
            server.transport.close()
            return "421 4.4.2 Anslutningen bröts"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.delay:
            await asyncio.sleep(self.delay)
        return f"250 2.0.0 OK kö-id {len(self.received)}"

    def messages(self):
        return [BytesParser(policy=policy.default).parsebytes(content) for _, _, content in self.received]

    def count_by_recipient(self) -> Counter:
        return Counter(address for _, rcpts, _ in self.received for address in rcpts)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(handler, **options) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


@pytest.fixture
def server():
    handler = Recorder()
    controller = start_server(handler)
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def run_dir(cli, tmp_path):
    """A fresh run folder of input/dalarna_2020.xlsx with its outbox of 15 messages."""
    folder, written = make_outbox(ROOT / "input" / "dalarna_2020.xlsx", tmp_path / "ut")
    assert len(written) == 15
    return folder


def settings(server, **extra):
    return settings_from("127.0.0.1", server.port, "none", environ={}, **extra)


def send_args(run_dir, server, *more):
    return ("send", run_dir, "--smtp-host", "127.0.0.1", "--smtp-port", server.port, "--security", "none", *more)


def journal_lines(run_dir: Path) -> list[dict]:
    path = run_dir / "utskick" / JOURNAL
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_every_message_arrives_once_with_recipient_subject_body_and_attachments(cli, run_dir, server):
    status, out, err = cli(*send_args(run_dir, server, "--yes"))
    assert status == 0, err
    assert len(server.received) == 15
    assert set(server.count_by_recipient().values()) == {1}
    by_file = {p.name: p for p in (run_dir / "utskick").glob("*.eml")}
    for message, (mail_from, rcpts, _) in zip(server.messages(), server.received):
        name = message["Subject"].split(" – ")[-1]
        sent = BytesParser(policy=policy.default).parsebytes(by_file[f"{name}.eml"].read_bytes())
        assert mail_from == "rss@regiondalarna.example"
        assert rcpts == [a.addr_spec for a in sent["To"].addresses]
        assert message["Subject"] == f"Stimulansmedel Goda förutsättningar för vårdens medarbetare 2020 – {name}"
        assert message.get_body(("plain",)).get_content() == sent.get_body(("plain",)).get_content()
        assert f"{name} tilldelas" in message.get_body(("plain",)).get_content()
        files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        assert files[APPENDIX_NAME] == (run_dir / "fordelning.xlsx").read_bytes()
    assert "[j/N]" not in out and "Skickade 15 meddelanden nu; 0 var redan skickade; 0 kom inte fram." in out
    assert "[15/15]" in out


def test_each_delivery_is_in_the_journal(cli, run_dir, server):
    cli(*send_args(run_dir, server, "--yes"))
    lines = journal_lines(run_dir)
    assert len(lines) == 15
    avesta = next(line for line in lines if line["file"] == "Avesta.eml")
    eml = BytesParser(policy=policy.default).parsebytes((run_dir / "utskick" / "Avesta.eml").read_bytes())
    assert avesta["message_id"] == eml["Message-ID"]
    assert avesta["recipients"] == ["registrator@avesta.kommun.example"]
    assert avesta["server"].startswith("250 2.0.0 OK")
    assert avesta["time"]


def test_send_run_twice_sends_nothing_the_second_time(cli, run_dir, server):
    assert cli(*send_args(run_dir, server, "--yes"))[0] == 0
    status, out, _ = cli(*send_args(run_dir, server, "--yes"))
    assert status == 0
    assert "Inget att skicka: alla 15 meddelanden i utskicket är redan skickade." in out
    assert len(server.received) == 15


def test_temporary_refusals_are_retried(run_dir, server):
    server.busy = 2
    lines = []
    result = send_outbox(run_dir, settings(server), retry=FAST, progress=lines.append)
    assert result.ok and len(result.delivered) == 15
    assert set(server.count_by_recipient().values()) == {1} and len(server.received) == 15
    assert sum("tillfälligt fel (451 4.3.0" in line for line in lines) == 2


def test_temporary_refusals_give_up_after_the_bounded_attempts(run_dir, server):
    server.busy = 3
    result = send_outbox(run_dir, settings(server), retry=FAST)
    assert not result.ok
    [failure] = result.failures
    assert failure.file == "Avesta.eml" and not failure.permanent and failure.answer.startswith("451")
    assert len(server.received) == 14


def test_a_permanent_refusal_is_reported_while_the_rest_arrive_and_sent_once_fixed(cli, run_dir, server):
    server.refuse["registrator@falun.kommun.example"] = "550 5.1.1 Mottagaren finns inte"
    status, out, _ = cli(*send_args(run_dir, server, "--yes"))
    assert status == 1
    assert "Falun.eml → registrator@falun.kommun.example: nekat (550 5.1.1 Mottagaren finns inte)" in out
    assert "Skickade 14 meddelanden nu; 0 var redan skickade; 1 kom inte fram." in out
    assert len(server.received) == 14 and "registrator@falun.kommun.example" not in server.count_by_recipient()
    server.refuse.clear()
    status, out, _ = cli(*send_args(run_dir, server, "--yes"))
    assert status == 0
    assert "Skickade 1 meddelande nu; 14 var redan skickade; 0 kom inte fram." in out
    assert summary_lines(SendResult(total=15, already=1, delivered=["b.eml"] * 14))[0] == \
        "Skickade 14 meddelanden nu; 1 var redan skickat; 0 kom inte fram."
    assert len(server.received) == 15 and set(server.count_by_recipient().values()) == {1}


def test_a_partly_refused_message_goes_to_the_refused_address_only_next_time(cli, workbook, tmp_path, server):
    from conftest import DEFAULT_RECIPIENTS

    recipients = list(DEFAULT_RECIPIENTS)
    recipients[1] = ("Avesta", "registrator@avesta.example; chef@avesta.example", "Kommun", 100)
    folder, _ = make_outbox(workbook(recipients=recipients), tmp_path / "ut")
    server.refuse["chef@avesta.example"] = "550 5.7.1 Brevlådan är full"
    assert cli(*send_args(folder, server, "--yes"))[0] == 1
    server.refuse.clear()
    assert cli(*send_args(folder, server, "--yes"))[0] == 0
    assert server.count_by_recipient() == Counter({"registrator@avesta.example": 1, "chef@avesta.example": 1,
                                                   "registrator@borlange.example": 1, "registrator@falun.example": 1})


def test_a_dropped_connection_is_made_again_and_the_batch_goes_on(run_dir, server):
    server.drop_at = 5
    lines = []
    result = send_outbox(run_dir, settings(server), retry=FAST, progress=lines.append)
    assert result.ok
    assert len(server.received) == 15 and set(server.count_by_recipient().values()) == {1}
    assert any("anslutningen bröts" in line for line in lines)


def test_a_server_gone_for_good_stops_the_batch_and_the_next_send_resumes(run_dir, server):
    failing = Recorder()
    controller = start_server(failing)
    failing.drop_at = 4
    stopped = []

    def progress(line):
        if "anslutningen bröts" in line and not stopped:
            controller.stop()
            stopped.append(line)

    result = send_outbox(run_dir, settings_from("127.0.0.1", controller.port, "none", environ={}), retry=FAST,
                         progress=progress)
    assert not result.ok and "bröts och gick inte att återuppta" in result.stopped
    assert len(failing.received) == 4 and len(journal_lines(run_dir)) == 4
    assert len({f.file for f in result.failures}) == 11
    resumed = send_outbox(run_dir, settings(server), retry=FAST)
    assert resumed.ok and resumed.already == 4 and len(resumed.delivered) == 11
    assert len(server.received) == 11
    assert not set(server.count_by_recipient()) & set(failing.count_by_recipient())


def test_archive_copy_goes_to_the_envelope_not_the_headers(cli, run_dir, server):
    assert cli(*send_args(run_dir, server, "--yes", "--bcc", "arkiv@regiondalarna.example"))[0] == 0
    assert all(rcpts[-1] == "arkiv@regiondalarna.example" and len(rcpts) == 2 for _, rcpts, _ in server.received)
    assert all(message["Bcc"] is None for message in server.messages())
    assert all(b"arkiv@" not in content for _, _, content in server.received)


def test_without_a_terminal_and_without_yes_it_stops_with_status_2(run_processor, run_dir, server):
    done = run_processor(*send_args(run_dir, server), input="j\n")
    assert done.returncode == 2
    assert "--yes" in done.stderr
    assert "Utskicket har 15 meddelanden: 0 redan skickade, 15 att skicka." in done.stdout
    assert "Server: 127.0.0.1:" in done.stdout
    assert server.received == [] and journal_lines(run_dir) == []


def test_an_unreachable_server_is_a_clear_error_and_nothing_is_recorded(cli, run_dir):
    status, out, err = cli("send", run_dir, "--smtp-host", "127.0.0.1", "--smtp-port", free_port(), "--security",
                           "none", "--yes")
    assert status == 1
    assert "tar inte emot anslutningar" in err and "Inget meddelande har skickats." in err
    assert journal_lines(run_dir) == []


def test_settings_that_cannot_work_are_input_errors(cli, run_dir, monkeypatch):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USER", "SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    status, _, err = cli("send", run_dir, "--smtp-port", "fem", "--user", "rss@regiondalarna.example", "--yes")
    assert status == 2
    assert "--smtp-host: ingen SMTP-server angiven" in err
    assert '--smtp-port: "fem" är ingen port' in err
    assert "SMTP_PASSWORD: lösenord saknas" in err


def test_settings_come_from_the_environment_with_the_usual_ports():
    env = {"SMTP_HOST": "smtp.office365.com", "SMTP_USER": "rss@region.example", "SMTP_PASSWORD": "hemligt"}
    assert settings_from(environ=env).port == 587 and settings_from(environ=env).security == "starttls"
    assert settings_from(security="ssl", environ=env).port == 465
    assert settings_from(security="none", environ=env).port == 25
    assert settings_from(environ={**env, "SMTP_PORT": "2525"}).port == 2525
    assert "hemligt" not in repr(settings_from(environ=env))


class Accounts:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"rss", b"r\xc3\xa4tt")
        return AuthResult(success=ok, handled=False)


def test_login_with_the_password_from_the_environment(cli, run_dir, monkeypatch):
    handler = Recorder()
    controller = start_server(handler, authenticator=Accounts(), auth_require_tls=False)
    try:
        args = ("send", run_dir, "--smtp-host", "127.0.0.1", "--smtp-port", controller.port, "--security", "none",
                "--user", "rss", "--yes")
        monkeypatch.setenv("SMTP_PASSWORD", "fel")
        status, _, err = cli(*args)
        assert status == 1 and "nekade inloggningen för rss (535" in err and journal_lines(run_dir) == []
        monkeypatch.setenv("SMTP_PASSWORD", "rätt")
        assert cli(*args)[0] == 0
        assert len(handler.received) == 15
    finally:
        controller.stop()


def test_a_second_send_cannot_run_while_one_is_going(run_dir, server):
    with Journal(run_dir / "utskick"):
        with pytest.raises(SendError, match="en annan sändning"):
            send_outbox(run_dir, settings(server))
    assert server.received == []


def test_a_line_cut_off_by_a_crash_is_ignored_and_the_journal_goes_on(run_dir, server):
    journal = run_dir / "utskick" / JOURNAL
    journal.write_bytes(b'{"file": "Avesta.eml", "recipients": ["registrator@avesta.kommun.example"]}\n{"file": "Borl')
    result = send_outbox(run_dir, settings(server), retry=FAST)
    assert result.ok and result.already == 1 and len(server.received) == 14
    assert len(read_journal(journal)) == 15


def test_the_rate_limit_spaces_the_messages():
    now, pauses = [100.0], []

    def sleep(seconds):
        pauses.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(30, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait()
        now[0] += 0.5
    assert pauses == [1.5, 1.5, 1.5]


def test_killed_mid_batch_and_run_again_sends_nothing_twice_but_the_message_in_flight(run_dir, server):
    server.delay = 0.3
    command = processor_command() + [str(a) for a in send_args(run_dir, server, "--yes")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(server.received) < 4 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 4 <= len(server.received) < 15
    server.delay = 0.0
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = server.count_by_recipient()
    assert len(counts) == 15
    assert sum(n - 1 for n in counts.values()) <= 1
    assert len(journal_lines(run_dir)) == 15


def test_a_message_is_dated_when_it_is_sent_and_stays_the_same_message_for_the_journal(run_dir, server):
    from email.utils import parsedate_to_datetime

    avesta = run_dir / "utskick" / "Avesta.eml"
    written = avesta.read_bytes()
    written_id = BytesParser(policy=policy.default).parsebytes(written)["Message-ID"]
    server.refuse["registrator@avesta.kommun.example"] = "451 4.3.0 Försök senare"
    before = dt.datetime.now().astimezone().replace(microsecond=0)
    first = send_outbox(run_dir, settings(server), retry=RetryPolicy(attempts=1, first_delay=0.0))
    assert len(first.failures) == 1 and len(server.received) == 14
    del server.refuse["registrator@avesta.kommun.example"]
    second = send_outbox(run_dir, settings(server), retry=FAST)
    assert second.delivered == ["Avesta.eml"] and second.already == 14
    message = server.messages()[-1]
    assert parsedate_to_datetime(message["Date"]) >= before > parsedate_to_datetime(
        BytesParser(policy=policy.default).parsebytes(written)["Date"])
    assert len(message.get_all("Date")) == 1 and message["Message-ID"] == written_id
    assert avesta.read_bytes() == written
    assert [line["message_id"] for line in journal_lines(run_dir) if line["file"] == "Avesta.eml"] == [written_id]
    assert send_outbox(run_dir, settings(server)).already == 15


def test_a_message_without_message_id_gets_one_that_lasts_from_send_to_send(run_dir, server):
    avesta = run_dir / "utskick" / "Avesta.eml"
    avesta.write_bytes(re.sub(rb"Message-ID: [^\r\n]*\r\n", b"", avesta.read_bytes()))
    server.refuse["registrator@avesta.kommun.example"] = "451 4.3.0 Försök senare"
    send_outbox(run_dir, settings(server), retry=RetryPolicy(attempts=1, first_delay=0.0))
    del server.refuse["registrator@avesta.kommun.example"]
    send_outbox(run_dir, settings(server), retry=FAST)
    (message,) = [m for m in server.messages() if "Avesta" in m["Subject"]]
    (line,) = [line for line in journal_lines(run_dir) if line["file"] == "Avesta.eml"]
    assert message["Message-ID"] == line["message_id"] and line["message_id"].startswith("<")


def test_the_manifest_stays_true_after_send_and_says_what_changed(cli, run_dir, server):
    import hashlib

    before = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert cli(*send_args(run_dir, server, "--yes"))[0] == 0
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["path"]: (f["bytes"], f["sha256"]) for f in manifest["files"]}
    on_disk = {p.relative_to(run_dir).as_posix(): (p.stat().st_size, None if p.name == "uppfoljning.xlsx" else
                                                   hashlib.sha256(p.read_bytes()).hexdigest())
               for p in run_dir.rglob("*") if p.is_file() and p.name != "manifest.json" and not p.name.startswith(".")}
    assert listed == on_disk
    (change,) = manifest["changes"]
    assert change["command"] == "send" and change["files"] == ["rapport.html", "utskick/skickat.jsonl"]
    dt.datetime.fromisoformat(change["time"])
    assert {k: v for k, v in manifest.items() if k not in ("files", "changes")} == {
        k: v for k, v in before.items() if k != "files"}


def test_a_journal_saved_as_unicode_in_notepad_stops_send_with_a_located_message(cli, run_dir, server):
    journal = run_dir / "utskick" / JOURNAL
    line = '{"file": "Avesta.eml", "recipients": ["registrator@avesta.kommun.example"]}\r\n'
    journal.write_bytes(line.encode("utf-16"))
    before = journal.read_bytes()
    status, _, err = cli(*send_args(run_dir, server, "--yes"))
    assert status == 2 and "Traceback" not in err
    assert "utskick/skickat.jsonl, rad 1: filen är sparad som UTF-16" in err and "kodningen UTF-8" in err
    assert server.received == [] and journal.read_bytes() == before


def test_a_broken_journal_line_stops_send_with_its_line_number(cli, run_dir, server):
    journal = run_dir / "utskick" / JOURNAL
    good = '{"file": "Avesta.eml", "recipients": ["registrator@avesta.kommun.example"]}'
    lines = [good, good, '{"file": "Falun.eml", "recipients": [registrator]}',
             '{"file": "Gagnef.eml", "to": ["a@b.example"]}', "Borlänge skickad"]
    journal.write_bytes("".join(f"{line}\n" for line in lines).encode("utf-8") + "Ludvika är skickad\n".encode("latin-1"))
    status, _, err = cli(*send_args(run_dir, server, "--yes"))
    assert status == 2 and "Traceback" not in err and server.received == []
    assert "utskick/skickat.jsonl, rad 3: raden är ingen giltig journalrad (JSON-fel vid tecken" in err
    assert 'utskick/skickat.jsonl, rad 4: raden saknar "file" (filnamnet) eller "recipients"' in err
    assert "utskick/skickat.jsonl, rad 5: raden är ingen giltig journalrad" in err
    assert "utskick/skickat.jsonl, rad 6: raden är inte skriven i UTF-8" in err


def test_ctrl_c_says_how_many_went_and_that_send_goes_on_where_it_stopped(run_dir, server):
    server.delay = 0.3
    command = processor_command() + [str(a) for a in send_args(run_dir, server, "--yes")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(server.received) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "Traceback" not in err
    sent = len(journal_lines(run_dir))
    assert f"Avbrutet. Skickade {sent} meddelande{'' if sent == 1 else 'n'} innan avbrottet; 0 var redan " \
           f"skickade; {15 - sent} återstår." in err
    assert "Kör processor send igen för att fortsätta där sändningen slutade" in err
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"][-1]["command"] == "send"


def test_answering_no_sends_nothing_and_is_not_success(run_dir, server):
    import pty

    controller, terminal = pty.openpty()
    command = processor_command() + [str(a) for a in send_args(run_dir, server)]
    process = subprocess.Popen(command, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    os.write(controller, b"n\n")
    out, _ = process.communicate(timeout=60)
    os.close(controller)
    assert process.returncode == 1
    assert "Inget skickat." in out and server.received == [] and journal_lines(run_dir) == []
