"""The SMTP conversation: connect, TLS, log in (a password, or XOAUTH2 with a token), one transaction.

What goes wrong is said in Swedish with what to check (``SendError``), or, for a message the server
will not take, with its code and answer (``Refused``).
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl

from processor import oauth
from processor.smtp_settings import SmtpSettings


class SendError(Exception):
    """The server cannot be used (unreachable, refuses TLS or login): a Swedish message, exit status 1."""


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
    except TimeoutError:
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
