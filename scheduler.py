"""The background service's schedule (APScheduler); built by the service issue.

Until then the judging core runs from the command line: `intake check`.
"""
