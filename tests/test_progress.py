"""colorot.progress: a long call tells how far it is, and a callback that raises stops it cleanly."""

from __future__ import annotations

import numpy as np
import pytest

import colorot
from colorot import progress, threads


class Stop(Exception):
    pass


def test_refine_reports_its_rounds_and_stops_between_them(astronaut, coffee):
    seen = []
    with progress.reporting(lambda fraction, message: seen.append((fraction, message))):
        expected = colorot.transfer(astronaut, coffee, refine=2, seed=0)
    rounds = [message for _, message in seen if message]
    assert rounds == ["refine: round 1 of 3", "refine: round 2 of 3", "refine: round 3 of 3"]
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0

    def stop_at_the_second_round(fraction, message):
        if message == "refine: round 2 of 3":
            raise Stop

    with progress.reporting(stop_at_the_second_round), pytest.raises(Stop):
        colorot.transfer(astronaut, coffee, refine=2, seed=0)
    # Nothing left behind: the same call afterwards gives the same pixels.
    np.testing.assert_array_equal(colorot.transfer(astronaut, coffee, refine=2, seed=0), expected)


@pytest.mark.parametrize("workers", [1, 2])
def test_strips_report_as_they_finish_and_a_raise_stops_those_not_begun(workers):
    seen, ran = [], []
    with progress.reporting(lambda fraction, message: seen.append(fraction)):
        assert threads.in_strips(lambda x: x * x, range(8), workers=workers) == [x * x for x in range(8)]
    assert seen == sorted(seen) and seen[-1] == 1.0

    def stop(fraction, message):
        if fraction > 0:
            raise Stop

    def work(item):
        ran.append(item)
        import time

        time.sleep(0.05)
        return item

    with progress.reporting(stop), pytest.raises(Stop):
        threads.in_strips(work, range(40), workers=workers)
    assert len(ran) < 40


def test_without_a_callback_nothing_is_reported_and_nothing_changes(astronaut, coffee):
    assert not progress.active()
    with progress.reporting(lambda fraction, message: None):
        assert progress.active()
        with_callback = colorot.transfer(astronaut, coffee, seed=0)
    assert not progress.active()
    np.testing.assert_array_equal(colorot.transfer(astronaut, coffee, seed=0), with_callback)


def test_the_default_fit_reports_its_steps_and_stops_between_them(astronaut, coffee):
    seen = []
    with progress.reporting(lambda fraction, message: seen.append(fraction)):
        colorot.ColorTransfer(seed=0).fit(coffee, [astronaut])
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0

    def stop(fraction, message):
        raise Stop

    with progress.reporting(stop), pytest.raises(Stop):
        colorot.ColorTransfer(seed=0).fit(coffee, [astronaut])
