"""``processor send --auth oauth2``: SASL XOAUTH2 against a real local SMTP server over STARTTLS,
tokens from a command or from Microsoft's identity platform through msal (against a local
HTTPS identity server standing in for login.microsoftonline.com), and never a token in sight."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import shlex
import ssl
import stat
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from processor.oauth import APPLICATION_SCOPE, CACHE_FILE, DELEGATED_SCOPE, CommandToken, MicrosoftToken, TokenError
from processor.oauth import config_dir
from processor.send import RetryPolicy, send_outbox
from processor.smtp import SendError
from processor.smtp_settings import SmtpSettings, settings_from
from test_mail import make_outbox
from test_send import Recorder, free_port, journal_lines, start_server

FAST = RetryPolicy(attempts=3, first_delay=0.0, reconnects=2)
MAILBOX = "aldre@stad.example"
TENANT = "stad.onmicrosoft.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SECRET_MARK = "Qx7hemligt"


# --- a test certificate authority and a certificate for 127.0.0.1 -------------------------------

@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1 signed by it: → (ca.pem, cert.pem, key.pem)."""
    folder = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "processor test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def server_context(certificates) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates[1], certificates[2])
    return context


@pytest.fixture
def trust(certificates, monkeypatch):
    """The client trusts the test CA, as it would a real one (OpenSSL's and requests' usual variables)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates[0]))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates[0]))


# --- an SMTP server that offers XOAUTH2 only, after STARTTLS ------------------------------------

class OAuthServer(Recorder):
    """Accepts a sign-in whose user and bearer token it knows; remembers every token offered.

    A refused token is answered like Google (a 334 challenge with the error in JSON, then 535)
    or like Microsoft (535 at once), so the client must handle both.
    """

    def __init__(self, user: str = MAILBOX, tokens: set[str] | None = None):
        super().__init__()
        self.user, self.tokens = user, tokens
        self.offered: list[str] = []
        self.over_tls: list[bool] = []

    async def auth_XOAUTH2(self, server, args):
        fields = dict(part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if part)
        token = fields["auth"].removeprefix("Bearer ")
        self.offered.append(token)
        if fields["user"] != self.user:
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        if self.tokens is not None and token not in self.tokens:
            await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
            return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")
        return AuthResult(success=True)

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self.over_tls.append(server.transport.get_extra_info("ssl_object") is not None)
        return answer


@pytest.fixture
def smtp_server(certificates):
    """The real aiosmtpd on 127.0.0.1: STARTTLS required, AUTH XOAUTH2 only, after TLS."""
    handler = OAuthServer()
    controller = start_server(handler, tls_context=server_context(certificates), require_starttls=True,
                              auth_required=True, auth_exclude_mechanism=["PLAIN", "LOGIN"])
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def outbox(workbook, tmp_path):
    """A run folder with three messages from aldre@stad.example."""
    folder, written = make_outbox(workbook(), tmp_path / "ut")
    assert len(written) == 3
    return folder


@pytest.fixture
def token_command(tmp_path):
    """A token helper: prints ``<SECRET_MARK>-token-N``, N counting its runs (kept in a file beside it)."""
    script = tmp_path / "token.py"
    counter = tmp_path / "runs.txt"
    script.write_text(
        "import pathlib, sys\n"
        f"counter = pathlib.Path({str(counter)!r})\n"
        "n = int(counter.read_text()) + 1 if counter.exists() else 1\n"
        "counter.write_text(str(n))\n"
        f"print('{SECRET_MARK}-token-' + str(n))\n", encoding="utf-8")
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    return command


def runs(tmp_path) -> int:
    counter = tmp_path / "runs.txt"
    return int(counter.read_text()) if counter.exists() else 0


def oauth_args(outbox, smtp_server, command, *more):
    return ("send", outbox, "--smtp-host", "127.0.0.1", "--smtp-port", smtp_server.port, "--user", MAILBOX,
            "--auth", "oauth2", "--token-command", command, *more)


def no_secret_anywhere(*texts: str, folder: Path | None = None) -> None:
    """No token, nor its XOAUTH2 encoding, in any text nor in any file of the run folder."""
    encoded = [base64.b64encode(b"-" * pad + SECRET_MARK.encode()).decode()[4 * (pad > 0):4 * ((pad + 10) // 3)]
               for pad in range(3)]  # the mark base64-encoded at each of the three alignments
    for text in texts:
        assert SECRET_MARK not in text
        assert not any(form in text for form in encoded)
    for path in (folder.rglob("*") if folder else ()):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET_MARK.encode() not in data, path


def test_a_run_goes_out_over_starttls_signed_in_with_the_token_from_the_command(cli, outbox, smtp_server,
                                                                                token_command, tmp_path, trust):
    status, out, err = cli(*oauth_args(outbox, smtp_server, token_command, "--yes"))
    assert status == 0, err
    assert len(smtp_server.received) == 3 and set(smtp_server.count_by_recipient().values()) == {1}
    assert smtp_server.over_tls == [True, True, True]
    assert smtp_server.offered == [f"{SECRET_MARK}-token-1"] and runs(tmp_path) == 1
    assert f"Server: 127.0.0.1:{smtp_server.port} (STARTTLS, inloggning som {MAILBOX} med OAuth 2.0, token från " \
           "tokenkommandot)." in out
    assert "Skickade 3 meddelanden nu" in out and len(journal_lines(outbox)) == 3
    no_secret_anywhere(out, err, folder=outbox)


def test_a_connection_closed_midway_is_made_again_with_a_fresh_token(outbox, smtp_server, token_command, tmp_path,
                                                                     trust):
    smtp_server.drop_at = 1
    lines = []
    settings = settings_from("127.0.0.1", smtp_server.port, user=MAILBOX, environ={}, auth="oauth2",
                             token_command=token_command)
    result = send_outbox(outbox, settings, retry=FAST, progress=lines.append)
    assert result.ok and len(result.delivered) == 3
    assert runs(tmp_path) == 2
    assert smtp_server.offered == [f"{SECRET_MARK}-token-1", f"{SECRET_MARK}-token-2"]
    assert len(smtp_server.received) == 3 and set(smtp_server.count_by_recipient().values()) == {1}
    assert any("anslutningen bröts" in line for line in lines)
    no_secret_anywhere(*lines, folder=outbox)


def test_an_expired_token_is_refused_with_what_to_check_and_nothing_is_recorded(cli, outbox, smtp_server,
                                                                                token_command, trust):
    smtp_server.tokens = {"a-token-the-command-does-not-print"}
    status, out, err = cli(*oauth_args(outbox, smtp_server, token_command, "--yes"))
    assert status == 1
    assert f"nekade inloggningen med OAuth 2.0 för {MAILBOX} (535 5.7.8" in err
    for what in ("SMTP AUTH", "Set-CASMailbox -SmtpClientAuthenticationDisabled $false", "SMTP.Send", "SMTP.SendAsApp",
                 "https://outlook.office365.com", "inte har gått ut", "--user"):
        assert what in err
    assert "Inget meddelande har skickats." in err
    assert smtp_server.received == [] and journal_lines(outbox) == []
    no_secret_anywhere(out, err, folder=outbox)


def test_a_token_for_another_user_is_refused(cli, outbox, smtp_server, token_command, trust):
    smtp_server.user = "someone.else@stad.example"
    status, out, err = cli(*oauth_args(outbox, smtp_server, token_command, "--yes"))
    assert status == 1 and "(535 5.7.3 Authentication unsuccessful)" in err
    assert smtp_server.received == [] and journal_lines(outbox) == []
    no_secret_anywhere(out, err, folder=outbox)


def test_implicit_tls_on_port_465_signs_in_the_same_way(cli, outbox, token_command, certificates, trust):
    handler = OAuthServer()
    controller = start_server(handler, ssl_context=server_context(certificates),
                              auth_require_tls=False,  # aiosmtpd counts only STARTTLS as TLS; this line is TLS throughout
                              auth_exclude_mechanism=["PLAIN", "LOGIN"])
    try:
        status, out, err = cli("send", outbox, "--smtp-host", "127.0.0.1", "--smtp-port", controller.port, "--security",
                               "ssl", "--user", MAILBOX, "--auth", "oauth2", "--token-command", token_command, "--yes")
    finally:
        controller.stop()
    assert status == 0, err
    assert len(handler.received) == 3 and handler.over_tls == [True, True, True]
    assert handler.offered == [f"{SECRET_MARK}-token-1"]
    assert "(SSL/TLS, inloggning som" in out
    no_secret_anywhere(out, err, folder=outbox)


def test_a_server_whose_certificate_cannot_be_verified_is_never_sent_the_token(cli, outbox, smtp_server, token_command,
                                                                    certificates, tmp_path, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates[1]))  # trusts a certificate that is no CA
    status, _, err = cli(*oauth_args(outbox, smtp_server, token_command, "--yes"))
    assert status == 1 and "certifikat kunde inte verifieras" in err
    assert smtp_server.offered == [] and smtp_server.received == []


def test_a_server_without_xoauth2_is_a_clear_error(cli, outbox, token_command, certificates, trust):
    handler = Recorder()
    controller = start_server(handler, tls_context=server_context(certificates), require_starttls=True)
    try:
        status, _, err = cli("send", outbox, "--smtp-host", "127.0.0.1", "--smtp-port", controller.port, "--user",
                             MAILBOX, "--auth", "oauth2", "--token-command", token_command, "--yes")
    finally:
        controller.stop()
    assert status == 1 and "erbjuder inte inloggning med OAuth 2.0 (XOAUTH2)" in err
    assert handler.received == []


# --- the token command ----------------------------------------------------------------------------

def python_command(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def test_a_failing_token_command_says_why_with_its_last_error_line_but_never_the_token(cli, outbox, smtp_server,
                                                                                      trust):
    command = python_command(f"import sys; print('{SECRET_MARK}-1'); print('först', file=sys.stderr); "
                             f"print('inloggningen har gått ut: {SECRET_MARK}-1', file=sys.stderr); sys.exit(3)")
    status, out, err = cli(*oauth_args(outbox, smtp_server, command, "--yes"))
    assert status == 1
    assert "tokenkommandot misslyckades (slutstatus 3): inloggningen har gått ut: ***." in err
    assert "först" not in err and "Inget meddelande har skickats." in err
    assert smtp_server.offered == [] and journal_lines(outbox) == []
    no_secret_anywhere(out, err, folder=outbox)


@pytest.mark.parametrize("code, message", [
    ("print()", "tokenkommandot gav ingen token (tom utdata)"),
    (f"print('Din token: {SECRET_MARK}')", "tokenkommandot skrev ut mer än en token"),
])
def test_a_token_command_that_prints_no_single_token_is_refused(code, message):
    with pytest.raises(TokenError) as error:
        CommandToken(python_command(code)).token()
    assert message in str(error.value)
    no_secret_anywhere(str(error.value))


def test_a_token_command_that_hangs_is_stopped():
    with pytest.raises(TokenError, match="blev inte klart inom 2,5 s") as error:
        CommandToken("echo väntar på webbläsaren >&2; sleep 60", timeout=2.5).token()
    assert "väntar på webbläsaren" in str(error.value)


def test_the_token_is_the_commands_output_stripped_and_the_command_is_not_shown():
    source = CommandToken(python_command("print('  ' + 'a' * 20 + '  ')"))
    assert source.token() == "a" * 20
    assert "print" not in repr(source) and "print" not in source.describe()


# --- settings, checked before anything is sent ----------------------------------------------------

@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USER", "SMTP_PASSWORD", "SMTP_AUTH",
                 "SMTP_TOKEN_COMMAND", "SMTP_MICROSOFT_TENANT", "SMTP_MICROSOFT_CLIENT_ID", "SMTP_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("options, expected", [
    (["--auth", "oauth2"], "--token-command: --auth oauth2 behöver en token"),
    (["--auth", "oauth2", "--token-command", "hämta-token", "--microsoft-tenant", TENANT, "--microsoft-client-id",
      CLIENT_ID], "--token-command: ange antingen ett tokenkommando eller Microsoft-appen"),
    (["--auth", "oauth2", "--token-command", "hämta-token", "--security", "none"],
     "--security: OAuth 2.0 skickar en token som gäller som lösenord"),
    (["--token-command", "hämta-token"], "--token-command: gäller bara inloggning med OAuth 2.0. Lägg till --auth oauth2"),
    (["--auth", "oauth2", "--microsoft-tenant", TENANT], "--microsoft-client-id: appens klient-id saknas"),
    (["--auth", "oauth2", "--microsoft-client-id", CLIENT_ID], "--microsoft-tenant: organisationens katalog-id saknas"),
    (["--auth", "oauth2", "--microsoft-tenant", TENANT, "--microsoft-client-id", "min-app"],
     '--microsoft-client-id: "min-app" är inget klient-id'),
])
def test_settings_that_cannot_work_are_swedish_input_errors_before_anything_is_sent(cli, outbox, smtp_server, options,
                                                                                    expected, clean_environment):
    status, out, err = cli("send", outbox, "--smtp-host", "127.0.0.1", "--smtp-port", smtp_server.port, "--user",
                           MAILBOX, *options, "--yes")
    assert status == 2, err
    assert err.startswith("Kan inte skicka:") and expected in err and "Traceback" not in err
    assert out == "" and smtp_server.offered == [] and journal_lines(outbox) == []


def test_oauth2_needs_the_mailbox_as_user(cli, outbox, clean_environment):
    status, _, err = cli("send", outbox, "--auth", "oauth2", "--microsoft-tenant", TENANT, "--microsoft-client-id",
                         CLIENT_ID, "--yes")
    assert status == 2 and "--user: OAuth 2.0 kräver brevlådans adress som användare" in err
    assert "--smtp-host" not in err  # the Microsoft options bring their own server


def test_every_setting_also_comes_from_the_environment_for_unattended_use(tmp_path):
    env = {"SMTP_AUTH": "oauth2", "SMTP_USER": MAILBOX, "SMTP_MICROSOFT_TENANT": TENANT,
           "SMTP_MICROSOFT_CLIENT_ID": CLIENT_ID, "SMTP_CLIENT_SECRET": f"{SECRET_MARK}-klienthemlighet",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    settings = settings_from(environ=env)
    assert (settings.host, settings.port, settings.security, settings.user) == ("smtp.office365.com", 587, "starttls",
                                                                                MAILBOX)
    assert isinstance(settings.tokens, MicrosoftToken) and settings.tokens.unattended
    assert settings.tokens.scopes == [APPLICATION_SCOPE]
    assert settings.tokens.cache_path == tmp_path / "config" / "processor" / CACHE_FILE
    assert settings.password is None
    no_secret_anywhere(repr(settings), settings.describe())
    command = settings_from("smtp.gmail.com", environ={"SMTP_AUTH": "OAuth2", "SMTP_USER": MAILBOX,
                                                       "SMTP_TOKEN_COMMAND": "hämta-token"})
    assert isinstance(command.tokens, CommandToken) and command.tokens.command == "hämta-token"


def test_the_token_settings_are_ignored_for_password_login_when_they_come_from_the_environment():
    settings = settings_from("smtp.kommun.se", user="u", environ={"SMTP_PASSWORD": "p", "SMTP_TOKEN_COMMAND": "x"})
    assert settings.auth == "password" and settings.tokens is None


def test_the_token_cache_lives_in_the_users_own_settings_folder(tmp_path, monkeypatch):
    assert config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "processor"
    monkeypatch.setenv("HOME", str(tmp_path / "hem"))
    assert config_dir({}) == tmp_path / "hem" / ".config" / "processor"
    assert config_dir({"XDG_CONFIG_HOME": "relativ"}) == tmp_path / "hem" / ".config" / "processor"


# --- Microsoft's identity platform, played by a local HTTPS server --------------------------------

class IdentityServer(BaseHTTPRequestHandler):
    """login.microsoftonline.com as msal sees it: OpenID configuration, device code and token endpoints."""

    def do_GET(self):
        base = f"https://127.0.0.1:{self.server.server_port}/{TENANT}"
        if self.path == f"/{TENANT}/v2.0/.well-known/openid-configuration":
            self.reply(200, {"issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                             "token_endpoint": f"{base}/oauth2/v2.0/token",
                             "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode"})
        else:
            self.reply(404, {"error": "invalid_tenant", "error_description": "AADSTS90002: Tenant not found."})

    def do_POST(self):
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        self.server.requests.append((self.path, form))
        if self.path.endswith("/devicecode"):
            self.reply(200, {"device_code": "enhet-1", "user_code": "KZ4PQ7XLN", "expires_in": 900, "interval": 1,
                             "verification_uri": "https://microsoft.com/devicelogin",
                             "message": "To sign in, use a web browser to open the page ..."})
            return
        grant = form["grant_type"]
        if grant == "client_credentials" and form.get("client_secret") != self.server.secret:
            self.reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret "
                                                                             "provided.\r\nTrace ID: 1"})
            return
        self.server.issued += 1
        token = {"token_type": "Bearer", "access_token": f"{SECRET_MARK}-ms-{self.server.issued}",
                 "expires_in": self.server.expires_in, "scope": form.get("scope", DELEGATED_SCOPE)}
        if grant != "client_credentials":
            claims = {"iss": f"https://127.0.0.1/{TENANT}/v2.0", "sub": "s", "aud": CLIENT_ID, "oid": "o",
                      "tid": "t", "preferred_username": MAILBOX, "exp": 9999999999, "iat": 1}
            token |= {"refresh_token": f"{SECRET_MARK}-refresh", "id_token": f"e30.{b64url(claims)}.",
                      "client_info": b64url({"uid": "o", "utid": "t"})}
        self.reply(200, token)

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def b64url(claims: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


@pytest.fixture
def identity(certificates, trust):
    """The local identity server: .requests (path, form), .issued tokens, .secret, .expires_in; .host for msal."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), IdentityServer)
    server.socket = server_context(certificates).wrap_socket(server.socket, server_side=True)
    server.requests, server.issued, server.secret, server.expires_in = [], 0, f"{SECRET_MARK}-klienthemlighet", 3600
    server.host = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def microsoft(identity, tmp_path, lines, secret=None) -> MicrosoftToken:
    return MicrosoftToken(TENANT, CLIENT_ID, MAILBOX, client_secret=secret, prompt=lines.append,
                          cache_path=config_dir({"XDG_CONFIG_HOME": str(tmp_path / "config")}) / CACHE_FILE,
                          login_host=identity.host)


