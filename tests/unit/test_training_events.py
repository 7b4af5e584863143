"""The event vocabulary between a training worker and its supervisor, and the
mapping from ultralytics' callback dicts to it."""

from __future__ import annotations

import dataclasses
import json
import math
import os

import pytest

from appliance import child_events
from appliance.domain.training import events as ev
from appliance.training import guard, reporting

pytestmark = pytest.mark.unit

EPOCH = ev.Epoch(
    epoch=2,
    epochs=3,
    train_losses={"box": 5.7, "cls": 4.0, "dfl": 4.2},
    val_losses={"box": 6.3, "cls": 4.1, "dfl": 4.1},
    precision=0.5,
    recall=0.25,
    map50=0.2,
    map50_95=0.1,
    lr=0.00093,
    seconds=1.4,
    metrics={"mAP50(B)": 0.2},
    t=1.5,
)
SAMPLES = [
    ev.Started(pid=42, model="yolo11n-detect", task="detect", epochs=3, device="cpu", t=1.0),
    EPOCH,
    ev.Progress(epoch=1, done=2, total=3, t=2.0),
    ev.Artifact(name="best.pt", path="/o/run/weights/best.pt", size=5_413_978, t=3.0),
    ev.Log(line="attempted connection to 10.255.255.1:80", level="warning", t=3.5),
    ev.Finished(metrics={"map50": 0.2}, best_epoch=3, epochs_run=3, seconds=9.1, t=4.0),
    ev.Failed(error="CUDA out of memory", hint="lower batch", kind="RuntimeError", t=5.0),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_round_trip(event):
    line = ev.format_event(event)
    assert "\n" not in line
    assert json.loads(line)["type"] == event.type and json.loads(line)["v"] == ev.VERSION
    assert ev.parse_event(line) == event


def test_non_finite_floats_travel_as_null():
    nan = dataclasses.replace(EPOCH, map50=math.nan, train_losses={"box": math.inf})
    back = ev.parse_event(ev.format_event(nan))
    assert isinstance(back, ev.Epoch)
    assert back.map50 is None and back.train_losses == {"box": None}


def _line(**body):
    return json.dumps({"v": 1, **body})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Epoch 1/3 box_loss 5.7", "invalid JSON"),
        ('{"v": 1, "type": "epoch"', "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type": "log", "line": "x"}', "unsupported version"),
        (json.dumps({"v": 2, "type": "log", "line": "x"}), "unsupported version"),
        (_line(type="heartbeat"), "unknown event type 'heartbeat'"),
        (_line(type="log", line="x", colour="red"), "unknown field(s) for log: colour"),
        (_line(type="progress", epoch=1, done=2), "progress lacks field 'total'"),
        (_line(type="progress", epoch=1, done="2", total=3), "progress.done is not int"),
        (_line(type="progress", epoch=True, done=2, total=3), "progress.epoch is not int"),
        (_line(type="finished", metrics={"map50": "high"}, best_epoch=1, epochs_run=1, seconds=1),
         "finished.metrics is not dict[str, float | None]"),
    ],
)  # fmt: skip
def test_parse_refuses_what_is_not_an_event(line, reason):
    with pytest.raises(ev.MalformedEvent) as err:
        ev.parse_event(line)
    assert reason in err.value.reason
    assert err.value.line == line and "not a training event" in str(err.value)


def test_ints_are_accepted_as_floats_and_optional_fields_default():
    event = ev.parse_event(
        _line(type="finished", metrics={}, best_epoch=1, epochs_run=1, seconds=2)
    )
    assert event == ev.Finished(metrics={}, best_epoch=1, epochs_run=1, seconds=2.0)
    assert ev.parse_event(_line(type="log", line="hi")) == ev.Log(line="hi")


def test_progress_throttle_lets_through_at_most_four_a_second():
    throttle = ev.ProgressThrottle()
    times = [0.0, 0.1, 0.2, 0.25, 0.3, 0.49, 0.5, 2.0]
    assert [throttle.due(t) for t in times] == [True, False, False, True, False, False, True, True]


# ultralytics' dicts at on_fit_epoch_end, as measured with 8.4.190
METRICS = {
    "metrics/precision(B)": 0.5,
    "metrics/recall(B)": 0.25,
    "metrics/mAP50(B)": 0.2,
    "metrics/mAP50-95(B)": 0.1,
    "val/box_loss": 6.32182,
    "val/cls_loss": 4.17184,
    "val/dfl_loss": 4.15949,
}
TRAIN = {"train/box_loss": 5.92571, "train/cls_loss": 4.04777, "train/dfl_loss": 4.27201}


