"""`payrisk retrain`: train a challenger as of a date, backtest it and the champion on the same cutoffs, and promote
it only when the gate (training.gate: a paired bootstrap over customers) says it is better by more than noise.

The challenger is always registered (so the evidence has a home: its MLflow run gets the decision as tags, the
differences and intervals as metrics, and `gate.json`); the champion alias moves only when the gate passes. With no
champion yet there is nothing to compare with: the first-model rule of `train_and_register` applies.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from features.ledger.ledger import Ledger
from training import registry
from training.backtest import default_cutoffs
from training.gate import BOOTSTRAP_DRAWS, GateResult, paired_bootstrap_gate, pooled_backtest
from training.pipeline import config_from_meta, train_and_register
from training.train import TrainConfig

RETRAIN_CUTOFFS = 4
"""Default number of backtest cutoffs of the gate (training.backtest.default_cutoffs of the ledger known at as-of)."""


@dataclass
class RetrainOutcome:
    challenger: str
    champion_before: str | None
    promoted: bool
    reason: str
    gate: GateResult | None
    run_id: str

    def decision(self) -> dict:
        return {
            "challenger": self.challenger,
            "champion_before": self.champion_before,
            "promoted": self.promoted,
            "reason": self.reason,
            "gate": None if self.gate is None else self.gate.as_dict(),
        }


def log_gate(run_id: str, gate: GateResult) -> None:
    """The gate's decision and evidence on the challenger's MLflow run: tags gate_decision / gate_reason /
    gate_rule, metrics gate_<metric>_{champion,challenger,difference,lower,upper}, artifact gate.json."""
    import mlflow

    c = registry.client()
    c.set_tag(run_id, "gate_decision", "promote" if gate.promote else "refuse")
    c.set_tag(run_id, "gate_reason", gate.reason[:5000])
    c.set_tag(run_id, "gate_rule", gate.rule)
    c.set_tag(run_id, "gate_cutoffs", ",".join(gate.cutoffs))
    for name, diff in gate.difference.items():
        low, high = gate.interval[name]
        values = {
            "champion": gate.champion[name],
            "challenger": gate.challenger[name],
            "difference": diff,
            "lower": low,
            "upper": high,
        }
        values["floor"] = gate.floor[name]
        for key, value in values.items():
            c.log_metric(run_id, f"gate_{name}_{key}", float(value))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gate.json"
        path.write_text(json.dumps(gate.as_dict(), indent=2))
        with mlflow.start_run(run_id=run_id):
            mlflow.log_artifact(str(path))


def retrain(
    ledger: Ledger,
    as_of: pd.Timestamp,
    config: TrainConfig,
    model_name: str,
    tracking_uri: str,
    cache_dir: Path,
    cutoffs: list[pd.Timestamp] | None = None,
    holdout: bool = True,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
    reseed: bool = True,
    progress=print,
    artifact_root: Path | None = None,
) -> RetrainOutcome:
    """Register a challenger trained with `config` as of `as_of`; gate it against the champion (its configuration
    backtested on the same cutoffs, with this machine's thread count; with `reseed` a second time with another seed,
    for the training-noise floor) and promote it when the gate passes."""
    registry.configure(tracking_uri, artifact_root)
    champion = registry.champion_version(model_name)
    known = ledger.as_of(as_of)
    if cutoffs is None:
        cutoffs = default_cutoffs(known, RETRAIN_CUTOFFS)
    cutoffs = [c for c in cutoffs if c < as_of]
    if champion is not None and not cutoffs:
        raise ValueError(
            f"no backtest cutoff before {as_of.date()} with outcomes known by then: the ledger is too short"
        )
    outcome = train_and_register(
        ledger, as_of, config, model_name, tracking_uri, holdout, progress, artifact_root=artifact_root
    )
    if champion is None:
        return RetrainOutcome(
            outcome.version, None, outcome.champion, f"no champion before: {outcome.note}", None, outcome.run_id
        )
    champion_bundle = registry.load_bundle(champion, model_name, cache_dir)
    champion_config = replace(config_from_meta(champion_bundle.meta), num_threads=config.num_threads)
    progress(f"gate: backtesting champion version {champion} and challenger version {outcome.version}")
    theirs = pooled_backtest(known, cutoffs, champion_config, progress)
    ours = pooled_backtest(known, cutoffs, config, progress)
    again = None
    if reseed:
        progress("gate: the champion's configuration again with another seed (training noise)")
        again = pooled_backtest(known, cutoffs, replace(champion_config, seed=champion_config.seed + 1), progress)
    gate = paired_bootstrap_gate(theirs, ours, draws=draws, seed=seed, reseeded=again)
    log_gate(outcome.run_id, gate)
    result = RetrainOutcome(outcome.version, champion, gate.promote, gate.reason, gate, outcome.run_id)
    if gate.promote:
        registry.set_champion(model_name, outcome.version, f"retrain gate: {gate.reason}", result.decision())
    return result
