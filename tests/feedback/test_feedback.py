"""Feedback: an employee submits suggestions, complaints and questions and lists their own."""
from __future__ import annotations

import asyncio

import psycopg2
import pytest

from tests.flows import auth, company_with_employees

FB = "/api/v1/feedback/feedback"


def outbox(database_url: str) -> list[dict]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("select envelope from feedback.outbox order by seq")
        return [r[0] for r in cur.fetchall()]


class TestSubmitFeedback:
    async def test_submitted_feedback_is_listed_and_published(self, platform) -> None:
        company = await company_with_employees(platform, 2)
        me, other = company.employees
        resp = await platform.client.post(FB, headers=auth(me.token),
                                          json={"type": "complaint", "subject": "短信", "text": "  验证码到得太慢  "})
        assert resp.status_code == 201
        ticket = resp.json()
        assert ticket["status"] == "open" and ticket["text"] == "验证码到得太慢"
        await platform.client.post(FB, headers=auth(other.token), json={"type": "question", "text": "别人的问题"})
        mine = (await platform.client.get(f"{FB}/mine", headers=auth(me.token))).json()
        assert [t["id"] for t in mine["items"]] == [ticket["id"]]
        events = [e for e in outbox(platform.database_url) if e["type"] == "esop.feedback.ticket.submitted"]
        assert len(events) == 2
        mine_event = next(e for e in events if e["data"]["ticket_id"] == ticket["id"])
        assert mine_event["subject"] == str(me.user_id) and mine_event["tenantid"] == str(company.tenant_id)
        assert "text" not in mine_event["data"], "the text stays in the feedback service"

    async def test_a_retry_with_the_same_idempotency_key_creates_nothing_new(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        me = company.employees[0]
        headers = {**auth(me.token), "Idempotency-Key": "retry-1"}
        body = {"type": "suggestion", "text": "增加英文界面"}
        results = await asyncio.gather(*(platform.client.post(FB, headers=headers, json=body) for _ in range(4)))
        assert sorted(r.status_code for r in results) == [200, 200, 200, 201], "concurrent retries replay the first"
        assert len({r.json()["id"] for r in results}) == 1
        again = await platform.client.post(FB, headers=headers, json=body)
        assert again.status_code == 200
        other_body = await platform.client.post(FB, headers=headers, json={"type": "suggestion", "text": "别的"})
        assert other_body.status_code == 409
        assert len((await platform.client.get(f"{FB}/mine", headers=auth(me.token))).json()["items"]) == 1
        documented = (await platform.client.get("/openapi.json")).json()["paths"][FB]["post"]["responses"]
        assert {"200", "201", "409"} <= set(documented), "the replay's 200 is part of the contract"

    async def test_pages_follow_the_cursor_newest_first(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        me = company.employees[0]
        for n in range(5):
            await platform.client.post(FB, headers=auth(me.token), json={"type": "question", "text": f"问题 {n}"})
        first = (await platform.client.get(f"{FB}/mine", headers=auth(me.token), params={"limit": 2})).json()
        seen = [t["text"] for t in first["items"]]
        cursor = first["next_cursor"]
        while cursor:
            page = (await platform.client.get(f"{FB}/mine", headers=auth(me.token),
                                              params={"limit": 2, "cursor": cursor})).json()
            seen += [t["text"] for t in page["items"]]
            cursor = page["next_cursor"]
        assert seen == [f"问题 {n}" for n in reversed(range(5))]


class TestFeedbackBadInput:
    @pytest.mark.parametrize("body", [{"type": "praise", "text": "x"}, {"type": "question", "text": "   "},
                                      {"type": "question", "text": "x" * 5001}, {"type": "question"},
                                      {"type": "question", "text": "x", "status": "closed"}])
    async def test_invalid_feedback_is_422(self, platform, body) -> None:
        company = await company_with_employees(platform, 1)
        resp = await platform.client.post(FB, headers=auth(company.employees[0].token), json=body)
        assert resp.status_code == 422 and resp.headers["content-type"] == "application/problem+json"

    async def test_anonymous_feedback_is_401(self, platform) -> None:
        resp = await platform.client.post(FB, json={"type": "question", "text": "x"})
        assert resp.status_code == 401

    async def test_an_empty_idempotency_key_is_422_not_ignored(self, platform) -> None:
        """Regression: `Idempotency-Key: ""` was taken as no key, so the retries it meant to guard were not."""
        company = await company_with_employees(platform, 1)
        resp = await platform.client.post(FB, headers={**auth(company.employees[0].token), "Idempotency-Key": ""},
                                          json={"type": "question", "text": "x"})
        assert resp.status_code == 422 and resp.json()["errors"][0]["loc"] == ["header", "idempotency-key"]

    async def test_an_empty_subject_is_no_subject(self, platform) -> None:
        company = await company_with_employees(platform, 1)
        resp = await platform.client.post(FB, headers=auth(company.employees[0].token),
                                          json={"type": "question", "subject": "  ", "text": " 问题 "})
        assert resp.status_code == 201 and (resp.json()["subject"], resp.json()["text"]) == (None, "问题")
