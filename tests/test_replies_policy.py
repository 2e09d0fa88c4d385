"""Whom a reply goes to, when none may go, and when the receiving server saw a forged sender."""

from __future__ import annotations

import pytest

from ingest.mime import parse_message
from replies.addressing import addressing, reply_recipient
from replies.policy import authentication_results, sender_authentication_failed, sender_check, should_never_reply

OWN = {"bygj@cqgh.org", "intake@cqgh.org"}


def mail(*headers: tuple[str, str], sender: str | None = "沙坪坝区总工会 <Unit@Example.cn>"):
    """A small submission-like mail with the given extra headers, on top of From unless None."""
    lines = list(headers)
    if sender is not None:
        lines.insert(0, ("From", sender))
    lines += [("To", "bygj@cqgh.org"), ("Subject", "推荐材料"), ("Message-ID", "<m1@example.cn>"),
              ("Date", "Mon, 10 Apr 2017 09:58:01 +0800"), ("MIME-Version", "1.0"),
              ("Content-Type", "text/plain; charset=utf-8")]
    raw = "".join(f"{name}: {value}\r\n" for name, value in lines) + "\r\n附件是推荐材料。\r\n"
    return parse_message(raw.encode("utf-8"))


# --- the recipient ---------------------------------------------------------------------------


def test_from_is_the_recipient():
    assert reply_recipient(mail()) == "unit@example.cn"


def test_reply_to_in_the_senders_organisation_wins_and_only_its_first_address_is_taken():
    message = mail(("Reply-To", "办公室 <office@example.cn>, other@example.cn"))
    assert reply_recipient(message) == "office@example.cn" and addressing(message).hold is None
    assert reply_recipient(mail(("Reply-To", "clerk@gh.example.cn"))) == "clerk@gh.example.cn"


@pytest.mark.parametrize("reply_to, sender", [
    ("victim@third.example", "unit@example.cn"),  # another organisation
    ("victim@qq.com", "attacker@qq.com"),  # a free mail provider: the same domain says nothing
    ("victim@cq.gov.cn", "unit@example.gov.cn"),  # gov.cn is shared by every government office
])
def test_a_reply_to_elsewhere_is_not_followed_and_the_reply_waits_for_staff(reply_to, sender):
    to = addressing(mail(("Reply-To", reply_to), sender=sender))
    assert (to.recipient, to.hold) == (sender, "reply_to_elsewhere")


def test_the_envelope_sender_our_server_recorded_is_answered_rfc_3834():
    ours = mail(("Return-Path", "<bounces@example.cn>"), ("Received", "from a by mx.cqgh.org; Mon, 10 Apr 2017 10:00 +0800"))
    assert reply_recipient(ours) == "bounces@example.cn"
    # a Return-Path below the first Received: was written on the way, or by the sender: not ours
    theirs = mail(("Received", "from a by mx.cqgh.org; Mon, 10 Apr 2017 10:00 +0800"), ("Return-Path", "<victim@x.cn>"))
    assert reply_recipient(theirs) == "unit@example.cn"


def test_unusable_reply_to_falls_back_to_from():
    assert reply_recipient(mail(("Reply-To", "not an address"))) == "unit@example.cn"


@pytest.mark.parametrize("sender", [None, "", "<>", "沙坪坝区总工会", "unit@"])
def test_no_usable_sender_means_no_recipient(sender):
    message = mail(sender=sender)
    assert reply_recipient(message) is None
    assert should_never_reply(message, OWN) == "no_sender"


# --- never reply ------------------------------------------------------------------------------


def test_an_ordinary_sender_may_be_answered():
    assert should_never_reply(mail(), OWN) is None


@pytest.mark.parametrize("sender", ["bygj@cqgh.org", "巴渝工匠评选办公室 <BYGJ@cqgh.org>", "intake@cqgh.org"])
def test_our_own_address_is_never_answered(sender):
    assert should_never_reply(mail(sender=sender), OWN) == "own_address"


def test_a_reply_to_pointing_at_us_is_a_loop():
    assert should_never_reply(mail(("Reply-To", "bygj@cqgh.org")), OWN) == "own_address"


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@qq.com", "Mail Delivery System <mailer-daemon@163.com>",
                                    "postmaster@example.cn"])
def test_mail_system_addresses_are_never_answered(sender):
    assert should_never_reply(mail(sender=sender), OWN) == "mailer_daemon"


@pytest.mark.parametrize("sender", ["noreply@example.cn", "no-reply@example.cn", "No_Reply@example.cn",
                                    "donotreply@example.cn", "do-not-reply@example.cn", "noreply-notice@example.cn"])
def test_noreply_senders_are_never_answered(sender):
    assert should_never_reply(mail(sender=sender), OWN) == "noreply"


def test_a_noreply_from_with_a_real_reply_to_is_answered_there():
    message = mail(("Reply-To", "clerk@example.cn"), sender="noreply@forms.example.cn")
    assert should_never_reply(message, OWN) is None
    assert reply_recipient(message) == "clerk@example.cn"


@pytest.mark.parametrize("sender", ["noreplyer@example.cn", "norma@example.cn", "reply@example.cn"])
def test_names_that_only_look_like_noreply_are_answered(sender):
    assert should_never_reply(mail(sender=sender), OWN) is None


def test_null_return_path_and_auto_submitted_are_never_answered():
    assert should_never_reply(mail(("Return-Path", "<>")), OWN) == "null_return_path"
    assert should_never_reply(mail(("Auto-Submitted", "auto-replied")), OWN) == "auto_submitted"
    assert should_never_reply(mail(("Auto-Submitted", "no")), OWN) is None


