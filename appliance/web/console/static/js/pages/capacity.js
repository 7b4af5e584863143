// The box's capacity on its own: what the governor admits jobs against, live.

import { capacityPanel } from "../capacity.js";
import { h, mount } from "../dom.js";
import { heading } from "../ui.js";

export async function render(root) {
  mount(
    root,
    heading("Capacity of this box"),
    await capacityPanel({ title: "Now" }),
    h(
      "p",
      { class: "muted" },
      "Jobs ask for cores, RAM, disk and GPUs; the governor runs a job when what it asks for is free, queues it when it could fit later, and refuses it when it never can.",
    ),
  );
}
