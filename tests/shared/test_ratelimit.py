"""Token bucket pacing, on a fake clock and once in real time across threads."""

from __future__ import annotations

import threading
import time

import pytest
from carbon_taps_shared.ratelimit import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_rate_spaces_acquisitions_on_fake_clock() -> None:
    fake = FakeTime()
    bucket = TokenBucket(50, burst=1, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.acquire() for _ in range(20)]
    assert waits[0] == 0.0
    assert waits[1:] == pytest.approx([0.02] * 19)
    assert fake.now == pytest.approx(19 / 50)


def test_burst_is_free_then_paced() -> None:
    fake = FakeTime()
    bucket = TokenBucket(10, burst=5, clock=fake.clock, sleep=fake.sleep)
    waits = [bucket.acquire() for _ in range(7)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.1, 0.1])


def test_idle_time_refills_but_not_beyond_burst() -> None:
    fake = FakeTime()
    bucket = TokenBucket(10, burst=2, clock=fake.clock, sleep=fake.sleep)
    bucket.acquire(2)
    fake.now += 100.0
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_zero_rate_is_unlimited() -> None:
    slept: list[float] = []
    bucket = TokenBucket(0, sleep=slept.append)
    assert all(bucket.acquire() == 0.0 for _ in range(1000))
    assert slept == []


def test_asking_for_more_than_the_burst_is_an_error() -> None:
    with pytest.raises(ValueError, match="bucket of 2"):
        TokenBucket(5, burst=2).acquire(3)


def test_rate_respected_across_threads_in_real_time() -> None:
    bucket = TokenBucket(50, burst=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            bucket.acquire()
            with lock:
                stamps.append(time.monotonic())

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    assert len(stamps) == 20
    assert elapsed >= 0.36
    assert elapsed < 5.0  # generous: a loaded machine only makes it slower
    # never more than burst + rate * window acquisitions in any window
    stamps.sort()
    assert stamps[10] - stamps[0] >= 0.18
