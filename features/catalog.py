"""Every feature column: name, unit and meaning. The README's feature table is generated from this module.

`python -m features.catalog` prints the Markdown table (docs/features.md is that output; a test keeps them equal).
"""

from __future__ import annotations

# name: (unit, meaning). Order = column order of build_features' output.
SNAPSHOT_FEATURES: dict[str, tuple[str, str]] = {
    "currency": ("ISO 4217", "invoice currency (categorical)"),
    "open_amount": ("invoice currency", "amount still open at T (context only, not a model input)"),
    "open_amount_base": ("base currency", "open amount at T converted at the fx rate as of T"),
    "log_open_amount_base": ("log(1 + base)", "log of the open amount in base currency"),
    "amount_base": ("base currency", "original invoice amount at the fx rate of the invoice date"),
    "share_paid": ("share 0-1", "part of the amount already paid by T (partial payments)"),
    "share_credited": ("share 0-1", "part of the amount credited by credit memos by T"),
    "partial_payment_count": ("count", "payments received on this invoice by T"),
    "terms_days": ("days", "due date minus invoice date"),
    "days_since_invoice": ("days", "T minus invoice date"),
    "days_to_due": ("days", "due date minus T (negative once past due)"),
    "days_past_due": ("days", "T minus due date, 0 while not yet due"),
    "due_weekday": ("0=Mon..6=Sun", "weekday of the due date"),
    "due_days_to_month_end": ("days", "days from the due date to the end of its month"),
    "due_days_to_quarter_end": ("days", "days from the due date to the end of its quarter"),
    "due_date": ("date", "due date (context only)"),
    "dispute_open": ("0/1", "a dispute on this invoice is open at T"),
    "dispute_age_days": ("days", "age at T of the open dispute (empty if none)"),
    "dispute_count": ("count", "disputes opened on this invoice by T"),
    "promise_outstanding": (
        "0/1",
        (
            "the latest promise to pay made by T is still running: T is before its date "
            "+ 3 days of grace (decided, kept or broken, at the end of that day)"
        ),
    ),
    "days_to_promised_date": ("days", "promised date minus T, for an outstanding promise"),
    "promise_broken_count": (
        "count",
        ("earlier promises on this invoice that were broken (no payment by the date + grace)"),
    ),
    "hist_promise_count": ("count", "customer's promises whose date (+grace) passed by T"),
    "hist_settled_count": ("count", "customer's invoices settled by T"),
    "hist_settled_amount_base": ("base currency", "amount of the customer's invoices settled by T"),
    "hist_days_late_mean": ("days", "mean days late (settle - due) of the customer's settled invoices"),
    "hist_days_late_std": ("days", "spread (population standard deviation) of days late"),
    "hist_days_late_median_last10": ("days", "median days late of the last 10 settled invoices"),
    "hist_days_late_ewm": ("days", "exponentially weighted mean days late (recent invoices weigh more)"),
    "hist_days_late_last5_mean": ("days", "mean days late of the last 5 settled invoices"),
    "hist_last5_late30_count": ("count", "how many of the last 5 settled invoices were paid > 30 days late"),
    "hist_last5_count": ("count", "how many settled invoices the last-5 figures cover (0-5)"),
    "hist_days_late_amount_weighted": ("days", "amount-weighted mean days late"),
    "hist_share_late": ("share 0-1", "share of settled invoices paid after the due date"),
    "hist_share_late_30": ("share 0-1", "share of settled invoices paid > 30 days late"),
    "hist_amount_share_late": ("share 0-1", "amount-weighted share paid late"),
    "hist_amount_share_late_30": ("share 0-1", "amount-weighted share paid > 30 days late"),
    "hist_partial_payment_share": ("share 0-1", "share of settled invoices paid in more than one payment"),
    "hist_days_late_trend": ("days", "recent minus long-run days late (ewm - mean): > 0 means slowing down"),
    "is_cold_start": ("0/1", "the customer has no settled invoice by T (history features are empty, not zero)"),
    "hist_default_count": ("count", "customer's invoices known to have defaulted by T"),
    "hist_outcome_count": ("count", "customer's invoices whose outcome (settled in time or defaulted) is known"),
    "hist_default_rate": ("share 0-1", "defaults / known outcomes"),
    "hist_write_off_count": ("count", "customer's invoices written off by T"),
    "hist_payment_count": ("count", "payments received from the customer by T"),
    "days_since_last_payment": ("days", "T minus the customer's last payment date"),
    "hist_month_end_payment_share": ("share 0-1", "customer's payments made in the last 3 days of a month"),
    "hist_quarter_end_payment_share": ("share 0-1", "customer's payments made in the last 5 days of a quarter"),
    "hist_mid_month_payment_share": ("share 0-1", "customer's payments made on the 14th-16th"),
    "hist_weekday_concentration": ("share 0-1", "share of payments on the customer's most common weekday"),
    "hist_modal_payment_weekday": ("0=Mon..6=Sun", "the customer's most common payment weekday"),
    "hist_run_count": ("count", "customer's payment runs by T (distinct payment dates)"),
    "hist_run_share_mon": ("share 0-1", "share of the customer's payment runs made on a Monday"),
    "hist_run_share_tue": ("share 0-1", "share of the customer's payment runs made on a Tuesday"),
    "hist_run_share_wed": ("share 0-1", "share of the customer's payment runs made on a Wednesday"),
    "hist_run_share_thu": ("share 0-1", "share of the customer's payment runs made on a Thursday"),
    "hist_run_share_fri": ("share 0-1", "share of the customer's payment runs made on a Friday"),
    "hist_run_share_sat": ("share 0-1", "share of the customer's payment runs made on a Saturday"),
    "hist_run_share_sun": ("share 0-1", "share of the customer's payment runs made on a Sunday"),
    "hist_month_end_run_share": (
        "share 0-1",
        "share of the customer's payment runs on the last business day of a month (its country's calendar)",
    ),
    "hist_quarter_end_run_share": (
        "share 0-1",
        "share of the customer's payment runs on the last business day of a quarter (its country's calendar)",
    ),
    "hist_business_day_of_month_concentration": (
        "share 0-1",
        "share of the customer's payment runs on its most common business day of the month (n-th business day)",
    ),
    "hist_modal_business_day_of_month": ("1-23", "the customer's most common business day of the month for a run"),
    "hist_run_gap_median": ("days", "median gap between consecutive payment runs (last 10 gaps)"),
    "hist_run_gap_cv": ("ratio", "regularity of the run gaps: standard deviation / mean of the last 10 gaps"),
    "days_to_next_expected_run": (
        "days",
        "next expected run (last run + whole multiples of the median gap, first after T) minus T",
    ),
    "tenure_days": ("days", "T minus the customer's first invoice date"),
    "hist_invoice_count": ("count", "customer's invoices issued by T"),
    "amount_vs_typical": ("ratio", "this invoice's amount / the customer's mean invoice amount so far"),
    "segment": ("text", "customer segment (categorical)"),
    "country": ("ISO 3166", "customer country (categorical)"),
    "collector_id": ("id", "the customer's collector (context only)"),
    "customer_terms_days": ("days", "the customer's standard payment terms"),
    "cust_open_count": ("count", "customer's invoices open at T"),
    "cust_open_amount_base": ("base currency", "customer's open amount at T"),
    "cust_past_due_count": ("count", "customer's invoices past due at T"),
    "cust_max_days_past_due": ("days", "oldest days past due among the customer's open invoices"),
    "cust_past_due_1_30_base": ("base currency", "customer's open amount 1-30 days past due"),
    "cust_past_due_31_60_base": ("base currency", "customer's open amount 31-60 days past due"),
    "cust_past_due_61_90_base": ("base currency", "customer's open amount 61-90 days past due"),
    "cust_past_due_90_plus_base": ("base currency", "customer's open amount more than 90 days past due"),
    "cust_past_due_share": ("share 0-1", "past-due share of the customer's open amount"),
    "credit_utilisation": ("ratio", "customer's open amount / credit limit"),
    "hist_days_late_mean_censored": (
        "days",
        ("mean days late counting open past-due invoices as 'at least this late' (censoring-aware)"),
    ),
    "hist_dispute_rate": ("share 0-1", "disputes opened / invoices issued, by T"),
    "hist_promise_kept_rate": ("share 0-1", "customer's promises kept (a payment by the date + grace)"),
}

