"""Where and how ``send`` connects: the server, its security and the login (password or OAuth 2.0).

The values come from the command line, then the environment (``SMTP_HOST`` …); every one is
checked here, all problems at once, before anything is sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from processor import oauth
from processor.errors import InputError, Problem

SECURITY = ("starttls", "ssl", "none")
AUTH = ("password", "oauth2")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TENANT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.-]*$")


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
