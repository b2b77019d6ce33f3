"""The profile service with authz beside it: tokens minted by the test, identity's events delivered
straight to the bus."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass

import pytest

from tests.authz.harness import Services, auth, identity_event, query, registered, tenant_created


@dataclass
class World:
    root: uuid.UUID
    tenant_a: uuid.UUID
    admin_a: uuid.UUID
    employee: uuid.UUID
    tenant_b: uuid.UUID
    admin_b: uuid.UUID


@pytest.fixture
async def world(services: Services) -> World:
    w = World(*(uuid.uuid4() for _ in range(6)))
    await services.deliver(
        identity_event("esop.identity.platform_admin.created", {"user_id": w.root, "email": "root@x.example"}),
        tenant_created(w.tenant_a, w.admin_a),
        tenant_created(w.tenant_b, w.admin_b),
        registered(w.employee, w.tenant_a, name="李四", email="lisi@corp.example.com", mobile="+8613900139000",
                   employee_no="E0042", department="财务部", hire_date="2021-09-01"),
    )
    return w


def me(services: Services, world: World) -> dict[str, str]:
    return auth(services.tokens.mint(world.employee, world.tenant_a))


def assert_problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["status"] == status
    return body


def changes(services: Services, user: uuid.UUID) -> list[tuple]:
    return query(services.database_url, "select field, old_value, new_value, source, changed_by "
                                        "from profile.profile_changes where user_id = %s order by field", str(user))


class TestProfileCreatedOnRegistration:
    async def test_the_profile_holds_the_registration_data(self, services, world) -> None:
        resp = await services.profile.get("/me", headers=me(services, world))
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert {k: body[k] for k in ("user_id", "tenant_id", "name", "email", "mobile", "employee_no", "department",
                                     "hire_date", "locale", "timezone", "preferred_name", "bio", "version")} == {
            "user_id": str(world.employee), "tenant_id": str(world.tenant_a), "name": "李四",
            "email": "lisi@corp.example.com", "mobile": "+8613900139000", "employee_no": "E0042",
            "department": "财务部", "hire_date": "2021-09-01", "locale": "zh-CN", "timezone": "Asia/Shanghai",
            "preferred_name": None, "bio": None, "version": 1}
        assert resp.headers["etag"] == 'W/"1"'

    async def test_the_created_event_carries_no_personal_data(self, services, world) -> None:
        [event] = services.outbox("profile", "esop.profile.profile.created")
        assert event["data"] == {"user_id": str(world.employee), "tenant_id": str(world.tenant_a)}
        assert (event["subject"], event["tenantid"]) == (str(world.employee), str(world.tenant_a))

    async def test_the_initial_data_is_in_the_history_as_from_an_event(self, services, world) -> None:
        assert changes(services, world.employee) == [
            ("department", None, "财务部", "event", None), ("email", None, "lisi@corp.example.com", "event", None),
            ("employee_no", None, "E0042", "event", None), ("hire_date", None, "2021-09-01", "event", None),
            ("mobile", None, "+8613900139000", "event", None), ("name", None, "李四", "event", None)]

    async def test_redelivery_and_repeated_registration_events_create_one_profile(self, services, world) -> None:
        event = registered(world.employee, world.tenant_a, name="Someone Else")
        await services.deliver(event, event)
        assert query(services.database_url, "select name from profile.profiles where user_id = %s",
                     str(world.employee)) == [("李四",)]
        assert len(services.outbox("profile", "esop.profile.profile.created")) == 1

    async def test_before_the_event_is_processed_it_is_a_404_that_says_so(self, services, world) -> None:
        resp = await services.profile.get("/me", headers=auth(services.tokens.mint(uuid.uuid4(), world.tenant_a)))
        assert "registration" in assert_problem(resp, 404)["detail"]

    async def test_a_malformed_event_is_dead_lettered(self, services, world) -> None:
        await services.deliver(registered(uuid.uuid4(), world.tenant_a, hire_date="not a date"))
        assert query(services.database_url, "select type from profile.dead_letters") == [
            ("esop.identity.user.registered",)]


class TestUpdateMyProfile:
    async def test_self_editable_fields_change_and_each_change_is_recorded(self, services, world) -> None:
        resp = await services.profile.patch("/me", headers=me(services, world), json={
            "preferred_name": "  小李 ", "locale": "en-US", "timezone": "Europe/Berlin", "bio": "你好"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["preferred_name"], body["locale"], body["timezone"], body["bio"], body["version"]) == (
            "小李", "en-US", "Europe/Berlin", "你好", 2)
        assert resp.headers["etag"] == 'W/"2"'
        mine = [c for c in changes(services, world.employee) if c[3] == "self"]
        assert mine == [("bio", None, "你好", "self", str(world.employee)),
                        ("locale", "zh-CN", "en-US", "self", str(world.employee)),
                        ("preferred_name", None, "小李", "self", str(world.employee)),
                        ("timezone", "Asia/Shanghai", "Europe/Berlin", "self", str(world.employee))]

    async def test_the_updated_event_names_the_fields_but_not_the_values(self, services, world) -> None:
        await services.profile.patch("/me", headers=me(services, world), json={"bio": "秘密", "locale": "en-US"})
        [event] = services.outbox("profile", "esop.profile.profile.updated")
        assert event["data"] == {"user_id": str(world.employee), "tenant_id": str(world.tenant_a),
                                 "fields": ["locale", "bio"]}
        assert "秘密" not in json.dumps(event, ensure_ascii=False)

    async def test_an_unchanged_value_changes_nothing(self, services, world) -> None:
        resp = await services.profile.patch("/me", headers=me(services, world),
                                            json={"locale": "zh-CN", "timezone": "Asia/Shanghai"})
        assert resp.status_code == 200 and resp.json()["version"] == 1
        assert services.outbox("profile", "esop.profile.profile.updated") == []
        resp = await services.profile.patch("/me", headers=me(services, world), json={})
        assert resp.status_code == 200 and resp.json()["version"] == 1

    async def test_null_clears_a_field_or_resets_it_to_the_default(self, services, world) -> None:
        await services.profile.patch("/me", headers=me(services, world),
                                     json={"preferred_name": "小李", "locale": "en-US"})
        resp = await services.profile.patch("/me", headers=me(services, world),
                                            json={"preferred_name": None, "locale": None})
        assert (resp.json()["preferred_name"], resp.json()["locale"], resp.json()["version"]) == (None, "zh-CN", 3)

    async def test_merge_patch_content_type_is_accepted(self, services, world) -> None:
        resp = await services.profile.patch("/me", headers={**me(services, world),
                                                            "Content-Type": "application/merge-patch+json"},
                                            content=json.dumps({"bio": "hello"}).encode())
        assert resp.status_code == 200, resp.text
        assert resp.json()["bio"] == "hello"

    @pytest.mark.parametrize("field", ["name", "department", "employee_no", "hire_date", "email", "mobile"])
    async def test_hr_owned_fields_are_422_with_a_field_error(self, services, world, field) -> None:
        resp = await services.profile.patch("/me", headers=me(services, world), json={field: "x", "bio": "b"})
        body = assert_problem(resp, 422)
        assert [e["loc"] for e in body["errors"]] == [["body", field]]
        assert "HR" in body["errors"][0]["msg"]
        assert (await services.profile.get("/me", headers=me(services, world))).json()["bio"] is None

    @pytest.mark.parametrize(("body", "field"), [
        ({"nickname": "x"}, "nickname"), ({"locale": "fr-FR"}, "locale"), ({"timezone": "Moon/Base"}, "timezone"),
        ({"preferred_name": "名" * 51}, "preferred_name"), ({"bio": "b" * 501}, "bio"),
        ({"preferred_name": "a\u0000b"}, "preferred_name"), ({"bio": "\ud800"}, "bio"),
    ])
    async def test_invalid_values_are_422_with_a_field_error(self, services, world, body, field) -> None:
        resp = await services.profile.patch("/me", headers={**me(services, world), "Content-Type": "application/json"},
                                            content=json.dumps(body).encode())
        errors = assert_problem(resp, 422)["errors"]
        assert errors[0]["loc"][:2] == ["body", field]

    @pytest.mark.parametrize("body", [{"preferred_name": "\u200b\u200b"}, {"bio": "\u200b"},
                                      {"preferred_name": "   "}, {"bio": "\u3000\u3000"}, {"preferred_name": ""}])
    async def test_text_that_shows_nothing_is_422_and_changes_nothing(self, services, world, body) -> None:
        """Regression: invisible text was stored, and blank text silently cleared the field (200)."""
        await services.profile.patch("/me", headers=me(services, world), json={"preferred_name": "小李", "bio": "hi"})
        resp = await services.profile.patch("/me", headers=me(services, world), json=body)
        errors = assert_problem(resp, 422)["errors"]
        assert [e["loc"] for e in errors] == [["body", next(iter(body))]]
        after = (await services.profile.get("/me", headers=me(services, world))).json()
        assert (after["preferred_name"], after["bio"], after["version"]) == ("小李", "hi", 2)

    async def test_a_byte_order_mark_is_not_stored(self, services, world) -> None:
        """Regression: "\ufeffname" was stored with the BOM."""
        resp = await services.profile.patch("/me", headers=me(services, world), json={"preferred_name": "\ufeffname"})
        assert resp.status_code == 200 and resp.json()["preferred_name"] == "name"

    @pytest.mark.parametrize(("content", "status"), [(b"[1, 2]", 422), (b'"text"', 422), (b"", 422),
                                                     (b"not json", 400), (b'{"bio": ', 400)])
    async def test_a_body_that_is_not_an_object_is_a_4xx_problem(self, services, world, content, status) -> None:
        resp = await services.profile.patch("/me", headers={**me(services, world), "Content-Type": "application/json"},
                                            content=content)
        assert_problem(resp, status)

    async def test_a_stale_if_match_is_412_and_changes_nothing(self, services, world) -> None:
        first = await services.profile.patch("/me", headers={**me(services, world), "If-Match": 'W/"1"'},
                                             json={"bio": "first"})
        assert first.status_code == 200 and first.headers["etag"] == 'W/"2"'
        stale = await services.profile.patch("/me", headers={**me(services, world), "If-Match": 'W/"1"'},
                                             json={"bio": "second"})
        assert "reload" in assert_problem(stale, 412)["detail"]
        assert stale.headers["etag"] == 'W/"2"'
        assert (await services.profile.get("/me", headers=me(services, world))).json()["bio"] == "first"
        current = await services.profile.patch("/me", headers={**me(services, world), "If-Match": 'W/"2"'},
                                               json={"bio": "second"})
        assert current.status_code == 200 and current.json()["bio"] == "second"

    async def test_without_a_profile_it_is_404(self, services, world) -> None:
        resp = await services.profile.patch("/me", headers=auth(services.tokens.mint(uuid.uuid4(), world.tenant_a)),
                                            json={"bio": "x"})
        assert_problem(resp, 404)

    async def test_without_a_token_it_is_401(self, services, world) -> None:
        assert_problem(await services.profile.patch("/me", json={"bio": "x"}), 401)


class TestMyChanges:
    async def test_pages_through_the_history_newest_first(self, services, world) -> None:
        for bio in ("one", "two", "three"):
            await services.profile.patch("/me", headers=me(services, world), json={"bio": bio})
        seen, cursor = [], None
        while True:
            resp = await services.profile.get("/me/changes", headers=me(services, world),
                                              params={"limit": 2, **({"cursor": cursor} if cursor else {})})
            assert resp.status_code == 200, resp.text
            page = resp.json()
            assert len(page["items"]) <= 2
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert [c["new_value"] for c in seen[:3]] == ["three", "two", "one"]
        assert len(seen) == 3 + 6 and len({c["id"] for c in seen}) == len(seen)
        assert {c["source"] for c in seen[3:]} == {"event"}

    @pytest.mark.parametrize("cursor", ["garbage", base64.urlsafe_b64encode(b'["2024-01-01T00:00:00", "x"]').decode(),
                                        base64.urlsafe_b64encode(b'[1, 2]').decode()])
    async def test_a_bad_cursor_is_400(self, services, world, cursor) -> None:
        resp = await services.profile.get("/me/changes", headers=me(services, world), params={"cursor": cursor})
        assert_problem(resp, 400)

    async def test_a_naive_cursor_time_is_read_as_utc(self, services, world) -> None:
        cursor = base64.urlsafe_b64encode(json.dumps(["2999-01-01T00:00:00", str(uuid.uuid4())]).encode()).decode()
        resp = await services.profile.get("/me/changes", headers=me(services, world), params={"cursor": cursor})
        assert resp.status_code == 200 and len(resp.json()["items"]) == 6

    @pytest.mark.parametrize("limit", [0, 201, "x"])
    async def test_limit_is_bounded(self, services, world, limit) -> None:
        resp = await services.profile.get("/me/changes", headers=me(services, world), params={"limit": limit})
        assert_problem(resp, 422)


class TestReadUserProfile:
    async def test_the_company_admin_reads_profiles_in_their_company(self, services, world) -> None:
        resp = await services.profile.get(f"/users/{world.employee}",
                                          headers=auth(services.tokens.mint(world.admin_a, world.tenant_a)))
        assert resp.status_code == 200, resp.text
        assert resp.json()["name"] == "李四" and resp.headers["etag"] == 'W/"1"'

    async def test_the_platform_admin_reads_any_profile(self, services, world) -> None:
        resp = await services.profile.get(f"/users/{world.employee}", headers=auth(services.tokens.mint(world.root)))
        assert resp.status_code == 200

    async def test_another_company_admin_is_refused(self, services, world) -> None:
        resp = await services.profile.get(f"/users/{world.employee}",
                                          headers=auth(services.tokens.mint(world.admin_b, world.tenant_b)))
        assert_problem(resp, 403)

    async def test_an_employee_is_refused_even_before_the_lookup(self, services, world) -> None:
        for target in (world.admin_a, uuid.uuid4()):
            resp = await services.profile.get(f"/users/{target}", headers=me(services, world))
            assert_problem(resp, 403)

    async def test_an_unknown_user_is_404_for_a_reader(self, services, world) -> None:
        resp = await services.profile.get(f"/users/{uuid.uuid4()}",
                                          headers=auth(services.tokens.mint(world.admin_a, world.tenant_a)))
        assert_problem(resp, 404)

    async def test_a_malformed_user_id_is_422(self, services, world) -> None:
        resp = await services.profile.get("/users/nope", headers=auth(services.tokens.mint(world.root)))
        assert_problem(resp, 422)