def test_unattended_client_credentials_token_signs_in_and_the_run_goes_out(identity, outbox, smtp_server, tmp_path,
                                                                           caplog):
    caplog.set_level("DEBUG")
    lines = []
    tokens = microsoft(identity, tmp_path, lines, secret=identity.secret)
    settings = SmtpSettings("127.0.0.1", smtp_server.port, user=MAILBOX, auth="oauth2", tokens=tokens)
    result = send_outbox(outbox, settings, retry=FAST, progress=lines.append)
    assert result.ok and len(smtp_server.received) == 3
    assert smtp_server.offered == [f"{SECRET_MARK}-ms-1"]
    [(path, form)] = identity.requests
    assert path == f"/{TENANT}/oauth2/v2.0/token"
    assert form["grant_type"] == "client_credentials" and form["client_id"] == CLIENT_ID
    assert form["scope"] == APPLICATION_SCOPE
    assert tokens.token() == f"{SECRET_MARK}-ms-1" and len(identity.requests) == 1  # from the cache, not asked again
    assert lines and not any("koden" in line for line in lines)
    own_logs = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    no_secret_anywhere(*lines, *own_logs, repr(tokens), settings.describe(), folder=outbox)


def test_a_wrong_client_secret_is_a_swedish_error_naming_what_to_check(identity, tmp_path):
    tokens = microsoft(identity, tmp_path, [], secret="fel-hemlighet")
    with pytest.raises(TokenError) as error:
        tokens.token()
    message = str(error.value)
    assert message.startswith("Microsoft gav ingen token (invalid_client: AADSTS7000215: Invalid client secret")
    assert "SMTP_CLIENT_SECRET" in message and "Trace ID" not in message and "fel-hemlighet" not in message


