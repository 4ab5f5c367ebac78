"""What a journey answer says about itself, on a real Anvil and both databases: a member's
journey is private to caches, an unknown `?lang=` is ignored rather than refused, and the
recall status names the recalls it answers from."""

from __future__ import annotations

import pytest

from service.web import i18n
from service.web.pages import COOKIE

from . import journey
from .conftest import Api
from .test_journey_claims import _recall_lot_1
from .test_journeys import JSON, ROAST_PATH, Shop

VARY = "Accept, Accept-Encoding, Accept-Language, Authorization, Cookie"
STATUS_PATH = f"{ROAST_PATH}?linkType=gs1:recallStatus"


@pytest.fixture
def shop(api: Api) -> Shop:
    return Shop(api)


def test_a_members_journey_is_private_to_caches_and_the_publics_is_not(shop: Shop) -> None:
    key = shop.brand_h["Authorization"].split(" ", 1)[1]
    for headers in ({}, JSON, {"Accept-Encoding": "gzip"}):
        public = shop.page(ROAST_PATH, headers)
        assert (public.headers["cache-control"], public.headers["vary"]) == ("no-cache", VARY)
        for member in (shop.brand_h, {"Cookie": f"{COOKIE}={key}"}):
            read = shop.page(ROAST_PATH, {**headers, **member})
            assert (read.headers["cache-control"], read.headers["vary"]) == ("private, no-cache", VARY)
    assert shop.page(STATUS_PATH).headers["cache-control"] == "no-cache"
    assert shop.page(STATUS_PATH, shop.brand_h).headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize("lang", ["fr", "", "d" * 9000, "de%0D%0ASet-Cookie:%20x=1", "DE"])
def test_an_unknown_lang_is_ignored_and_never_remembered(shop: Shop, lang: str) -> None:
    shop.api.client.cookies.clear()
    browser = shop.page(f"{ROAST_PATH}?lang={lang}", {"Accept-Language": "de"})
    assert '<html lang="de"' in browser.text and not _remembers(browser.headers.get_list("set-cookie"))
    remembered = shop.page(f"{ROAST_PATH}?lang={lang}", {"Accept-Language": "en", "Cookie": f"{i18n.COOKIE}=de"})
    assert '<html lang="de"' in remembered.text and not _remembers(remembered.headers.get_list("set-cookie"))
    chosen = shop.page(f"{ROAST_PATH}?lang=en", {"Accept-Language": "de"})
    assert '<html lang="en"' in chosen.text and _remembers(chosen.headers.get_list("set-cookie")) == ["en"]


def _remembers(cookies: list[str]) -> list[str]:
    return [c.split(";", 1)[0].split("=", 1)[1] for c in cookies if c.startswith(i18n.COOKIE + "=")]


def test_the_recall_status_says_it_answers_from_the_recalls_shared_with_its_reader(shop: Shop) -> None:
    shop.api.own_prefix(shop.farm_h, journey.GREEN)
    _recall_lot_1(shop, shop.farm_h)  # the farm recalls its lot and shares nothing of it
    hidden = shop.page(STATUS_PATH).json()
    assert (hidden["recalled"], hidden["basis"], hidden["recall"]) == (False, "recalls shared with this reader", None)
    shop.api.grant(shop.farm_h, "coffee", ["why", "extensions"], audience={"kind": "public"})
    shown = shop.page(STATUS_PATH).json()
    assert (shown["recalled"], shown["basis"]) == (True, "recalls shared with this reader")
