"""train -> register -> promote: the data scientist's loop, with a trail in MLflow.

`train` measures the model out of time before anything else (a holdout: trained at as-of minus 13 weeks and the
default horizon, scored against what happened up to the as-of date, beside both baselines), then trains the final
bundle on everything known at the as-of date and registers it. A first model becomes champion only if it beats the
customer-history baseline on that holdout (FIRST_CHAMPION_METRICS); otherwise it is registered, not promoted, and
the outcome says why and how to force it. `promote` moves the champion alias only to a model
that beats the champion on the same holdout (or when forced, with a recorded reason).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from features.dates import to_date
from features.labels import HORIZON_WEEKS
from features.ledger.ledger import Ledger
from training import registry
from training.backtest import CutoffResult, band_coverage, evaluate_cutoff, summary_table
from training.model_card import CARD_FILE, holdout_meta, model_card
from training.train import TrainConfig, fit_bundle

PROMOTION_METRICS = {"timing_log_loss": False, "default_brier": False}
"""The proper scoring rules a candidate must not lose on (lower is better) to replace the champion."""
FIRST_CHAMPION_METRICS = ("timing_log_loss", "pay_date_mae_days", "default_brier")
"""What a first model must beat the customer-history baseline on, on its own holdout, to become champion (lower is
better; default_brier only where the holdout has defaults)."""


@dataclass
class TrainOutcome:
    run_id: str
    version: str
    champion: bool
    holdout: CutoffResult | None
    table: pd.DataFrame
    note: str = ""
    """Why the model was or was not made champion, in words a user can act on."""
    champion_version: str | None = None
    """The registry's champion after this training (what `payrisk score` and the service use by default)."""


def holdout_cutoff(ledger: Ledger, as_of: pd.Timestamp) -> pd.Timestamp:
    return as_of - pd.Timedelta(days=7 * HORIZON_WEEKS + ledger.default_days)


def beats_customer_history(result: CutoffResult | None) -> tuple[bool, str]:
    """(does the model beat the customer-history baseline on every FIRST_CHAMPION_METRICS it was measured on, why)."""
    if result is None:
        return False, "no holdout was measured (--no-holdout)"
    model, baseline = result.metrics.get("model", {}), result.metrics.get("customer_history", {})
    lost, compared = [], []
    for name in FIRST_CHAMPION_METRICS:
        ours, theirs = model.get(name), baseline.get(name)
        if ours is None or theirs is None or pd.isna(ours) or pd.isna(theirs):
            continue
        compared.append(name)
        if not ours < theirs:
            lost.append(f"{name} {ours:.4f} vs baseline {theirs:.4f}")
    if not compared:
        return False, "the holdout measured none of " + ", ".join(FIRST_CHAMPION_METRICS)
    if lost:
        return False, "it does not beat the customer-history baseline on its holdout: " + "; ".join(lost)
    return True, "beats the customer-history baseline on its holdout (" + ", ".join(compared) + ")"


def config_from_meta(meta: dict) -> TrainConfig:
    names = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in meta.get("config", {}).items() if k in names})


def train_and_register(
    ledger: Ledger,
    as_of: pd.Timestamp,
    config: TrainConfig,
    model_name: str,
    tracking_uri: str,
    holdout: bool = True,
    progress=print,
    artifact_root: Path | None = None,
) -> TrainOutcome:
    from training.plots import write_plots

    known = ledger.as_of(as_of)
    registry.configure(tracking_uri, artifact_root)
    result, table, metrics = None, pd.DataFrame(), {}
    spec = ""
    if holdout:
        cutoff = holdout_cutoff(ledger, as_of)
        progress(f"holdout: training as of {cutoff.date()}, scoring against outcomes up to {as_of.date()}")
        result = evaluate_cutoff(known, cutoff, config)
        table = summary_table([result])
        for name, values in result.metrics.items():
            metrics.update({f"holdout_{name}_{k}": v for k, v in values.items()})
        metrics["holdout_cash_band_coverage"] = band_coverage([result])
        spec = json.dumps({"ledger": known.fingerprint(), "cutoff": str(cutoff.date())})
    progress(f"training the final model as of {as_of.date()}")
    bundle = fit_bundle(ledger, as_of, config)
    if result is not None:  # the model's own backtest: what monitoring compares realised accuracy with; the card
        bundle.meta["holdout"] = holdout_meta(result)
        bundle.meta["backtest"] = bundle.meta["holdout"]["metrics"].get("model", {})
    rows = bundle.feature_rows(known, as_of)  # with the bundle's closing days
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = []
        if result is not None:
            artifacts = write_plots([result], Path(tmp))
            table.to_csv(Path(tmp) / "holdout_table.csv")
            result.cash.to_csv(Path(tmp) / "holdout_cash_by_week.csv", index=False)
            artifacts += [Path(tmp) / "holdout_table.csv", Path(tmp) / "holdout_cash_by_week.csv"]
        params = {k: v for k, v in asdict(config).items()}
        tags = {
            "ledger_fingerprint": bundle.meta["ledger_fingerprint"],
            "as_of": str(as_of.date()),
            "holdout_spec": spec,
            "features": ",".join(bundle.meta["features"]),
        }
        run_id, version = registry.log_bundle(
            bundle,
            rows if len(rows) else bundle.feature_rows(known, known.known_until),
            model_name,
            metrics,
            params,
            tags,
            artifacts,
        )
        card = Path(tmp) / CARD_FILE
        card.write_text(model_card(bundle.meta, model_name, version, run_id))
        registry.log_run_artifact(run_id, card)
    is_champion = False
    if registry.champion_version(model_name) is not None:
        note = f"not promoted: a champion exists; compare with `payrisk promote --candidate {version}`"
    else:
        beats, why = beats_customer_history(result)
        if beats:
            registry.set_champion(model_name, version, f"first model: {why}")
            is_champion, note = True, f"champion: first model, {why}"
        else:
            note = (
                f"registered, NOT promoted: {why}. No champion is served. To serve it anyway: "
                f'payrisk promote --candidate {version} --force --reason "..."'
            )
    return TrainOutcome(run_id, version, is_champion, result, table, note, registry.champion_version(model_name))