def test_epoch_event_from_ultralytics_dicts():
    event = reporting.epoch_event(
        epoch=1, epochs=3, train_losses=TRAIN, metrics=METRICS,
        lr={"lr/pg0": 0.0005, "lr/pg1": 0.0005}, seconds=1.0154,
    )  # fmt: skip
    assert event.train_losses == {"box": 5.92571, "cls": 4.04777, "dfl": 4.27201}
    assert event.val_losses == {"box": 6.32182, "cls": 4.17184, "dfl": 4.15949}
    assert (event.precision, event.recall, event.map50, event.map50_95) == (0.5, 0.25, 0.2, 0.1)
    assert (event.lr, event.seconds) == (0.0005, 1.015)
    assert event.metrics["mAP50(B)"] == 0.2


def test_classification_metrics_have_no_detection_headline():
    event = reporting.epoch_event(
        epoch=1, epochs=1, train_losses={"train/loss": 1.0},
        metrics={"metrics/accuracy_top1": 0.5, "val/loss": 0.9}, lr={}, seconds=1,
    )  # fmt: skip
    assert event.precision is None and event.lr is None
    assert event.train_losses == {"loss": 1.0} and event.val_losses == {"loss": 0.9}


def test_the_extra_call_after_the_last_epoch_is_recognised():
    final = {k: v for k, v in METRICS.items() if not k.startswith("val/")}
    assert reporting.is_final_eval(final) and not reporting.is_final_eval(METRICS)
    assert reporting.final_metrics(final)["map50_95"] == 0.1


class _Trainer:
    def __init__(self, epoch, metrics, fitness=0.1, best=0.1):
        self.epoch, self.epochs, self.metrics = epoch, 3, metrics
        self.tloss, self.lr, self.epoch_time = {"box": 1}, {"lr/pg0": 0.01}, 0.5
        self.fitness, self.best_fitness = fitness, best
        self.train_loader = [0, 1, 2]

    def label_loss_items(self, tloss):
        return TRAIN


def test_reporter_emits_each_epoch_once_and_keeps_the_final_eval(tmp_path):
    path = tmp_path / "events.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    clock = iter(float(i) for i in range(100))
    sink = reporting.EventSink(child_events.EventWriter(fd), clock=lambda: next(clock))
    reporter = reporting.TrainerReporter(sink)
    final = {k: v for k, v in METRICS.items() if not k.startswith("val/")}
    for trainer in (
        _Trainer(0, METRICS),
        _Trainer(1, METRICS, fitness=0.05),
        _Trainer(2, METRICS),
        _Trainer(3, final),  # ultralytics' extra call: epoch one past the last
    ):
        reporter.on_train_epoch_start(trainer)
        reporter.on_train_batch_end(trainer)
        reporter.on_fit_epoch_end(trainer)
    os.close(fd)
    events = [ev.parse_event(json.dumps(child_events.decode(line))) for line in path.open("rb")]
    epochs = [e.epoch for e in events if isinstance(e, ev.Epoch)]
    assert epochs == [1, 2, 3] and reporter.epochs_seen == [1, 2, 3]
    assert reporter.best_epoch == 3 and reporter.final["map50"] == 0.2
    assert all(e.t > 0 for e in events)


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
        ("localhost", True), ("LOCALHOST", True), (None, True), ("", True), (b"127.0.0.1", True),
        (16, True),  # AF_NETLINK-style integer "host"
        ("10.255.255.1", False), ("0.0.0.0", False), ("192.168.1.5", False),
        ("github.com", False), ("fe80::1%eth0", False), ("::ffff:10.0.0.1", False),
    ],
)  # fmt: skip
def test_guard_policy(host, local):
    assert guard.is_local(host) is local


@pytest.mark.parametrize(
    ("event", "args", "shown"),
    [
        ("socket.connect", (None, ("10.255.255.1", 80)), "10.255.255.1:80"),
        ("socket.connect", (None, "/run/x.sock"), "'/run/x.sock'"),
        ("socket.getaddrinfo", ("github.com", 443, 0, 0, 0), "github.com:443"),
        ("socket.sendto", (None, ("8.8.8.8", 53)), "8.8.8.8:53"),
        ("socket.gethostbyname", ("example.com",), "example.com"),
    ],
)
def test_guard_destination(event, args, shown):
    assert guard.destination(event, args)[1] == shown
