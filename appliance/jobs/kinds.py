"""The job kinds this appliance ships, and the kind contract bound to its services.

Kinds write ``JobKind(...)`` and take a ``JobHandle``: the contract of
:mod:`appliance.ports.jobs` with the services being this appliance's
:class:`ServiceContext`. The composition root (``ahoy serve``, the worker) calls
:func:`registry` and puts the result on the context; services ask ``ctx.kinds``.
"""

from __future__ import annotations

from appliance.ports import jobs as contract
from appliance.services.context import ServiceContext

JobKind = contract.JobKind[ServiceContext]
JobHandle = contract.JobHandle[ServiceContext]
JobKinds = contract.JobKinds[ServiceContext]


def registry() -> JobKinds:
    """Every kind this appliance ships (built when called: the kinds' modules are
    imported then, never as a side effect of importing this one)."""
    from appliance.jobs.augment import KIND as AUGMENT
    from appliance.jobs.benchmark import KIND as BENCHMARK
    from appliance.jobs.evaluate import KIND as EVALUATE
    from appliance.jobs.export import KIND as EXPORT
    from appliance.jobs.gc import KIND as GC
    from appliance.jobs.train import KIND as TRAIN
    from appliance.jobs.train_script import KIND as TRAIN_SCRIPT
    from appliance.jobs.verify import KIND as VERIFY

    return JobKinds([AUGMENT, BENCHMARK, EVALUATE, EXPORT, GC, TRAIN, TRAIN_SCRIPT, VERIFY])
