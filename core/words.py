"""The staff vocabulary: every state a record can be in, and the one Chinese word people read for it.

Commands, the daily log, exports, reports and pages all take their words from here, so a
state is never named two ways (已暂扣 here, 暂扣待处理 there). The Literal types are the
columns' types in storage/models.py.
"""

from __future__ import annotations

from typing import Literal, get_args

Status = Literal["accepted", "rejected", "needs_review", "ignored"]
NomineeStatus = Literal["accepted", "rejected", "needs_review"]
MessageState = Literal["fetched", "filed", "failed", "quarantined"]
ReplyState = Literal["pending", "sent", "failed", "held", "superseded"]
HoldReason = Literal["authentication_failed", "daily_cap", "domain_cap", "campaign_cap", "reply_to_elsewhere",
                     "loop_suspected", "reprocessed", "staff", "other_sender"]
Decision = Literal["accepted", "rejected", "kept_earlier", "kept_later"]
Role = Literal["form", "form_scan", "photo", "video", "writeup", "other"]
ForwardState = Literal["written", "pending", "sent", "failed"]
StaffState = Literal["open", "answered", "done"]
SenderCheck = Literal["pass", "fail", "none"]
OutboxKind = Literal["reply", "answer", "digest"]
StaffRole = Literal["clerk", "reviewer", "admin"]  # a web console account's role, each one doing more
ExportState = Literal["running", "done", "failed"]

STATUS: dict[str, str] = {"accepted": "受理", "rejected": "退回", "needs_review": "待人工核对", "ignored": "不处理"}
MESSAGE_STATE: dict[str, str] = {"fetched": "待处理", "filed": "已登记", "failed": "失败待重试", "quarantined": "已隔离"}
REPLY_STATE: dict[str, str] = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "held": "已暂扣",
                               "superseded": "已作废"}
HOLD_REASON: dict[str, str] = {"authentication_failed": "发件人未通过本方邮件服务器的验证（可能冒用地址）",
                               "daily_cap": "该地址今日收到的回复已达上限",
                               "domain_cap": "该域名今日收到的回复已达上限",
                               "campaign_cap": "本评选活动每小时或每日自动回复已达上限",
                               "reply_to_elsewhere": "来信指定的回复地址（Reply-To）不属于发件人所在单位",
                               "loop_suspected": "该发件人反复回复我们的回执（可能是自动回复），请工作人员核对",
                               "reprocessed": "重新审核后的回复，待工作人员决定发出（intake review release）",
                               "staff": "工作人员暂扣",
                               "other_sender": "像是对他人此前报送的补充，但发件人不同或未通过验证"}
DECISION: dict[str, str] = {"accepted": "人工受理", "rejected": "人工退回", "kept_earlier": "保留此前材料",
                            "kept_later": "以本次材料替代"}
ROLE: dict[str, str] = {"form": "推荐表", "form_scan": "推荐表扫描件", "photo": "照片", "video": "视频",
                        "writeup": "事迹材料", "other": "其他材料"}
FORWARD_STATE: dict[str, str] = {"written": "已写出待人工发送", "pending": "待发送", "sent": "已发送", "failed": "发送失败"}
STAFF_STATE: dict[str, str] = {"open": "待回复", "answered": "已回复", "done": "已处理"}
SENDER_CHECK: dict[str, str] = {"pass": "验证通过", "fail": "验证未通过", "none": "未经验证"}
OUTBOX_KIND: dict[str, str] = {"reply": "回复", "answer": "工作人员答复", "digest": "每日汇总"}
STAFF_ROLE: dict[str, str] = {"clerk": "办事员", "reviewer": "审核人", "admin": "管理员"}
EXPORT_STATE: dict[str, str] = {"running": "正在打包", "done": "已完成", "failed": "失败"}

# what the audit trail records, in words (the states an act moves between are the tables above)
AUDIT_ACTION: dict[str, str] = {
    "filed": "登记", "superseded": "被新提交替代", "accepted_by_staff": "人工受理", "rejected_by_staff": "人工退回",
    "kept_earlier": "保留此前材料", "kept_later": "以本次材料替代", "corrected": "更正字段",
    "files_written_out": "文件写出查看", "paper_copy_received": "纸质件收到", "paper_copy_undone": "撤销纸质件收到",
    "personal_data_shown": "显示完整身份证号和电话", "reprocessed": "重新处理", "answered": "已答复来信",
    "done": "来信已处理", "no_reply": "决定不回复", "reviewed": "已人工核对", "queued": "回复排队",
    "attempt": "尝试发送", "released": "放行回复", "downloaded": "下载文件", "exported": "导出",
    "purged": "清除", "ranked": "排名", "forwarded": "报送市级", "added": "新增账户", "enabled": "启用账户",
    "disabled": "停用账户", "logged_in": "登录", "password_changed": "修改密码",
}
_AUDIT_STATES = {"nominee": STATUS, "message": MESSAGE_STATE, "reply": REPLY_STATE}


def audit_action(action: str) -> str:
    """An act of the audit trail in words; a state reached (a reply sent) in the state's word."""
    return AUDIT_ACTION.get(action) or REPLY_STATE.get(action) or MESSAGE_STATE.get(action) or action


def audit_state(entity: str, state: str | None) -> str:
    return word(_AUDIT_STATES.get(entity, {}), state, "")


# a field not written in its own cell but read from another (nominees/assemble.py INFERRED)
INFERRED_NOTE = "推断：表中本栏未填，取自推荐单位意见等内容，请核对"

# where a table above misses a state of its Literal, a test fails (tests/test_words.py)
VOCABULARY = {Status: STATUS, MessageState: MESSAGE_STATE, ReplyState: REPLY_STATE, HoldReason: HOLD_REASON,
              Decision: DECISION, Role: ROLE, ForwardState: FORWARD_STATE, StaffState: STAFF_STATE,
              SenderCheck: SENDER_CHECK, OutboxKind: OUTBOX_KIND, StaffRole: STAFF_ROLE, ExportState: EXPORT_STATE}


def word(table: dict[str, str], state: str | None, empty: str = "—") -> str:
    """The word for a state; a state no table knows is shown as it is, so nothing is hidden."""
    if not state:
        return empty
    return table.get(state, state)


def states(literal) -> tuple[str, ...]:
    return get_args(literal)
