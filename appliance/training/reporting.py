"""The worker's side of the event channel: an :class:`EventSink` writing the
domain's training events (appliance.child_events carries them) and the
ultralytics trainer callbacks that feed it.

Ultralytics names its numbers ``train/box_loss``, ``val/dfl_loss``,
``metrics/mAP50-95(B)``, ``lr/pg0``; :func:`epoch_event` and :func:`final_metrics`
turn those dicts into the domain's events, so they are testable without a trainer.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any

from appliance.child_events import EventWriter
from appliance.domain.training.events import (
    Epoch,
    Event,
    FloatMap,
    Log,
    Progress,
    ProgressThrottle,
    format_event,
)

_MAX_LOG_LINE = 2000  # keeps every event line under PIPE_BUF-sized writes in practice


class EventSink:
    """Writes training events, each stamped with its time, to an event channel.
    Thread-safe. If the supervisor has gone, the worker exits at once (see
    appliance.child_events): a training run must not outlive the job that owns it.
    """

    def __init__(self, writer: EventWriter, clock: Callable[[], float] = time.time) -> None:
        self.writer = writer
        self.clock = clock

    def emit(self, event: Event) -> None:
        if isinstance(event, Log) and len(event.line) > _MAX_LOG_LINE:
            event = dataclasses.replace(event, line=event.line[:_MAX_LOG_LINE] + "…")
        if not event.t:
            event = dataclasses.replace(event, t=round(self.clock(), 3))
        self.writer.write_json(format_event(event))

    def log(self, line: str, level: str = "info") -> None:
        self.emit(Log(line=line, level=level))


def _floats(items: Mapping[str, Any], prefix: str, drop_suffix: str = "") -> FloatMap:
    out: FloatMap = {}
    for key, value in items.items():
        if key.startswith(prefix):
            name = key[len(prefix) :]
            out[name.removesuffix(drop_suffix) if drop_suffix else name] = _num(value)
    return out


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _headline(metrics: FloatMap) -> dict[str, float | None]:
    return {
        "precision": metrics.get("precision(B)"),
        "recall": metrics.get("recall(B)"),
        "map50": metrics.get("mAP50(B)"),
        "map50_95": metrics.get("mAP50-95(B)"),
    }


def epoch_event(
    *,
    epoch: int,
    epochs: int,
    train_losses: Mapping[str, Any],
    metrics: Mapping[str, Any],
    lr: Mapping[str, Any],
    seconds: float,
) -> Epoch:
    """The ``epoch`` event for 1-based ``epoch`` from ultralytics' dicts: ``train_losses``
    as ``label_loss_items`` gives them, ``metrics`` as ``trainer.metrics``, ``lr`` as
    ``trainer.lr``."""
    raw = _floats(metrics, "metrics/")
    head = _headline(raw)
    return Epoch(
        epoch=epoch,
        epochs=epochs,
        train_losses=_floats(train_losses, "train/", "_loss"),
        val_losses=_floats(metrics, "val/", "_loss"),
        lr=_num(next(iter(lr.values()))) if lr else None,
        seconds=round(float(seconds), 3),
        metrics=raw,
        precision=head["precision"],
        recall=head["recall"],
        map50=head["map50"],
        map50_95=head["map50_95"],
    )


def final_metrics(metrics: Mapping[str, Any]) -> FloatMap:
    """Best.pt's validation metrics: the headline four plus every raw one."""
    raw = _floats(metrics, "metrics/")
    return {**{k: v for k, v in _headline(raw).items() if v is not None}, **raw}


def is_final_eval(metrics: Mapping[str, Any]) -> bool:
    """Ultralytics calls ``on_fit_epoch_end`` once more after the last epoch, to
    validate best.pt (``trainer.epoch`` one past the last, see PLATFORM_NOTES). That
    call's metrics carry no validation losses; every in-loop call's do (ultralytics
    seeds them at the first batch), even when per-epoch validation is off."""
    return not any(key.startswith("val/") for key in metrics)


class TrainerReporter:
    """Ultralytics callbacks → events. Register with :meth:`attach`."""

    def __init__(self, sink: EventSink, throttle: ProgressThrottle | None = None) -> None:
        self.sink = sink
        self.throttle = throttle or ProgressThrottle()
        self.epochs_seen: list[int] = []
        self.best_epoch = 0
        self.final: FloatMap = {}
        self._batch = 0

    def attach(self, model: Any) -> None:
        model.add_callback("on_train_epoch_start", self.on_train_epoch_start)
        model.add_callback("on_train_batch_end", self.on_train_batch_end)
        model.add_callback("on_fit_epoch_end", self.on_fit_epoch_end)

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._batch = 0

    def on_train_batch_end(self, trainer: Any) -> None:
        self._batch += 1
        if self.throttle.due(self.sink.clock()):
            total = len(trainer.train_loader)
            self.sink.emit(Progress(epoch=trainer.epoch + 1, done=self._batch, total=total))

    def on_fit_epoch_end(self, trainer: Any) -> None:
        metrics = dict(trainer.metrics or {})
        epoch = int(trainer.epoch) + 1
        if is_final_eval(metrics) or epoch in self.epochs_seen:
            self.final = final_metrics(metrics)
            return
        losses = trainer.label_loss_items(trainer.tloss) if trainer.tloss is not None else {}
        self.sink.emit(
            epoch_event(
                epoch=epoch,
                epochs=int(trainer.epochs),
                train_losses=losses,
                metrics=metrics,
                lr=getattr(trainer, "lr", None) or {},
                seconds=trainer.epoch_time or 0.0,
            )
        )
        self.epochs_seen.append(epoch)
        # ultralytics overwrites best.pt whenever fitness equals the best so far
        if trainer.fitness is not None and trainer.fitness == trainer.best_fitness:
            self.best_epoch = epoch
