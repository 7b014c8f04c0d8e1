#!/usr/bin/env bash
# The service demo, the last step of `make demo`: load the ledger into the store, make three API keys and one web
# sign-in per role, store a scoring run, close the last full month (journal entry CSVs) and write its collections
# package, print the sign-ins and how to call the API, then run the service (the API and the web app at /) in the
# foreground (Ctrl-C stops it).
#
#   scripts/demo_service.sh DATA_DIR LEDGER_DIR
#
# Expects a champion model in the registry (`payrisk train` ran before) and PAYRISK_DATA_DIR / PAYRISK_MODELS_DIR
# set (PAYRISK_DATA_DIR defaults to DATA_DIR). PAYRISK_HOST (default 127.0.0.1) and PAYRISK_PORT (default 8000)
# say where the service listens; PAYRISK (default: the repository's .venv/bin/payrisk, else `payrisk` on PATH) is the
# command line to use. The keys are also written to DATA_DIR/demo-keys.env (readable by you only).
set -euo pipefail

if [ "$#" -ne 2 ]; then
    echo "usage: $0 DATA_DIR LEDGER_DIR" >&2
    exit 2
fi
data_dir=$1
ledger_dir=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PAYRISK:-}" ]; then
    if [ -x "$repo/.venv/bin/payrisk" ]; then PAYRISK="$repo/.venv/bin/payrisk"; else PAYRISK=payrisk; fi
fi
host=${PAYRISK_HOST:-127.0.0.1}
port=${PAYRISK_PORT:-8000}
export PAYRISK_DATA_DIR="${PAYRISK_DATA_DIR:-$data_dir}"
base="http://$host:$port"

if [ ! -f "$ledger_dir/customers.csv" ]; then
    echo "error: $ledger_dir/customers.csv not found (run payrisk simulate first)" >&2
    exit 1
fi
mkdir -p "$data_dir"

echo "== loading $ledger_dir into the store"
"$PAYRISK" store load --ledger "$ledger_dir"

# the first non-empty collector_id of customers.csv (a CSV reader: names may hold quoted commas)
python_bin=$(dirname "$(command -v "$PAYRISK")")/python
[ -x "$python_bin" ] || python_bin=python3
collector=$("$python_bin" - "$ledger_dir/customers.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8-sig") as handle:
    print(next((row["collector_id"].strip() for row in csv.DictReader(handle)
                if (row.get("collector_id") or "").strip()), ""))
PY
)
if [ -z "$collector" ]; then
    echo "error: no collector_id in $ledger_dir/customers.csv" >&2
    exit 1
fi

echo "== creating API keys (admin, collector $collector, finance)"
admin_key=$("$PAYRISK" keys create --role admin --name "demo admin")
collector_key=$("$PAYRISK" keys create --role collector --collector-id "$collector" --name "demo collector $collector")
finance_key=$("$PAYRISK" keys create --role finance --name "demo finance")
keys_file="$data_dir/demo-keys.env"
(
    umask 077
    printf 'PAYRISK_ADMIN_KEY=%s\nPAYRISK_COLLECTOR_KEY=%s\nPAYRISK_COLLECTOR_ID=%s\nPAYRISK_FINANCE_KEY=%s\n' \
        "$admin_key" "$collector_key" "$collector" "$finance_key" > "$keys_file"
)

echo "== creating one web sign-in per role (passwords generated; a second run gives them new ones)"
web_user() {  # username role [collector id]
    if [ -n "${3:-}" ]; then
        "$PAYRISK" users create --username "$1" --role "$2" --collector-id "$3" --reset-if-exists 2>/dev/null
    else
        "$PAYRISK" users create --username "$1" --role "$2" --reset-if-exists 2>/dev/null
    fi
}
collector_password=$(web_user "collector" collector "$collector")
finance_password=$(web_user "finance" finance)
scientist_password=$(web_user "scientist" data_scientist)
admin_password=$(web_user "admin" admin)
(
    umask 077
    printf 'collector %s\nfinance %s\nscientist %s\nadmin %s\n' \
        "$collector_password" "$finance_password" "$scientist_password" "$admin_password" > "$data_dir/demo-users.txt"
)

echo "== scoring the open book and storing the run"
"$PAYRISK" store score-all --as-of latest

# The demo has no second person: two named CLI actors prepare and approve (maker-checker compares the names; the API,
# one key per person, is what proves two people).
echo "== the period close of the last full month (prepared by 'demo preparer', approved by 'demo approver')"
"$PAYRISK" close --period last --score --as "demo preparer"
"$PAYRISK" close approve --period last --as "demo approver"
for layout in generic netsuite intacct; do
    "$PAYRISK" close export --period last --layout "$layout" --out "$data_dir/close/journal-$layout.csv"
done
echo "== the monthly collections package of that month"
"$PAYRISK" package --period last --out "$data_dir/package" || echo "warning: the package's PDF was not written (above)"

cat <<TEXT

== payrisk is starting on $base (Ctrl-C stops it)
Web app: open $base/ and sign in (also in $data_dir/demo-users.txt):
  collector  username collector   password $collector_password   (collector $collector: their worklist)
  finance    username finance     password $finance_password   (cash forecast, receivables)
  scientist  username scientist   password $scientist_password   (models)
  admin      username admin       password $admin_password   (users, keys, audit log, ledger upload)

API keys (also in $keys_file):
  admin      $admin_key
  collector  $collector_key   (collector $collector)
  finance    $finance_key

Try:
  # the collector's worklist (a finance key gets 403 here)
  curl -s -H "X-API-Key: $collector_key" $base/v1/worklists/$collector
  # the 13-week cash forecast
  curl -s -H "X-API-Key: $finance_key" $base/v1/forecast/cash
  # the period closes (the demo's last full month is closed and approved), the package's tables
  curl -s -H "X-API-Key: $finance_key" $base/v1/closes
  # package files: $data_dir/package/; journal entry CSVs: $data_dir/close/
  # readiness: public, only ready or not; with the admin key also the database, model version, last registry check
  curl -s $base/readyz
  curl -s -H "X-API-Key: $admin_key" $base/readyz
  # interactive API documentation
  $base/docs

TEXT
exec "$PAYRISK" serve --host "$host" --port "$port"
