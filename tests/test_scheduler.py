"""The service's clock: what runs when, in Beijing time, whatever zone the server keeps."""

from __future__ import annotations

from datetime import datetime, timedelta

import campaigns
from core.times import SHANGHAI
from scheduler import Service
from service.runtime import open_runtime


def _runtime(tmp_path, notify: str = ""):
    config = tmp_path / "intake.toml"
    config.write_text(f'campaign = "chongqing-bayu-2017"\ndata_path = "{tmp_path / "data"}"\n'
                      f'[mailbox]\npath = "{tmp_path / "mail"}"\n{notify}', encoding="utf-8")
    return open_runtime(config)


def test_the_daily_log_is_of_the_day_that_ended_and_the_digest_goes_each_morning(tmp_path):
    runtime = _runtime(tmp_path, '[notify]\naddresses = ["office@cqgh.org"]\n')
    service = Service(runtime)
    service._add_jobs()
    jobs = {job.id: job for job in service.scheduler.get_jobs()}
    log_next = jobs["daily_log"].trigger.get_next_fire_time(None, datetime(2017, 4, 30, 23, 0, tzinfo=SHANGHAI))
    assert log_next == datetime(2017, 5, 1, 0, 5, tzinfo=SHANGHAI)  # after 24:00: the deadline's last minutes too
    digest_next = jobs["digest"].trigger.get_next_fire_time(None, datetime(2017, 4, 21, 1, 0, tzinfo=SHANGHAI))
    assert digest_next == datetime(2017, 4, 21, 8, 0, tzinfo=SHANGHAI)
    assert "after_deadline" not in jobs  # the 2017 deadline is long past


def test_a_deadline_still_ahead_gets_its_digest_right_after_24_00(tmp_path):
    runtime = _runtime(tmp_path, '[notify]\naddresses = ["office@cqgh.org"]\n')
    deadline = datetime.now(SHANGHAI).replace(microsecond=0) + timedelta(days=3)
    profile = campaigns.load("chongqing-bayu-2017").model_copy(update={"deadline": deadline})
    runtime.profile = profile
    service = Service(runtime)
    service._add_jobs()
    job = {job.id: job for job in service.scheduler.get_jobs()}["after_deadline"]
    assert job.trigger.run_date == deadline + timedelta(minutes=5)
    assert job.kwargs["day"] == (deadline - timedelta(seconds=1)).date() and job.kwargs["after_deadline"]


def test_no_digest_job_without_an_office_address(tmp_path):
    service = Service(_runtime(tmp_path))
    service._add_jobs()
    assert {job.id for job in service.scheduler.get_jobs()} == {"poll", "send", "daily_log"}


def test_a_failing_job_waits_longer_each_time_up_to_its_cap():
    from service.jobs import BACKOFF_INTERVALS, Backoff

    backoff = Backoff(0.2)
    pauses = [backoff.failed() for _ in range(7)]
    assert pauses[:4] == [0.2, 0.4, 0.8, 1.6]
    assert max(pauses) == pauses[-1] == 0.2 * BACKOFF_INTERVALS  # never longer than ten intervals
    assert backoff.worked() and backoff.failed() == 0.2  # a success starts it over