def _holdout_metrics(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: metrics.get(f"holdout_model_{k}") for k in PROMOTION_METRICS}


def _beats(ours: dict[str, float | None], theirs: dict[str, float | None]) -> bool:
    """Not worse on every promotion metric both have, and better on one; a ledger without defaults has no Brier."""
    shared = {k: (a, b) for k, a in ours.items() if a is not None and (b := theirs.get(k)) is not None}
    if "timing_log_loss" not in shared:
        return False
    return all(a <= b for a, b in shared.values()) and any(a < b for a, b in shared.values())


def promote(
    model_name: str,
    candidate: str,
    tracking_uri: str,
    ledger: Ledger | None = None,
    force: bool = False,
    reason: str | None = None,
    cache_dir: Path | None = None,
) -> dict:
    """Move the champion alias to `candidate` if it beats the champion on the same holdout (or if forced)."""
    registry.configure(tracking_uri)
    champion = registry.champion_version(model_name)
    decision: dict = {"candidate": candidate, "champion": champion}
    if force:
        if not reason:
            raise ValueError("--force needs --reason: a forced promotion is recorded with why")
        registry.set_champion(model_name, candidate, f"forced: {reason}", decision | {"forced": True})
        return decision | {"promoted": True, "forced": True, "reason": reason}
    if champion is None or champion == candidate:
        registry.set_champion(model_name, candidate, "no other champion")
        return decision | {"promoted": True, "reason": "no other champion"}
    candidate_metrics, candidate_tags = registry.version_run_metrics(model_name, candidate)
    champion_metrics, champion_tags = registry.version_run_metrics(model_name, champion)
    ours = _holdout_metrics(candidate_metrics)
    if ours["timing_log_loss"] is None:
        raise ValueError(f"version {candidate} has no holdout metrics (trained with --no-holdout): use --force")
    if candidate_tags.get("holdout_spec") and candidate_tags.get("holdout_spec") == champion_tags.get("holdout_spec"):
        theirs = _holdout_metrics(champion_metrics)
        decision["comparison"] = "both measured on the same holdout"
    else:
        if ledger is None:
            raise ValueError(
                "the champion was measured on another holdout: pass --ledger so its configuration is "
                "retrained and measured on the candidate's holdout"
            )
        spec = json.loads(candidate_tags["holdout_spec"])
        champion_bundle = registry.load_bundle(champion, model_name, cache_dir or Path("models"))
        as_of = to_date(candidate_tags["as_of"])  # dates stored as text in the registry: typed once, here
        cutoff = to_date(spec["cutoff"])
        result = evaluate_cutoff(ledger.as_of(as_of), cutoff, config_from_meta(champion_bundle.meta))
        theirs = {k: result.metrics["model"].get(k) for k in PROMOTION_METRICS}
        decision["comparison"] = f"champion configuration retrained at {spec['cutoff']} on the candidate's ledger"
    decision["candidate_metrics"], decision["champion_metrics"] = ours, theirs
    beats = _beats(ours, theirs)
    decision["promoted"] = bool(beats)
    decision["reason"] = "beats the champion on the same holdout" if beats else "does not beat the champion"
    if beats:
        registry.set_champion(model_name, candidate, decision["reason"], decision)
    return decision
