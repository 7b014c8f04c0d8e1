"""The models, the Preprocessor, the calibrator and the baselines behave like scikit-learn estimators.

clone / get_params / set_params, NotFittedError before fit, fit idempotence, the seed reaching LightGBM, one meaning
of predict_proba, one set of defaults (TrainConfig's are the estimators'), and the training recipe unchanged: the
bundle's boosters are exactly what the pre-refactor recipe (spelled out below) builds from the same matrices.
"""

from __future__ import annotations

import dataclasses

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks

from features.catalog import CATEGORICAL, MODEL_FEATURES
from features.labels import HORIZON_WEEKS
from features.weeks import WEEK_FEATURES
from training.baselines import CustomerHistoryBaseline, DueDateBaseline
from training.estimator import OWNED_PARAMS, size_adapted_params
from training.models import DefaultModel, PlattCalibrator, TimingModel
from training.periods import PERIOD_FEATURES
from training.preprocess import Preprocessor
from training.train import TrainConfig

FAST = {"rounds": 10, "early_stopping": 5, "num_threads": 1}

PRE_REFACTOR_PARAMS = {
    "objective": "binary",
    "learning_rate": 0.15,
    "num_leaves": 31,
    "min_data_in_leaf": 200,
    "feature_fraction": 0.6,
    "bagging_fraction": 0.5,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 63,
    "verbosity": -1,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
}
"""models.BASE_PARAMS before the refactor: with TrainConfig's defaults they produced the scores of record."""
PRE_REFACTOR_DEFAULT_OVERRIDES = {"num_leaves": 15, "min_data_in_leaf": 300}
"""TrainConfig.default_params before the refactor."""


def _non_default_estimators() -> list:
    """One of each estimator, every hyper-parameter away from its default."""
    return [
        TimingModel(
            params={"learning_rate": 0.1},
            rounds=5,
            early_stopping=3,
            valid_share=0.3,
            num_threads=1,
            seed=11,
            negative_rate=0.5,
            preprocessor=Preprocessor(features=MODEL_FEATURES[:6]),
            adapt_to_size=False,
        ),
        DefaultModel(
            params={"num_leaves": 7},
            rounds=5,
            early_stopping=3,
            valid_share=0.3,
            num_threads=1,
            seed=11,
            adapt_to_size=False,
            horizon_days=60,
            period_days=14,
        ),
        PlattCalibrator(max_iter=50),
        Preprocessor(features=list(MODEL_FEATURES), categorical=list(CATEGORICAL)[:1]),
        DueDateBaseline(sd_days=3.0),
        CustomerHistoryBaseline(prior_strength=5.0),
    ]


def _name(estimator) -> str:
    return type(estimator).__name__


