"""The one redactor, and terminal safety, for every way text leaves waiter.

:func:`redact` masks secrets: every value given to :func:`remember_secrets` (a token, an access
key pair, a security token, from wherever they were read), and the credential parts of request
headers a server echoes back in an error body, whatever their value. It runs on every log event,
exception message, result line and report, so it costs one precompiled regex scan when nothing
matches.

:func:`printable` escapes what a terminal would act on (escape sequences, carriage returns,
bidi overrides) in text that came from a server, so it shows as ``\\x1b`` instead of clearing
the screen or forging a line.

Only ``re`` is imported: this module loads on every path of the command line, ``--help``
included (``re`` is there already, for argparse).
"""

from __future__ import annotations

import re

__all__ = ["MASK", "printable", "redact", "remember_secrets"]

MASK = "***"
# From this length a secret is masked wherever it occurs, even inside a longer word: no
# ordinary word is that long by chance. A shorter one (a test token such as "test") is masked
# only as a whole word, so that "latest" stays "latest".
LONG_SECRET = 16

# The credential-carrying request headers, as a server may echo them: "X-Auth-Token: v",
# '"X-Auth-Token": "v"', "'Authorization': 'v'", "x-auth-token=v", "HTTP_X_AUTH_TOKEN=v" (CGI).
_NAMES = r"(?i:x[-_]auth[-_]token|x[-_]security[-_]token|x[-_]subject[-_]token|authorization)"
# Not part of a longer name ("my-authorization", "authorizationX"); "_" may precede for CGI.
# A comma separates only a quoted name from its value, as in a tuple ('X-Auth-Token', 'v').
_NAME = rf"(?<![A-Za-z0-9-]){_NAMES}(?![A-Za-z0-9-])(?:[\"']?\s*[:=]|[\"']\s*,)\s*"
# An Authorization scheme is kept visible; the credential after it is masked. Only known
# schemes: taking any first word as a scheme would leave a bare credential followed by a
# space unmasked. (Access= of Huawei's signature is kept too; its value is masked.)
_SCHEME = r"(?:(?i:bearer|basic|digest|token|negotiate|(?:[a-z0-9]+-)*hmac-sha\d+)\s+(?:Access=)?)?"
# Huawei's signature header, "SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=hex",
# wherever it appears: the access key and the signature are masked, the header list kept.
_SIGNED_PART = r"(?<![A-Za-z0-9-])(?:Access|Signature)="
# An unquoted value ends where a header value, a list or markup would end it.
_BARE_VALUE = r"[^\s,;\"'<>]+"
# A quoted value is masked whole, up to its closing quote (escaped quotes included).
_QUOTED_VALUE = r"(?:(?!(?P=quote))[^\\\n]|\\.)+"


def remember_secrets(*values: str | None) -> None:
    """Mask these values everywhere from now on (None and empty values are skipped)."""
    new = set()
    for value in values:
        if value and value.strip():
            # Both as given and stripped: files and answers are read with surrounding spaces,
            # the stripped value is the one sent.
            new.update({value, value.strip()} - _known.secrets)
    if new:
        _known.secrets.update(new)
        _known.version += 1


def _secret_pattern(secret: str) -> str:
    escaped = re.escape(secret)
    if len(secret) >= LONG_SECRET:
        return escaped
    # A short secret only where it is not part of a longer run of letters and digits ([^\W_]:
    # \w without "_"), at each end that is a letter or digit itself.
    before = r"(?<![^\W_])" if secret[0].isalnum() else ""
    after = r"(?![^\W_])" if secret[-1].isalnum() else ""
    return before + escaped + after


def _build(secrets: list[str]) -> re.Pattern[str]:
    # Longest first: at one position the first alternative that matches wins, so a secret that
    # contains another is masked whole.
    alternatives = "|".join(_secret_pattern(s) for s in sorted(secrets, key=lambda s: -len(s)))
    # A header's value tries the known secrets first: one holding a "," or ";" is masked whole,
    # not cut at it with its tail left showing.
    value = f"(?:{alternatives}|{_BARE_VALUE})" if alternatives else _BARE_VALUE
    headers = (
        rf"(?P<qkeep>{_NAME}(?P<quote>[\"']))(?P<qvalue>{_QUOTED_VALUE})"
        rf"|(?P<keep>{_NAME}{_SCHEME}|{_SIGNED_PART})(?P<value>{value})"
    )
    return re.compile(f"{alternatives}|{headers}" if alternatives else headers)


class _Registry:
    """The process-wide secrets, and the pattern built from them."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        # Bumped on every change of ``secrets``; ``compiled`` records the version it was built
        # from. A version, not a "dirty" flag, so that a rebuild racing a registration (a log
        # event on one thread while another reads a token file) is redone, never kept stale.
        self.version = 0
        # (version, pattern, the secrets in it): replaced whole, never mutated, so a reader on
        # another thread sees one consistent triple. Built on first use, not at import: a
        # usage error that loads this module (ConfigError) never needs it.
        self.compiled: tuple[int, re.Pattern[str] | None, tuple[str, ...]] = (-1, None, ())

    def current(self) -> tuple[re.Pattern[str], tuple[str, ...]]:
        version, pattern, secrets = self.compiled
        if version != self.version or pattern is None:
            version = self.version  # read before the secrets: one added in between rebuilds
            secrets = tuple(self.secrets)
            pattern = _build(list(secrets))
            self.compiled = (version, pattern, secrets)
        return pattern, secrets


_known = _Registry()


def _mask(match: re.Match[str]) -> str:
    # A header or signature part keeps its name (and quote, scheme); a secret goes whole.
    kept = match["keep"] or match["qkeep"]
    return kept + MASK if kept else MASK


def redact(text: str) -> str:
    """``text`` with every known secret and echoed credential header value masked as ``***``.

    Returns ``text`` itself when nothing matches. That is decided by substring tests, ~1 us for
    a log line: Python's regex engine has no fast scan for this pattern (its look-behinds and
    case-insensitive names cost ~20 us a line), so it runs only on text that may match.
    """
    pattern, secrets = _known.current()
    # A superset of what the pattern matches: every header name holds "token" or is
    # "authorization" (any case), the signature parts are "Access=" and "Signature=".
    lowered = text.lower()
    if not (
        "token" in lowered
        or "authorization" in lowered
        or "access=" in lowered
        or "signature=" in lowered
    ):
        for secret in secrets:  # a plain loop: a generator in any() costs twice as much
            if secret in text:
                break
        else:
            return text
    return pattern.sub(_mask, text)


# What a terminal acts on instead of showing: C0 controls (ESC, BEL, CR, LF, BS, TAB...), DEL,
# C1 controls (U+0080-U+009F; U+009B is a one-byte CSI for some terminals), the bidi embeddings,
# overrides and isolates that reorder what is shown (U+202A-U+202E, U+2066-U+2069), and the
# Unicode line and paragraph separators that some viewers break lines at.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_LINES = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# The escapes Python's repr() uses, which readers know: \n, \r, \t, \x1b, \u202e.
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match[0]
    named = _NAMED.get(char)
    if named:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control and bidi characters shown as escapes (``\\x1b``, ``\\u202e``).

    Newlines are escaped too, so a server's text cannot start a line of its own in a table or
    a log line, unless ``keep_newlines`` (a traceback, which is lines by nature). Returns
    ``text`` itself when there is nothing to escape.
    """
    if text.isprintable():  # C-fast, and false for every character escaped here
        return text
    pattern = _UNSAFE_BUT_LINES if keep_newlines else _UNSAFE
    return pattern.sub(_escape, text)