def test_first_sign_in_prints_the_code_in_swedish_and_the_cache_is_private_and_reused(identity, tmp_path, caplog):
    caplog.set_level("DEBUG")
    lines = []
    first = microsoft(identity, tmp_path, lines)
    assert first.token() == f"{SECRET_MARK}-ms-1"
    assert lines[0] == (f"Logga in på Microsoft 365 för att skicka som {MAILBOX}: öppna https://microsoft.com/devicelogin "
                        "i en webbläsare och skriv in koden KZ4PQ7XLN. Koden gäller i 15 minuter; programmet väntar här "
                        "tills du har loggat in.")
    assert lines[1].startswith(f"Inloggad som {MAILBOX}. Inloggningen sparas i {first.cache_path}")
    device, token = identity.requests
    assert device[0].endswith("/devicecode") and token[1]["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert set(device[1]["scope"].split()) == {DELEGATED_SCOPE, "offline_access", "openid", "profile"}
    cache = first.cache_path
    assert cache == tmp_path / "config" / "processor" / CACHE_FILE
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert [p.name for p in cache.parent.iterdir()] == [CACHE_FILE]

    again = []
    later = microsoft(identity, tmp_path, again)
    assert later.token() == f"{SECRET_MARK}-ms-1" and len(identity.requests) == 2 and again == []
    no_secret_anywhere(*lines, *(r.getMessage() for r in caplog.records), repr(first))


def test_an_expiring_token_is_refreshed_silently(identity, tmp_path):
    identity.expires_in = 60  # msal renews a token that has less than five minutes left
    microsoft(identity, tmp_path, []).token()
    lines = []
    assert microsoft(identity, tmp_path, lines).token() == f"{SECRET_MARK}-ms-2"
    assert lines == []
    _, form = identity.requests[-1]
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == f"{SECRET_MARK}-refresh"
    assert DELEGATED_SCOPE in form["scope"].split()


def test_a_cache_file_left_readable_by_others_is_made_private(identity, tmp_path):
    microsoft(identity, tmp_path, []).token()
    cache = tmp_path / "config" / "processor" / CACHE_FILE
    os.chmod(cache, 0o644)
    microsoft(identity, tmp_path, []).token()
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_a_damaged_cache_file_means_signing_in_again(identity, tmp_path):
    cache = tmp_path / "config" / "processor" / CACHE_FILE
    cache.parent.mkdir(parents=True)
    cache.write_text('{"AccessToken": {', encoding="utf-8")
    lines = []
    assert microsoft(identity, tmp_path, lines).token() == f"{SECRET_MARK}-ms-1"
    assert "koden KZ4PQ7XLN" in lines[0]
    assert json.loads(cache.read_text(encoding="utf-8"))["RefreshToken"]


def test_an_unknown_tenant_is_a_swedish_error(identity, tmp_path):
    tokens = MicrosoftToken("fel.onmicrosoft.com", CLIENT_ID, MAILBOX, cache_path=tmp_path / CACHE_FILE,
                            login_host=identity.host)
    with pytest.raises(TokenError, match="hittar ingen organisation fel.onmicrosoft.com hos Microsoft"):
        tokens.token()


def test_a_refused_microsoft_sign_in_stops_the_send_before_anything_goes(identity, outbox, smtp_server, tmp_path):
    tokens = microsoft(identity, tmp_path, [], secret="fel-hemlighet")
    settings = SmtpSettings("127.0.0.1", smtp_server.port, user=MAILBOX, auth="oauth2", tokens=tokens)
    with pytest.raises(SendError, match="ingen token att logga in med: Microsoft gav ingen token"):
        send_outbox(outbox, settings, retry=FAST)
    assert smtp_server.offered == [] and journal_lines(outbox) == []


def test_an_unreachable_identity_service_is_a_swedish_error(tmp_path, trust):
    tokens = MicrosoftToken(TENANT, CLIENT_ID, MAILBOX, cache_path=tmp_path / CACHE_FILE,
                            login_host=f"127.0.0.1:{free_port()}")
    with pytest.raises(TokenError, match="kunde inte nå Microsofts inloggningstjänst 127.0.0.1:.* HTTPS_PROXY"):
        tokens.token()
    assert not (tmp_path / CACHE_FILE).exists()