WEEK_FEATURE_DOCS: dict[str, tuple[str, str]] = {
    "week": ("1-13", "which week after T (days 7(k-1)+1 .. 7k)"),
    "days_past_due_at_week_end": ("days", "days past due at the end of week k"),
    "due_in_week": ("0/1", "the due date, moved to the business day before it if it is not one, falls in week k"),
    "month_end_in_week": ("0/1", "week k holds the last business day of a month (the customer's country)"),
    "quarter_end_in_week": ("0/1", "week k holds the last business day of a quarter"),
    "mid_month_in_week": ("0/1", "week k holds the 15th, moved to the business day before it if it is not one"),
    "business_days_in_week": ("days 0-7", "business days in week k (weekends, the country's holidays, closing days)"),
    "promise_in_week": ("0/1", "an outstanding promised date (moved to a business day) falls in week k"),
    "days_from_promise": ("days", "middle of week k minus the promised date (moved to a business day)"),
    "history_expected_in_week": (
        "0/1",
        "due date + the customer's recent days late, moved to a business day, falls in week k",
    ),
    "days_from_history_expected": ("days", "middle of week k minus that expected business day"),
    "month_end_habit_in_week": (
        "share 0-1",
        "share of runs on a month's last business day, if week k holds one",
    ),
    "quarter_end_habit_in_week": (
        "share 0-1",
        "share of runs on a quarter's last business day, if week k holds one",
    ),
    "mid_month_habit_in_week": ("share 0-1", "mid-month payment habit, if week k holds the (business) 15th"),
    "weekday_habit_in_week": (
        "share 0-7",
        "sum over week k's business days of the customer's run share on that weekday",
    ),
    "expected_run_in_week": (
        "0/1",
        "the customer's next expected run (last run + median gap, moved to a business day) falls in week k",
    ),
}

CONTEXT_ONLY = ["open_amount", "due_date", "collector_id"]
CATEGORICAL = ["currency", "segment", "country"]
MODEL_FEATURES = [name for name in SNAPSHOT_FEATURES if name not in CONTEXT_ONLY]


def markdown_table() -> str:
    lines = [
        "# Features",
        "",
        (
            "Generated by `python -m features.catalog`; every value for as-of date T uses only "
            "facts dated on or before T."
        ),
        "",
        "## Per snapshot (invoice, T)",
        "",
        "| name | unit | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {unit} | {meaning} |" for name, (unit, meaning) in SNAPSHOT_FEATURES.items()]
    lines += [
        "",
        "## Per predicted week k (payment-timing model only)",
        "",
        "| name | unit | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {unit} | {meaning} |" for name, (unit, meaning) in WEEK_FEATURE_DOCS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
