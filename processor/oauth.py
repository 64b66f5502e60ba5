"""Access tokens for signing in to SMTP with OAuth 2.0 (SASL XOAUTH2) instead of a password.

A token source is asked for a token at every (re)connection: tokens live about an hour and a
long batch may outlive one. Two sources: a command the user names (its output is the token),
and Microsoft's identity platform through ``msal`` (device-code sign-in once, then a token
cache readable only by the user; or the client-credentials flow for unattended sending).

A token is a password for an hour: it is never printed, logged, put into an exception or
written anywhere but the user's own token cache.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from msal import ClientApplication

MICROSOFT_SMTP_HOST = "smtp.office365.com"
MICROSOFT_LOGIN_HOST = "login.microsoftonline.com"
DELEGATED_SCOPE = "https://outlook.office365.com/SMTP.Send"
APPLICATION_SCOPE = "https://outlook.office365.com/.default"
CACHE_FILE = "microsoft-token-cache.json"
COMMAND_TIMEOUT = 120.0

Prompt = Callable[[str], None]


class TokenError(Exception):
    """No token could be had: a Swedish message that says what to check, never the token."""


class TokenSource(Protocol):
    """Where the access token comes from; asked again at every connection."""

    def token(self) -> str:
        """A current access token (a secret: keep it out of every message)."""

    def describe(self) -> str:
        """Where the token comes from, in Swedish, for the confirmation before sending."""


def xoauth2_response(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response, base64 encoded, as Google and Microsoft define it."""
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    return base64.b64encode(raw).decode("ascii")


def _checked(token: str, source: str) -> str:
    """A token is one printable word; anything else is a helper printing more than the token."""
    if not token:
        raise TokenError(f"{source} gav ingen token (tom utdata). Kontrollera att kommandot skriver ut token, och "
                         "bara den, på standard ut.")
    if not re.fullmatch(r"[\x21-\x7e]+", token):
        raise TokenError(f"{source} skrev ut mer än en token (mellanslag, radbrytningar eller andra tecken). "
                         "Kommandot ska skriva ut token och ingenting annat på standard ut; meddelanden hör hemma "
                         "på standard fel.")
    return token


# --- a token command ----------------------------------------------------------------------------

class CommandToken:
    """A token from a command run by the shell at every connection: its standard output, stripped."""

    def __init__(self, command: str, timeout: float = COMMAND_TIMEOUT):
        self.command, self.timeout = command, timeout

    def __repr__(self) -> str:
        return "CommandToken(...)"

    def describe(self) -> str:
        return "token från tokenkommandot"

    def token(self) -> str:
        try:
            process = subprocess.Popen(self.command, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=os.name != "nt")
        except OSError as error:
            raise TokenError(f"tokenkommandot gick inte att starta ({error.strerror or error}). Kontrollera "
                             "--token-command (SMTP_TOKEN_COMMAND).") from None
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            out, err = process.communicate()
            seconds = f"{self.timeout:g}".replace(".", ",")
            raise TokenError(f"tokenkommandot blev inte klart inom {seconds} s"
                             f"{_last_line(err, out)}. Kontrollera att det går att köra utan att vänta på svar "
                             "från dig.") from None
        except BaseException:
            _kill(process)
            raise
        token = out.decode("utf-8", "replace").strip()
        if process.returncode != 0:
            raise TokenError(f"tokenkommandot misslyckades (slutstatus {process.returncode}){_last_line(err, out)}. "
                             "Kör kommandot själv i ett terminalfönster och rätta felet, eller kontrollera "
                             "--token-command (SMTP_TOKEN_COMMAND).")
        return _checked(token, "tokenkommandot")


def _kill(process: subprocess.Popen) -> None:
    """The shell and everything it started, so no child keeps the pipes open."""
    if os.name == "nt":
        process.kill()
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _last_line(err: bytes, out: bytes) -> str:
    """``: <the last line of stderr>``, with whatever the command printed on stdout blanked out of it."""
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1]
    for word in out.decode("utf-8", "replace").split():
        if len(word) >= 8:
            line = line.replace(word, "***")
    return f": {line[:300]}"


# --- Microsoft's identity platform --------------------------------------------------------------

