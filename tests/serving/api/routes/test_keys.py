"""API keys over HTTP: the last active admin key cannot be revoked (issue 10: "The last admin key can revoke
itself")."""

from __future__ import annotations

from tests.support.http import headers


def key_id(client, admin, name: str) -> int:
    return next(k["id"] for k in client.get("/v1/keys", headers=admin).json() if k["name"] == name)


def test_the_last_active_admin_key_cannot_be_revoked(client, keys):
    admin = headers(keys, "admin")
    own = key_id(client, admin, "admin")
    refused = client.delete(f"/v1/keys/{own}", headers=admin)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"API key {own} is the last active admin key; create another admin key before revoking it"
    )
    assert client.get("/v1/keys", headers=admin).status_code == 200  # still works: nothing was revoked
    actions = [e["action"] for e in client.get("/v1/audit", headers=admin).json()["entries"]]
    assert "key.revoke" not in actions

    second = client.post("/v1/keys", json={"name": "second admin", "role": "admin"}, headers=admin).json()
    assert client.delete(f"/v1/keys/{own}", headers=admin).json()["revoked_at"]  # another admin remains
    other = {"X-API-Key": second["key"]}
    last = client.delete(f"/v1/keys/{second['id']}", headers=other)
    assert last.status_code == 409 and "last active admin key" in last.json()["detail"]
    # keys of other roles are revoked as before, by the remaining admin
    assert client.delete(f"/v1/keys/{key_id(client, other, 'finance')}", headers=other).status_code == 200