# --- Authentication-Results (RFC 8601) --------------------------------------------------------

OURS = "mx.cqgh.org"


def ar(results: str, authserv_id: str = OURS) -> tuple[str, str]:
    return ("Authentication-Results", f"{authserv_id}; {results}")


@pytest.mark.parametrize("results", [
    "spf=fail smtp.mailfrom=example.cn",
    "dmarc=fail (p=reject dis=none) header.from=example.cn",
    "dkim=fail (bad signature) header.d=example.cn header.s=s1",
    "spf=pass smtp.mailfrom=example.cn; dkim=pass header.d=example.cn; dmarc=fail header.from=example.cn",
    "SPF=FAIL smtp.mailfrom=example.cn",
    "spf=fail (sender IP is 1.2.3.4; not permitted) smtp.mailfrom=example.cn",
])
def test_failures_are_seen(results):
    assert sender_authentication_failed(mail(ar(results)))


@pytest.mark.parametrize("results", [
    "spf=pass smtp.mailfrom=example.cn; dkim=pass header.d=example.cn; dmarc=pass header.from=example.cn",
    "spf=softfail smtp.mailfrom=example.cn",
    "spf=neutral smtp.mailfrom=example.cn",
    "spf=none smtp.mailfrom=example.cn; dkim=none; dmarc=none",
    "spf=temperror smtp.mailfrom=example.cn; spf=permerror",
    "dkim=fail header.d=mailer.example.net; dkim=pass header.d=example.cn",
    "none",
    "dkim=pass (comment with spf=fail inside) header.d=example.cn",
    'dkim=pass header.b="spf=fail;x"',
])
def test_what_is_not_a_failure(results):
    assert not sender_authentication_failed(mail(ar(results)))


def test_only_our_servers_header_counts():
    # a forwarder further down the path failed SPF; our server, on top, saw a valid DKIM signature
    message = mail(ar("dkim=pass header.d=example.cn; spf=pass smtp.mailfrom=relay.example.net"),
                   ar("spf=fail smtp.mailfrom=example.cn", "mx.relay.example.net"))
    assert not sender_authentication_failed(message)
    message = mail(ar("spf=fail smtp.mailfrom=example.cn"), ar("spf=pass smtp.mailfrom=example.cn", "fake.example"))
    assert sender_authentication_failed(message)


def test_several_headers_from_our_server_are_read_together():
    # OpenDKIM and an SPF daemon each add their own header
    message = mail(ar("dkim=pass header.d=example.cn"), ar("spf=fail smtp.mailfrom=example.cn"))
    assert sender_authentication_failed(message)
    message = mail(ar("dkim=fail header.d=example.cn"), ar("dkim=pass header.d=example.cn"))
    assert not sender_authentication_failed(message)


def test_trusted_authserv_ids_select_the_headers():
    message = mail(ar("spf=fail", "forged.example"), ar("spf=pass", OURS))
    assert not sender_authentication_failed(message, trusted_authserv_ids=[OURS])
    assert sender_authentication_failed(message)  # without the setting, the topmost one is trusted


def test_received_spf_is_read_where_there_is_no_authentication_results():
    assert sender_authentication_failed(mail(("Received-SPF", "Fail (mailfrom) identity=mailfrom; client-ip=1.2.3.4")))
    assert not sender_authentication_failed(mail(("Received-SPF", "Softfail (mailfrom) identity=mailfrom")))
    assert not sender_authentication_failed(mail(("Received-SPF", "Pass (mailfrom) identity=mailfrom")))


def test_no_header_is_no_failure():
    assert not sender_authentication_failed(mail())


def test_a_folded_header_is_parsed():
    assert authentication_results(f"{OURS};\r\n\tspf=pass smtp.mailfrom=example.cn;\r\n\tdkim=fail") == (
        OURS, [("spf", "pass"), ("dkim", "fail")])
    assert authentication_results(f"{OURS} 1; auth=pass (cram-md5) smtp.auth=sender@example.net; spf=pass") == (
        OURS, [("auth", "pass"), ("spf", "pass")])


def test_a_non_ascii_address_cannot_be_answered():
    # a reply is plain RFC 5322 without SMTPUTF8, which cannot carry such an address
    assert should_never_reply(mail(sender="张三 <张三@例子.中国>"), OWN) == "no_sender"


def test_the_recipients_display_name_is_cleaned():
    assert addressing(mail(("Reply-To", '"工会\t \x01办公室" <office@example.cn>'))).name == "工会 办公室"
    assert addressing(mail()).name == "沙坪坝区总工会"


def test_a_forged_pass_below_our_servers_failing_spf_changes_nothing():
    forged = mail(("Received-SPF", "fail (mx.cqgh.org: domain of example.cn does not designate 1.2.3.4)"),
                  ("Received", "from a by mx.cqgh.org; Mon, 10 Apr 2017 10:00 +0800"),
                  ("Authentication-Results", "mx.cqgh.org; spf=pass; dkim=pass header.d=example.cn; dmarc=pass"))
    assert sender_check(forged) == "fail" and sender_authentication_failed(forged)
    configured = mail(("Authentication-Results", "mx.cqgh.org; spf=fail smtp.mailfrom=example.cn"),
                      ("Authentication-Results", "forger.example; spf=pass; dmarc=pass"))
    assert sender_check(configured, ["mx.cqgh.org"]) == "fail"
    assert sender_check(mail(("Authentication-Results", "mx.cqgh.org; dkim=pass header.d=example.cn"))) == "pass"
    assert sender_check(mail()) == "none"
