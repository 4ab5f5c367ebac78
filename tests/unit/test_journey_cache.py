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


def test_a_failed_build_leaves_each_waiter_to_build_its_own_at_once() -> None:
    cache, started, release = JourneyCache(8), threading.Event(), threading.Event()

    def failing() -> Entry:
        started.set()
        release.wait(5)
        raise RuntimeError("the database went away")

    def slow_own() -> Entry:
        time.sleep(0.3)
        return _entry(3, "retried")

    with ThreadPoolExecutor(5) as pool:
        leader = pool.submit(cache.get_or_build, KEY, 3, failing)
        assert started.wait(5)
        waiters = [pool.submit(cache.get_or_build, KEY, 3, slow_own) for _ in range(4)]
        time.sleep(0.1)
        released = time.monotonic()
        release.set()
        with pytest.raises(RuntimeError, match="went away"):
            leader.result()
        assert [w.result().body for w in waiters] == [{"tag": "retried"}] * 4
        took = time.monotonic() - released
    assert took < 0.3 * 3, f"the waiters built one after another ({took:.2f} s)"  # together: about 0.3 s
    assert cache.get(KEY, 3) is not None  # a waiter's own build is cached
    assert cache.get_or_build(KEY, 4, lambda: _entry(4, "after")).body == {"tag": "after"}  # nothing left locked


class _Watched(threading.Event):
    """An event that tells when a thread starts waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waited = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.set()
        return super().wait(timeout)


def test_a_hung_build_loses_the_lead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Event-driven, no timing window: the taker waits out a short bound on the hung build and
    leads; then the follower must wait on the taker's build (not the hung one), and one build
    serves both."""
    monkeypatch.setattr("service.web.journeys.BUILD_WAIT_SECONDS", 0.05)
    cache, started, release = JourneyCache(8), threading.Event(), threading.Event()
    leading, finish = threading.Event(), threading.Event()

    def hung() -> Entry:
        started.set()
        release.wait(30)
        return _entry(5, "late")

    builds: list[str] = []

    def quick() -> Entry:
        builds.append("quick")
        leading.set()
        finish.wait(30)
        return _entry(5, "quick")

    with ThreadPoolExecutor(4) as pool:
        stuck = pool.submit(cache.get_or_build, KEY, 5, hung)
        assert started.wait(30)
        taker = pool.submit(cache.get_or_build, KEY, 5, quick)  # waits out the bound, then leads
        assert leading.wait(30)
        monkeypatch.setattr("service.web.journeys.BUILD_WAIT_SECONDS", 30.0)
        lead = cache._builds[(KEY, 5)]
        lead.done = watched = _Watched()
        follower = pool.submit(cache.get_or_build, KEY, 5, quick)
        assert watched.waited.wait(30), "the follower did not wait for the new leader"
        finish.set()
        assert taker.result().body == follower.result().body == {"tag": "quick"}
        assert builds == ["quick"]
        release.set()
        assert stuck.result().body == {"tag": "late"}


def test_an_older_reader_neither_drops_nor_replaces_a_newer_entry() -> None:
    cache = JourneyCache(8)
    cache.put(KEY, _entry(9, "new"))
    assert cache.get(KEY, 8) is None  # a reader that saw revision 8 builds its own ...
    cache.put(KEY, _entry(8, "old"))  # ... which does not replace the newer one
    assert cache.get(KEY, 9).body == {"tag": "new"}  # type: ignore[union-attr]
    assert cache.get(KEY, 10) is None and cache.get(KEY, 9) is None  # a newer reader drops it


def test_no_capacity_caches_nothing() -> None:
    cache = JourneyCache(0)
    assert cache.get_or_build(KEY, 1, lambda: _entry(1, "a")).body == {"tag": "a"}
    assert cache.get(KEY, 1) is None