def config_dir(environ: dict | None = None) -> Path:
    """The user's own settings folder: %APPDATA%\\processor, $XDG_CONFIG_HOME/processor or ~/.config/processor."""
    env = os.environ if environ is None else environ
    if os.name == "nt" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "processor"
    base = env.get("XDG_CONFIG_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".config") / "processor"


class TokenCache:
    """msal's token cache in one file that only the user can read (mode 0600, written whole)."""

    def __init__(self, path: Path):
        import msal

        self.path = Path(path)
        self.cache = msal.SerializableTokenCache()
        if self.path.is_file():
            if os.name != "nt":
                os.chmod(self.path, 0o600)
            try:
                self.cache.deserialize(self.path.read_text(encoding="utf-8"))
            except ValueError:
                self.cache = msal.SerializableTokenCache()  # a damaged cache only means signing in again

    def save(self) -> None:
        """Write the cache if it changed: a new file created 0600 beside it, then renamed into place."""
        if not self.cache.has_state_changed:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".token-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as writer:
                writer.write(self.cache.serialize())
                writer.flush()
                os.fsync(writer.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self.cache.has_state_changed = False


class MicrosoftToken:
    """Tokens for Exchange Online SMTP from Microsoft Entra ID through ``msal``.

    Without a client secret: the signed-in user's token (scope SMTP.Send), from the cache and
    refreshed silently, else through the device-code flow (the code and the address printed in
    Swedish). With one: the app's own token (client credentials, scope ``.default``), for the
    unattended case, the mailbox granted to the app's service principal.
    """

    def __init__(self, tenant: str, client_id: str, user: str, client_secret: str | None = None,
                 cache_path: Path | None = None, prompt: Prompt = print,
                 login_host: str = MICROSOFT_LOGIN_HOST):
        self.tenant, self.client_id, self.user = tenant, client_id, user
        self.client_secret = client_secret
        self.cache_path = Path(cache_path) if cache_path else config_dir() / CACHE_FILE
        self.prompt, self.login_host = prompt, login_host
        self._application = None
        self._cache: TokenCache | None = None

    def __repr__(self) -> str:
        return f"MicrosoftToken(tenant={self.tenant!r}, client_id={self.client_id!r}, user={self.user!r})"

    @property
    def unattended(self) -> bool:
        return bool(self.client_secret)

    @property
    def scopes(self) -> list[str]:
        """What is asked for; msal adds offline_access (for the refresh token), openid and profile itself."""
        return [APPLICATION_SCOPE] if self.unattended else [DELEGATED_SCOPE]

    def describe(self) -> str:
        how = "appens klienthemlighet (SMTP_CLIENT_SECRET)" if self.unattended else "inloggning i webbläsaren"
        return f"token från Microsoft Entra ID med {how}"

    def token(self) -> str:
        import requests

        try:
            application = self.application()
            if self.unattended:
                result = application.acquire_token_for_client(scopes=self.scopes)
            else:
                result = self._silently(application) or self._device_flow(application)
        except requests.RequestException as error:
            raise TokenError(f"kunde inte nå Microsofts inloggningstjänst {self.login_host} "
                             f"({type(error).__name__}). Kontrollera nätverket; går trafiken genom en proxy, sätt "
                             "HTTPS_PROXY (och REQUESTS_CA_BUNDLE om proxyn byter certifikat).") from None
        finally:
            if self._cache is not None:
                self._cache.save()
        if "access_token" not in result:
            raise TokenError(self._refusal(result))
        return result["access_token"]

    def application(self) -> ClientApplication:
        """The msal application, made once (making it asks Microsoft for the tenant's endpoints)."""
        if self._application is None:
            import msal

            self._cache = TokenCache(self.cache_path)
            authority = f"https://{self.login_host}/{self.tenant}"
            options = {"authority": authority, "token_cache": self._cache.cache, "instance_discovery": False}
            try:
                if self.unattended:
                    self._application = msal.ConfidentialClientApplication(
                        self.client_id, client_credential=self.client_secret, **options)
                else:
                    self._application = msal.PublicClientApplication(self.client_id, **options)
            except ValueError:
                raise TokenError(f"hittar ingen organisation {self.tenant} hos Microsoft. Kontrollera "
                                 "--microsoft-tenant (SMTP_MICROSOFT_TENANT): katalog-id:t (Directory/tenant ID) "
                                 "eller domänen, t.ex. kommun.onmicrosoft.com.") from None
        return self._application

    def _silently(self, application) -> dict | None:
        """A cached token, or one refreshed with the cached refresh token, for the user's account."""
        accounts = application.get_accounts(username=self.user)
        if not accounts:
            others = application.get_accounts()
            accounts = others if len(others) == 1 else []
        return application.acquire_token_silent(self.scopes, account=accounts[0]) if accounts else None

    def _device_flow(self, application) -> dict:
        """Sign in once in a browser: the code and the address printed in Swedish, then wait for the user."""
        flow = application.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            return flow
        minutes = max(1, round(int(flow.get("expires_in", 900)) / 60))
        self.prompt(f"Logga in på Microsoft 365 för att skicka som {self.user}: öppna {flow['verification_uri']} "
                    f"i en webbläsare och skriv in koden {flow['user_code']}. Koden gäller i {minutes} minuter; "
                    "programmet väntar här tills du har loggat in.")
        result = application.acquire_token_by_device_flow(flow)
        if "access_token" in result:
            claims = result.get("id_token_claims") or {}
            who = claims.get("preferred_username") or claims.get("upn") or self.user
            self.prompt(f"Inloggad som {who}. Inloggningen sparas i {self.cache_path} (bara du kan läsa filen), så "
                        "nästa gång behövs ingen kod.")
        return result

    def _refusal(self, result: dict) -> str:
        error = str(result.get("error", "okänt fel"))
        description = str(result.get("error_description", "")).strip().splitlines()
        reason = f"{error}: {description[0]}" if description else error
        if error == "invalid_client":
            fix = ("Kontrollera --microsoft-client-id (SMTP_MICROSOFT_CLIENT_ID) och att SMTP_CLIENT_SECRET är "
                   "appens giltiga klienthemlighet (den kan ha gått ut).")
        elif error in ("authorization_declined", "expired_token", "bad_verification_code"):
            fix = "Kör processor send igen och logga in med den nya koden inom tiden."
        else:
            fix = ("Kontrollera --microsoft-tenant och --microsoft-client-id, och att appen i Entra ID har "
                   f"behörigheten {'SMTP.SendAsApp' if self.unattended else 'SMTP.Send'} med administratörens "
                   "medgivande (se docs/epost.md).")
        return f"Microsoft gav ingen token ({reason}). {fix}"

