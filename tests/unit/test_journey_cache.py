"""The journey cache: one build per journey and revision in a process, however many readers
ask at once; a failed build is nobody else's answer; a new revision is a new build."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from service.web.journeys import Entry, JourneyCache

KEY = ("public:", "https://id.example/01/09506000990019/10/LOT-1")


def _entry(revision: int, tag: str) -> Entry:
    return Entry(revision=revision, expires=None, body={"tag": tag}, log_rows=[])


def test_readers_asking_at_once_share_one_build() -> None:
    cache, builds, started = JourneyCache(8), [], threading.Event()

    def build() -> Entry:
        builds.append(threading.get_ident())
        started.set()
        time.sleep(0.3)  # long enough for every other reader to arrive while it runs
        return _entry(7, "built")

    with ThreadPoolExecutor(16) as pool:
        first = pool.submit(cache.get_or_build, KEY, 7, build)
        assert started.wait(5)
        others = [pool.submit(cache.get_or_build, KEY, 7, build) for _ in range(15)]
        answers = [first.result(), *(f.result() for f in others)]
    assert len(builds) == 1
    assert {id(a) for a in answers} == {id(answers[0])} and answers[0].body == {"tag": "built"}
    assert cache.get(KEY, 7) is answers[0]


def test_a_new_revision_is_built_again_and_other_keys_do_not_wait() -> None:
    cache = JourneyCache(8)
    assert cache.get_or_build(KEY, 1, lambda: _entry(1, "one")).body == {"tag": "one"}
    assert cache.get_or_build(KEY, 1, lambda: _entry(1, "never")).body == {"tag": "one"}
    assert cache.get_or_build(KEY, 2, lambda: _entry(2, "two")).body == {"tag": "two"}
    other = ("public:", "https://id.example/01/09506000990019/10/LOT-2")
    assert cache.get_or_build(other, 2, lambda: _entry(2, "other")).body == {"tag": "other"}


def test_a_failed_build_leaves_each_waiter_to_build_its_own() -> None:
    cache, started, release = JourneyCache(8), threading.Event(), threading.Event()

    def failing() -> Entry:
        started.set()
        release.wait(5)
        raise RuntimeError("the database went away")

    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(cache.get_or_build, KEY, 3, failing)
        assert started.wait(5)
        waiter = pool.submit(cache.get_or_build, KEY, 3, lambda: _entry(3, "retried"))
        time.sleep(0.1)
        release.set()
        with pytest.raises(RuntimeError, match="went away"):
            leader.result()
        assert waiter.result().body == {"tag": "retried"}
    assert cache.get(KEY, 3) is not None  # the waiter's own build is cached
    assert cache.get_or_build(KEY, 4, lambda: _entry(4, "after")).body == {"tag": "after"}  # nothing left locked


def test_no_capacity_caches_nothing_but_still_shares_a_running_build() -> None:
    cache = JourneyCache(0)
    assert cache.get_or_build(KEY, 1, lambda: _entry(1, "a")).body == {"tag": "a"}
    assert cache.get(KEY, 1) is None
