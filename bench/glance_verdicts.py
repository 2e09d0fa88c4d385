"""The OCR glance against a whole read: the same verdicts, and the time each takes.

    .venv/bin/python -m bench.glance_verdicts [--messages 150]

Takes the messages of bench/synthetic_mailbox.py that carry a .docx form and a stamped scan of it
(9 in 50) among the first N, and judges each twice with the real pipeline (service/judge.py):
once as the service does, the scan glanced at (parsers/ocr.py Glance: the title above the table,
beside one typed form), once with every scan read whole as before the glance. Prints each
message whose verdicts differ (as `intake check` would print them) and the mean wall time of
each way. Each judging starts its own OCR process (no warm one), so both times include that
start-up alike.
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    import campaigns
    from bench.synthetic_mailbox import mailbox
    from service import judge as judging
    from service.verdict_json import verdict_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=150)
    args = parser.parse_args()
    profile = campaigns.load("chongqing-bayu-2017")
    mails = [m for m in mailbox(args.messages) if m.form == "docx+scan"]
    glanced = judging._complete
    seconds = {"glance": 0.0, "whole": 0.0}
    differ = 0
    try:
        for mail in mails:
            verdicts = {}
            for way, complete in (("glance", glanced), ("whole", lambda *_: False)):
                judging._complete = complete  # a typed form never complete: every scan read whole
                started = time.perf_counter()
                verdicts[way] = verdict_json(judging.judge(mail.raw, profile, mail.arrival), profile.id)
                seconds[way] += time.perf_counter() - started
            if verdicts["glance"] != verdicts["whole"]:
                differ += 1
                print(f"message {mail.index} differs:\n  glance {json.dumps(verdicts['glance'], ensure_ascii=False)}\n"
                      f"  whole  {json.dumps(verdicts['whole'], ensure_ascii=False)}")
    finally:
        judging._complete = glanced
    count = max(1, len(mails))
    print(f"{len(mails)} messages with a typed form and a stamped scan: {differ} judged differently; "
          f"glance {seconds['glance'] / count:.2f} s a message, whole read {seconds['whole'] / count:.2f} s")


if __name__ == "__main__":
    main()
