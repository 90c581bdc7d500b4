"""The core's checks around every Runner.profile: runs, warmup and input samples are
refused with a UsageError before a runner sees them."""

from __future__ import annotations

import pytest

from edgeq.contracts import Artifact, LatencyStats, ProfileReport, Runner
from edgeq.errors import UsageError


class Counting(Runner):
    name, targets = "counting", ("fake",)

    def __init__(self):
        self.calls = 0

    def run(self, artifact, feeds):
        return {}

    def profile(self, artifact, feeds, *, runs=50, warmup=5, **options):
        self.calls += 1
        return ProfileReport(target="fake", runner=self.name, latency=LatencyStats.from_samples([1.0] * runs))


class RandomInputs(Counting):
    requires_feeds = False


def test_profile_arguments_are_checked_before_the_runner(tmp_path):
    art = Artifact(tmp_path, {"target": "fake"})
    runner = Counting()
    for kwargs, match in (({"runs": 0}, "runs must be >= 1"), ({"warmup": -1}, "warmup >= 0")):
        with pytest.raises(UsageError, match=match):
            runner.profile(art, [{}], **kwargs)
    with pytest.raises(UsageError, match="at least one input sample"):
        runner.profile(art, [])
    assert runner.calls == 0
    assert runner.profile(art, [{}], runs=2).latency.runs == 2 and runner.calls == 1
    # a runner whose tool makes up inputs takes no feeds, and still no runs=0
    other = RandomInputs()
    other.profile(art, [], runs=1)
    with pytest.raises(UsageError, match="runs must be >= 1"):
        other.profile(art, [], runs=0)
