"""The training engine: what runs an Ultralytics training in a child process of
its own, offline and network-guarded, and what supervises it from the job worker.

``spec`` (one run, checked before anything starts), ``supervise`` (start, follow,
cancel, tell how it ended), ``worker_main`` (the child process), ``reporting``
(trainer callbacks → the domain's events), ``offline`` (the environment that keeps
Ultralytics off the network, for every engine) and ``guard`` (the network
tripwire). The events' vocabulary is appliance.domain.training.events; they
travel by appliance.child_events. Job kinds (appliance.jobs.train,
appliance.jobs.train_script) and the catalog plugin
(appliance.plugins.ultralytics_catalog) are its callers.
"""
