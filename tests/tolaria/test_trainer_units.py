"""Unit tests of Tolaria's configuration, optimiser factory and the transformer (B, T, V) path."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from esper.data import TASKS, build_model, load_task
from esper.data.splits import SplitTensors
from esper.data.task import TaskData, TransformerHostConfig
from esper.leyline import SeedStage
from esper.tolaria import EpochTrainer, TrainerConfig, make_optimizer, trainer_config_for, validate
from esper.tolaria.evaluation import flatten_logits


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"optimizer": "rmsprop"}, r"optimizer 'rmsprop' is unknown; valid: \['sgd', 'adam'\]"),
        ({"host_lr": 0.0}, "host_lr must be > 0"),
        ({"seed_lr": -1.0}, "seed_lr must be > 0"),
        ({"momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"eval_batch_size": 2.5}, "eval_batch_size must be an int >= 1"),
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, Any], match: str) -> None:
    error = TypeError if kwargs.get("eval_batch_size") == 2.5 else ValueError  # DEC.validation.1: wrong type
    with pytest.raises(error, match=match):
        TrainerConfig(**kwargs)


def test_make_optimizer_kinds() -> None:
    p = [torch.nn.Parameter(torch.zeros(2))]
    sgd = make_optimizer(p, TrainerConfig(), lr=0.1)
    adam = make_optimizer(p, TrainerConfig(optimizer="adam"), lr=0.01)
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["momentum"] == 0.9
    assert isinstance(adam, torch.optim.Adam) and adam.param_groups[0]["lr"] == 0.01


def test_trainer_config_for_task() -> None:
    cfg = trainer_config_for(TASKS["text"], shuffle_seed=3)
    assert (cfg.optimizer, cfg.host_lr, cfg.seed_lr, cfg.batch_size, cfg.shuffle_seed) == ("adam", 3e-3, 1e-3, 64, 3)


def test_flatten_logits_shapes() -> None:
    logits, y = flatten_logits(torch.zeros(2, 5, 7), torch.zeros(2, 5, dtype=torch.int64))
    assert logits.shape == (10, 7) and y.shape == (10,)
    with pytest.raises(ValueError, match="does not match targets shape"):
        flatten_logits(torch.zeros(2, 7), torch.zeros(3, dtype=torch.int64))


def _tiny_text(tmp_path: Path) -> TaskData:
    path = tmp_path / "t.txt"
    path.write_text("def f(x):\n    return x + 1\n" * 60, encoding="utf-8")
    data = load_task("text", data_dir=path)
    host = TransformerHostConfig(n_embd=16, n_head=2, n_layer=3, block_size=64)
    return replace(data, spec=replace(data.spec, host=host))


def test_transformer_epoch_with_a_lora_seed(tmp_path: Path) -> None:
    data = _tiny_text(tmp_path)
    torch.manual_seed(0)
    model = build_model(data)
    model.germinate_seed("lora", slot="r0c1")
    model.step_epoch()
    trainer = EpochTrainer(model, trainer_config_for(data.spec))
    first = trainer.run_epoch(data)
    for _ in range(4):
        last = trainer.run_epoch(data)
    assert model.resolve_slot("r0c1").stage == SeedStage.TRAINING
    assert set(last.train.seed_grad_norm_ratios) == {"r0c1"}
    assert last.train.train_loss < first.train.train_loss
    assert 0.0 <= last.val_accuracy <= 100.0


def test_validate_rejects_empty_split_and_bad_batch() -> None:
    data = load_task("digits")
    torch.manual_seed(0)
    model = build_model(data)
    empty = SplitTensors(data.train_x, data.train_y, data.val_x[:0], data.val_y[:0])
    with pytest.raises(ValueError, match="validation split is empty"):
        validate(model, empty)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        validate(model, data, batch_size=0)
    small = validate(model, data, batch_size=7)
    big = validate(model, data)
    assert small[1] == big[1] and small[0] == pytest.approx(big[0], rel=1e-5)


def test_data_on_another_device_is_a_clear_error() -> None:
    data = load_task("digits")
    torch.manual_seed(0)
    model = build_model(data, device="meta")
    with pytest.raises(ValueError, match="training data is on cpu but the model is on meta"):
        EpochTrainer(model).train_epoch(data)
    with pytest.raises(ValueError, match="validation data is on cpu but the model is on meta"):
        validate(model, data)
