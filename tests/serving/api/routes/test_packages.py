"""The monthly collections package over HTTP on the close ledger (tests/support/close_ledgers.py): the June tables
by hand, the workbook read back equals the JSON, and the PDF renders (pdftoppm makes its pages)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from serving.services.package_render import read_xlsx
from tests.support.close_ledgers import close_tables, store_close_run
from tests.support.http import headers


@pytest.fixture
def june(client, keys, sessions) -> None:
    response = client.post("/v1/ledger", json=close_tables(), headers=headers(keys, "admin"))
    assert response.status_code == 200, response.text
    store_close_run(sessions)
    body = {"period": "2024-06", "adjustment": {"amount": "50.00", "reason": "outlook"}}
    assert client.post("/v1/closes", json=body, headers=headers(keys, "finance")).status_code == 201


def test_june_tables_by_hand(client, keys, june):
    response = client.get("/v1/packages/2024-06", headers=headers(keys, "finance"))
    assert response.status_code == 200, response.text
    package = response.json()
    months = [row["month"] for row in package["trend"]]
    assert len(months) == 13 and months[0] == "2023-06" and months[-1] == "2024-06"
    last = package["trend"][-1]
    assert (last["aging_current"], last["aging_1-30"], last["aging_31-60"]) == (1250.0, 2000.0, 333.33)
    assert last["ending_ar"] == 3583.33 and last["write_offs"] == 300.0 and last["allowance"] == 393.6
    assert last["dso_standard"] == pytest.approx(3583.33 / 1250 * 30, abs=1e-4)  # June's sales: O1 + O4
    assert package["trend"][-3]["write_offs"] == 400.0  # April: H2
    (risk,) = package["accounts_at_risk"]  # the stored run puts every invoice on C1, 100.00 each
    assert (risk["customer_id"], risk["invoices"], risk["expected_loss"]) == ("C1", 4, 50.33)
    assert package["promises_disputes"][0]["disputes_opened"] == 1


def test_workbook_reads_back_as_the_api_figures(client, keys, june):
    package = client.get("/v1/packages/2024-06", headers=headers(keys, "finance")).json()
    workbook = client.get("/v1/packages/2024-06/workbook", headers=headers(keys, "finance"))
    assert workbook.status_code == 200
    assert read_xlsx(workbook.content) == package


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_pdf_renders_its_pages(client, keys, june, tmp_path):
    response = client.get("/v1/packages/2024-06/pdf", headers=headers(keys, "finance"))
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF")
    (tmp_path / "p.pdf").write_bytes(response.content)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(tmp_path / "p.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2 and all(p.stat().st_size > 1000 for p in pages)


def test_a_month_not_over_is_422(client, keys, june):
    response = client.get("/v1/packages/2024-07", headers=headers(keys, "finance"))
    assert response.status_code == 422 and "after the ledger's last fact" in response.json()["detail"]
