"""The AHOY edge agent: runs a pipeline file (model, sources, tracking, zones,
sinks) without torch or Ultralytics, on a device or inside the appliance."""
