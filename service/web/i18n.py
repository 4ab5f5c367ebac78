"""The pages' languages: which one a request reads in, its translations, and its numbers, dates
and country names (Babel, CLDR data shipped in the package: nothing is fetched).

A request reads in the language its `?lang=` asks for (remembered in a cookie; an unknown or
malformed one is ignored and never remembered, as a made-up cookie is), else the one its cookie
remembers, else the best of its `Accept-Language`, else English. The catalogs are the .po files
under translations/, compiled when the service starts; English is the source language of every
message, so it needs none."""

from __future__ import annotations

import functools
import gettext
import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from starlette.requests import Request
from starlette.responses import Response

LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
"""Each language the pages are written in, by its own name (as the switch shows it)."""
DEFAULT = "en"
COOKIE = "constellate_lang"
PARAM = "lang"
CATALOGS = Path(__file__).parent / "translations"
DOMAIN = "messages"
FORMATS = {"en": "en_GB", "de": "de_DE"}
"""The CLDR locale each language writes numbers and dates in (British English: 31 Mar 2027)."""
COOKIE_SECONDS = 365 * 24 * 3600


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's messages, compiled from its .po catalog (once per process)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    path = CATALOGS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@functools.lru_cache(maxsize=512)
def from_accept_language(header: str) -> str | None:
    """The supported language the header prefers most (RFC 9110 weights; ties in order)."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        language = tag.strip().lower().split("-", 1)[0]
        if language not in LANGUAGES:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0 and (best is None or (weight, -index) > best[:2]):
            best = (weight, -index, language)
    return best[2] if best else None


def asked(request: Request) -> str | None:
    """The language `?lang=` asks for, if it names one of ours (any other value: as if absent; a
    language switch is a preference, and a page is not refused for it)."""
    value = request.query_params.get(PARAM)
    return value if value in LANGUAGES else None


def language_of(request: Request) -> str:
    """The language the request reads in: `?lang=`, the cookie, `Accept-Language`, English."""
    chosen = asked(request)
    if chosen is not None:
        return chosen
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT


def remember(request: Request, response: Response, *, secure: bool) -> None:
    """Keeps the language a `?lang=` chose for the next pages (a harmless preference: no token);
    an unknown one is not kept."""
    chosen = asked(request)
    if chosen is not None:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_SECONDS, samesite="lax", secure=secure)


class Words:
    """Messages, numbers, dates and country names in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(FORMATS[language])
        self._translations = translations(language)

    def __call__(self, message: str, **values: Any) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def plural(self, singular: str, plural: str, count: int, **values: Any) -> str:
        text = self._translations.ngettext(singular, plural, count)
        return text % {"num": self.number(count), **values}

    def number(self, value: float | int, digits: int | None = None) -> str:
        """A number in the locale's digits; `digits` fixes the decimals, else up to three."""
        pattern = "#,##0" + ("." + "0" * digits if digits else "") if digits is not None else "#,##0.###"
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.locale)

    def date(self, value: str | date | datetime | None) -> str:
        """A date as people write it (31 Mar 2027; 31. März 2027); "" when there is none."""
        day = parse_day(value)
        return format_skeleton("yMMMd", day, locale=self.locale) if day is not None else ""

    def country(self, code: str | None) -> str:
        """A country by its name in this language (ISO 3166 alpha-2 code)."""
        if not code:
            return ""
        return str(self.locale.territories.get(code.upper(), code))


def parse_day(value: str | date | datetime | None) -> date | None:
    """The calendar day (UTC) of an ISO date or date-time; None when it is not one."""
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "PARAM", "Words", "from_accept_language", "language_of", "translations"]