@pytest.fixture(scope="module")
def sample(trained) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fifth of the training snapshots (rows, labels): quick to fit, still spanning every as-of date."""
    rows, labels = trained.data.rows, trained.data.labels
    pick = np.random.default_rng(5).random(len(rows)) < 0.2
    return rows[pick].reset_index(drop=True), labels[pick].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- parameters
def _plain(params: dict) -> dict:
    """Parameters with estimator-valued ones replaced by their own parameters (clone copies them)."""
    return {k: (v.get_params() if isinstance(v, Preprocessor) else v) for k, v in params.items()}


@pytest.mark.parametrize("estimator", _non_default_estimators(), ids=_name)
def test_clone_get_params_set_params_round_trip(estimator):
    params = estimator.get_params(deep=False)
    assert params.keys() == type(estimator)().get_params(deep=False).keys()
    copy = clone(estimator)
    assert type(copy) is type(estimator) and copy is not estimator
    assert _plain(copy.get_params(deep=False)) == _plain(params)
    assert _plain(params) != _plain(type(estimator)().get_params(deep=False))  # the clone did not fall back
    # set_params(**get_params()) onto a default-constructed one gives the same estimator
    fresh = type(estimator)().set_params(**params)
    assert _plain(fresh.get_params(deep=False)) == _plain(params) and repr(fresh) == repr(estimator)
    # set_params changes exactly the parameter named, and returns the estimator
    for name in params:
        other = clone(estimator)
        assert other.set_params(**{name: "changed"}) is other
        assert _plain(other.get_params(deep=False)) == {**_plain(params), name: "changed"}


def test_nested_preprocessor_parameters_are_reachable():
    model = TimingModel(preprocessor=Preprocessor())
    assert model.get_params()["preprocessor__features"] is None
    model.set_params(preprocessor__features=["days_past_due"])
    assert model.preprocessor.features == ["days_past_due"]


def test_one_set_of_defaults_shared_by_train_config_and_the_estimators():
    config = TrainConfig()
    shared = config.estimator_params()
    for model in (TimingModel(), DefaultModel()):
        assert {k: model.get_params()[k] for k in shared} == shared, _name(model)
    assert TimingModel().negative_rate == config.timing_negative_rate
    # the values that produced the scores of record (the pre-refactor TrainConfig) are the defaults
    assert (config.rounds, config.early_stopping, config.valid_share) == (200, 20, 0.2)
    assert (config.timing_negative_rate, config.seed, config.num_threads) == (0.25, 7, 2)
    assert TimingModel().lightgbm_params() == {**PRE_REFACTOR_PARAMS, "num_threads": 2}
    default_params = {**PRE_REFACTOR_PARAMS, **PRE_REFACTOR_DEFAULT_OVERRIDES, "num_threads": 2}
    assert DefaultModel().lightgbm_params() == default_params


def test_fit_bundle_hands_train_config_to_the_estimators(trained):
    config = trained.config
    for model in (trained.bundle.timing, trained.bundle.default):
        assert {k: model.get_params()[k] for k in config.estimator_params()} == config.estimator_params()
        assert model.booster_.params["seed"] == config.seed
        assert model.booster_.params["num_threads"] == config.num_threads
    assert trained.bundle.timing.negative_rate == config.timing_negative_rate
    seeded = TrainConfig(**{**dataclasses.asdict(config), "seed": 99})
    assert TimingModel(**seeded.estimator_params()).lightgbm_params()["seed"] == 99


@pytest.mark.parametrize("alias", ["seed", "bagging_seed", "random_state", "nthread", "num_iterations"])
def test_params_cannot_bypass_seed_threads_or_rounds(alias, sample):
    assert any(alias in names for names in OWNED_PARAMS.values())
    with pytest.raises(ValueError, match=alias):
        DefaultModel(params={alias: 1}, **FAST).fit(*sample)


# ----------------------------------------------------------------------------------------------- not fitted
def test_unfitted_estimators_raise_not_fitted_error(feature_rows):
    calls = {
        "TimingModel": lambda m: m.predict_proba(feature_rows),
        "TimingModel.hazard": lambda m: m.predict_hazard(feature_rows),
        "DefaultModel": lambda m: m.predict_proba(feature_rows),
        "DefaultModel.default": lambda m: m.predict_default(feature_rows),
        "DefaultModel.contributions": lambda m: m.contributions(feature_rows),
        "PlattCalibrator": lambda m: m.transform(np.array([0.5])),
        "Preprocessor": lambda m: m.transform(feature_rows),
        "DueDateBaseline": lambda m: m.predict_proba(feature_rows),
        "DueDateBaseline.default": lambda m: m.predict_default(feature_rows),
        "CustomerHistoryBaseline": lambda m: m.predict_proba(feature_rows),
        "CustomerHistoryBaseline.default": lambda m: m.predict_default(feature_rows),
    }
    by_name = {_name(e): e for e in _non_default_estimators()}
    for key, call in calls.items():
        with pytest.raises(NotFittedError):
            call(clone(by_name[key.split(".")[0]]))
    with pytest.raises(NotFittedError):  # even with no rows to predict
        DefaultModel().predict_default(feature_rows.iloc[:0])


# ----------------------------------------------------------------------------------------------- fit
def test_fit_is_idempotent_and_a_clone_fits_the_same(sample, feature_rows):
    rows, labels = sample
    for model in (TimingModel(**FAST), DefaultModel(**FAST)):
        first = model.fit(rows, labels).predict_proba(feature_rows)
        booster = model.booster_.model_to_string()
        second = model.fit(rows, labels).predict_proba(feature_rows)
        np.testing.assert_array_equal(first, second)
        assert model.booster_.model_to_string() == booster
        twin = clone(model)
        assert not [name for name in vars(twin) if name.endswith("_")]  # clone forgets what was learned
        np.testing.assert_array_equal(twin.fit(rows, labels).predict_proba(feature_rows), first)


def test_the_seed_reaches_lightgbm_and_the_negative_sampling(sample, feature_rows):
    rows, labels = sample
    for cls in (TimingModel, DefaultModel):
        a, b, c = (cls(seed=seed, **FAST).fit(rows, labels) for seed in (1, 1, 2))
        assert a.booster_.params["seed"] == 1 and c.booster_.params["seed"] == 2
        assert a.booster_.model_to_string() == b.booster_.model_to_string()
        assert a.booster_.model_to_string() != c.booster_.model_to_string()
        np.testing.assert_array_equal(a.predict_proba(feature_rows), b.predict_proba(feature_rows))
        assert not np.array_equal(a.predict_proba(feature_rows), c.predict_proba(feature_rows))
    # the timing model's kept week rows without an event depend on the seed, its events never do
    x1, y1, _ = TimingModel(seed=1, **FAST).fit(rows, labels)._design(rows, labels, training=True)
    x2, y2, _ = TimingModel(seed=2, **FAST).fit(rows, labels)._design(rows, labels, training=True)
    assert (y1 > 0).sum() == (y2 > 0).sum() and not np.array_equal(x1, x2)


def test_fit_learns_only_underscore_state_and_leaves_parameters_alone(sample):
    rows, labels = sample
    model = TimingModel(params={"learning_rate": 0.2}, **FAST)
    params = model.get_params(deep=False)
    model.fit(rows, labels)
    assert model.get_params(deep=False) == params and model.params == {"learning_rate": 0.2}
    assert model.preprocessor is None and isinstance(model.preprocessor_, Preprocessor)
    assert model.feature_names_ == model.preprocessor_.feature_names_ + list(WEEK_FEATURES)


# ----------------------------------------------------------------------------------------------- predict_proba
def test_predict_proba_is_a_class_probability_matrix(trained, feature_rows):
    baselines = [
        DueDateBaseline().fit(trained.data.rows, trained.data.labels),
        CustomerHistoryBaseline().fit(trained.data.rows, trained.data.labels),
    ]
    for model, classes in (
        (trained.bundle.timing, HORIZON_WEEKS + 1),
        (trained.bundle.default, 2),
        *((baseline, HORIZON_WEEKS + 1) for baseline in baselines),
    ):
        proba = model.predict_proba(feature_rows)
        assert proba.shape == (len(feature_rows), classes) == (len(feature_rows), len(model.classes_)), _name(model)
        assert ((proba >= 0) & (proba <= 1)).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
        assert model.predict_proba(feature_rows.iloc[:0]).shape == (0, classes)
    default = trained.bundle.default
    np.testing.assert_array_equal(default.classes_, [0, 1])
    np.testing.assert_array_equal(default.predict_proba(feature_rows)[:, 1], default.predict_default(feature_rows))
    np.testing.assert_array_equal(trained.bundle.timing.classes_, np.arange(1, HORIZON_WEEKS + 2))


def test_bundle_scores_use_the_same_probabilities(trained, scores, feature_rows):
    by_invoice = scores.set_index("invoice_id").loc[feature_rows["invoice_id"]]
    np.testing.assert_array_equal(
        by_invoice["p_default"].to_numpy(), trained.bundle.default.predict_proba(feature_rows)[:, 1]
    )
    np.testing.assert_array_equal(
        by_invoice["p_pay_week_1"].to_numpy(), trained.bundle.timing.predict_proba(feature_rows)[:, 0]
    )


# ----------------------------------------------------------------------------------------------- recipe unchanged
def test_boosters_are_what_the_pre_refactor_recipe_builds(trained):
    """LightGBM handed the recorded matrices with the pre-refactor parameters, sized for the rows it got
    (training.estimator.size_adapted_params), rounds and early stopping, then refitted on every snapshot for the
    rounds early stopping chose, gives the bundle's boosters byte for byte
    (test_models pins that the matrices are the time split's; the default model's are period rows since the hazard)."""
    config = trained.config
    names = trained.bundle.preprocessor.feature_names_
    categorical = trained.bundle.preprocessor.categorical_indices_
    assert trained.bundle.timing.refit and trained.bundle.default.refit and len(trained.calls) >= 4  # + cash bands
    for (call, refit), model, overrides, feature_names, weight_of in (
        (
            trained.calls[0:2],
            trained.bundle.timing,
            {},
            names + list(WEEK_FEATURES),
            lambda y: np.where(y > 0, 1.0, 1.0 / config.timing_negative_rate),
        ),
        (
            trained.calls[2:4],
            trained.bundle.default,
            PRE_REFACTOR_DEFAULT_OVERRIDES,
            names + list(PERIOD_FEATURES),
            lambda y: None,
        ),
    ):
        base = {**PRE_REFACTOR_PARAMS, **overrides}
        params = {**base, **size_adapted_params(base, len(call["x"])), "num_threads": config.num_threads}
        train_set = lgb.Dataset(
            call["x"],
            call["y"],
            weight=weight_of(call["y"]),
            feature_name=feature_names,
            categorical_feature=categorical,
        )
        valid = lgb.Dataset(call["x_valid"], call["y_valid"], reference=train_set)
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=config.rounds,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(config.early_stopping, verbose=False)],
        )
        # then again on every snapshot (the later slice too), for the rounds early stopping chose, uncalibrated
        assert len(refit["x"]) > len(call["x"]) and refit["x_valid"] is None
        refit_set = lgb.Dataset(
            refit["x"],
            refit["y"],
            weight=weight_of(refit["y"]),
            feature_name=feature_names,
            categorical_feature=categorical,
        )
        booster = lgb.train(params, refit_set, num_boost_round=booster.best_iteration or booster.num_trees())
        assert model.calibrator_ is None and model.refit_rounds_ == booster.num_trees()
        assert booster.model_to_string() == model.booster_.model_to_string(), _name(model)


# ----------------------------------------------------------------------------------------------- sklearn's checks
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_estimators_unfitted",
]
"""sklearn's checks that do not fit: they hold for estimators whose fit takes a DataFrame of named ledger columns
and a labels frame. The others fit on generic numeric arrays (make_blobs, iris) with one target vector, which these
estimators cannot read by design (they need features.build's columns and features.labels' censoring flags); their
substance (fit returns self, idempotence, no parameter changes in fit, NotFittedError) is tested above on real rows.
"""


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("estimator", _non_default_estimators(), ids=_name)
def test_sklearn_estimator_checks(estimator, check):
    getattr(estimator_checks, check)(_name(estimator), estimator)


def test_preprocessor_and_calibrator_pass_the_transformer_unfitted_check():
    for estimator in (Preprocessor(), PlattCalibrator()):
        estimator_checks.check_transformers_unfitted(_name(estimator), estimator)
