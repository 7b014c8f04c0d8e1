"""The web app in a real browser (headless Chromium through Playwright) against the app served by uvicorn: each role
signs in to its pages; a collector works an account; the role and CSRF checks; the Excel export; sign-out."""

from __future__ import annotations

import datetime as dt
import io

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select

from serving.store.models import Activity, AuditEntry
from tests.support.live import PASSWORD, SCREENSHOTS

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("role", "landing", "heading"),
    [
        ("collector", "/worklists/K1", "Worklist K1"),
        ("finance", "/forecast", "Cash forecast, 13 weeks"),
        ("data_scientist", "/models", "Models"),
        ("admin", "/admin/users", "Users and API keys"),
    ],
)
def test_each_role_signs_in_to_its_pages(live, context, role, landing, heading):
    page = context.new_page()
    sign_in(page, live["base"], live["users"][role])
    assert page.url == live["base"] + landing
    assert page.get_by_role("heading", level=1).inner_text() == heading
    cookie = next(c for c in context.cookies() if c["name"] == "payrisk_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]  # plain http here
    shot(page, f"home-{role}")


def test_a_wrong_password_is_refused_and_audited(live, context):
    page = context.new_page()
    sign_in(page, live["base"], "ada", "not the password at all")
    assert page.url.startswith(live["base"] + "/login")
    assert "wrong password" in page.get_by_role("alert").inner_text()
    with live["sessions"]() as session:
        failed = session.execute(
            select(AuditEntry).where(AuditEntry.action == "user.sign_in_failed", AuditEntry.entity_id == "ada")
        ).scalars()
        assert len(list(failed)) >= 1
    assert not [c for c in context.cookies() if c["name"] == "payrisk_session"]


def test_a_collector_works_an_account_and_the_promise_is_in_both_logs(live, context, browser):
    page = context.new_page()
    sign_in(page, live["base"], "ada")
    rows = page.locator("#worklist tbody tr")
    assert rows.count() == 1 and "C1" in rows.first.inner_text()  # K1 owns C1 only; C2 is K2's
    assert "call" in rows.first.inner_text()  # I2 is past due at the run's as-of date
    shot(page, "worklist")
    page.get_by_role("link", name="Acme").click()
    assert page.url == live["base"] + "/accounts/C1"
    assert "I2" in page.locator("#invoices").inner_text()
    promised = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    form = page.locator("#promise-form")
    form.get_by_label("Invoice").select_option("I2")
    form.get_by_label("Amount").fill("250")
    form.get_by_label("Promised date").fill(promised)
    form.get_by_label("Note").fill("will pay half next week")
    form.get_by_role("button", name="Record promise").click()
    page.wait_for_load_state()
    assert "promise logged" in page.get_by_role("status").inner_text()
    log = page.locator("#activity-log").inner_text()
    assert "promise" in log and "I2" in log and "250.00" in log and "will pay half next week" in log
    shot(page, "account")
    page.get_by_role("link", name="← Worklist K1").click()  # the worklist kept for the pages is built anew
    assert "worked today" in page.locator("#worklist tbody tr").first.inner_text()
    admin = browser.new_context()
    try:
        audit_page = admin.new_page()
        sign_in(audit_page, live["base"], "root")
        audit_page.goto(f"{live['base']}/admin/audit?action=activity.create&actor=ada")
        entries = audit_page.locator("#audit tbody").inner_text()
        assert "user:ada" in entries and "activity.create" in entries and promised in entries
        shot(audit_page, "audit")
    finally:
        admin.close()


def test_a_collector_gets_a_403_page_on_another_collectors_account(live, context):
    page = context.new_page()
    sign_in(page, live["base"], "ada")
    response = page.goto(f"{live['base']}/accounts/C2")
    assert response.status == 403
    assert "not one of yours" in page.get_by_role("alert").inner_text()
    assert page.goto(f"{live['base']}/worklists/K2").status == 403
    assert page.goto(f"{live['base']}/accounts/NO-SUCH").status == 403  # same answer: existence is not revealed


def test_finance_sees_a_13_week_forecast_and_no_worklists(live, context):
    page = context.new_page()
    sign_in(page, live["base"], "fay")
    chart = page.locator("svg[data-chart=forecast]")
    assert chart.locator("rect.week").count() == 13
    assert page.locator("#forecast-table tbody tr").count() == 13
    shot(page, "forecast")
    assert page.goto(f"{live['base']}/worklist").status == 403
    assert page.goto(f"{live['base']}/worklists/K1").status == 403
    assert page.goto(f"{live['base']}/accounts/C1").status == 403
    receivables = page.goto(f"{live['base']}/receivables")
    assert receivables.status == 200
    assert "DSO (countback)" in page.locator("#kpis").inner_text()
    shot(page, "receivables")
    page.get_by_label("As of").fill("2024-03-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Receivables as of 31 Mar 2024"
    assert "1-30" in page.locator("#aging").inner_text()
    assert page.goto(f"{live['base']}/receivables?as_of=2099-01-01").status == 422


def test_the_excel_export_equals_the_apis_rows(live, context):
    from openpyxl import load_workbook

    page = context.new_page()
    sign_in(page, live["base"], "kim")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export Excel").click()
    assert download.value.suggested_filename == "worklist-K2.xlsx"
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    values = list(sheet.values)
    exported = pd.DataFrame(values[1:], columns=values[0])
    api = httpx.get(
        f"{live['base']}/v1/worklists/K2",
        params={"limit": 1000},
        headers={"X-API-Key": live["admin_key"], "Accept": "text/csv"},
    )
    assert api.status_code == 200
    expected = pd.read_csv(io.StringIO(api.text))
    assert len(expected) == 2 and list(exported.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        exported.fillna(pd.NA).astype(object).where(exported.notna(), None),
        expected.astype(object).where(expected.notna(), None),
        check_dtype=False,
    )


def test_a_form_posted_without_its_csrf_token_is_rejected(live, context):
    page = context.new_page()
    sign_in(page, live["base"], "ada")
    with live["sessions"]() as session:
        before = session.execute(select(func.count()).select_from(Activity)).scalar()
    url = f"{live['base']}/accounts/C1/activities"
    missing = context.request.post(url, form={"kind": "note", "note": "forged"})
    wrong = context.request.post(url, form={"kind": "note", "note": "forged", "csrf_token": "guess"})
    assert (missing.status, wrong.status) == (403, 403)
    assert "CSRF" in missing.text()
    with live["sessions"]() as session:
        assert session.execute(select(func.count()).select_from(Activity)).scalar() == before


def test_sign_out_ends_the_session(live, context, browser):
    page = context.new_page()
    sign_in(page, live["base"], "ada")
    cookies = context.cookies()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.url == live["base"] + "/login"
    page.goto(f"{live['base']}/worklist")
    assert page.url.startswith(live["base"] + "/login")
    replay = browser.new_context()  # the cookie from before sign-out, replayed: the session is over on the server
    try:
        replay.add_cookies(cookies)
        again = replay.new_page()
        again.goto(f"{live['base']}/worklist")
        assert again.url.startswith(live["base"] + "/login")
    finally:
        replay.close()


def test_the_ledger_upload_applies_a_batch_or_rejects_it_whole_with_the_report(live, context):
    from serving.store.models import Customer

    page = context.new_page()
    sign_in(page, live["base"], "root")
    page.goto(f"{live['base']}/admin/ledger")
    customers = (
        b"customer_id,name,country,segment,payment_terms_days,credit_limit,currency,collector_id\n"
        b"C3,Cheddar Ltd,GB,smb,30,5000,GBP,K1\n"
    )
    bad_invoices = (
        b"invoice_id,customer_id,invoice_date,due_date,amount,currency\nI9,C9,2024-03-01,2024-03-31,100.00,USD\n"
    )
    files = [
        {"name": "customers.csv", "mimeType": "text/csv", "buffer": customers},
        {"name": "invoices.csv", "mimeType": "text/csv", "buffer": bad_invoices},
    ]
    page.get_by_label("CSV files").set_input_files(files)
    page.get_by_role("button", name="Validate and apply").click()
    page.wait_for_load_state()
    assert "Rejected: nothing was written" in page.get_by_role("heading", level=2).inner_text()
    first = page.locator("#report tbody tr").first.locator("td").all_inner_texts()
    assert first[:4] == ["invoices.csv", "2", "customer_id", "C9"], first
    shot(page, "ledger-rejected")
    with live["sessions"]() as session:
        assert session.get(Customer, "C3") is None  # the good file of a rejected batch is not applied either
    page.get_by_label("CSV files").set_input_files(files[:1])
    page.get_by_role("button", name="Validate and apply").click()
    page.wait_for_load_state()
    assert "Applied" in page.get_by_role("status").inner_text()
    assert page.locator("#applied tbody tr").first.locator("td").all_inner_texts()[:2] == ["customers", "1"]
    with live["sessions"]() as session:
        assert session.get(Customer, "C3").collector_id == "K1"


def test_the_models_page_says_there_is_no_registered_version(live, context):
    page = context.new_page()
    sign_in(page, live["base"], "dan")
    assert "No registered versions" in page.locator("#versions").inner_text()
    assert page.goto(f"{live['base']}/admin/audit").status == 403


def test_a_dispute_logged_on_an_account_is_a_ledger_fact(live, context):
    from serving.store.models import Dispute

    page = context.new_page()
    sign_in(page, live["base"], "kim")
    page.goto(f"{live['base']}/accounts/C2")
    page.get_by_label("Reason").fill("wrong quantity delivered")
    page.locator("#d-invoice").select_option("I4")
    page.get_by_role("button", name="Open dispute").click()
    page.wait_for_load_state()
    assert "dispute opened" in page.get_by_role("status").inner_text()
    assert "wrong quantity delivered" in page.locator("#history").inner_text()
    with live["sessions"]() as session:
        (dispute,) = session.execute(select(Dispute).where(Dispute.reason == "wrong quantity delivered")).scalars()
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "ledger.upsert", AuditEntry.actor_name == "user:kim")
        ).scalar_one()
    assert dispute.invoice_id == "I4" and dispute.dispute_id.startswith("WEB-D-") and entry.entity == "disputes"
