"""What `ahoy dataset import` says about a folder `ahoy dataset pull` wrote."""

from __future__ import annotations

from typing import Any

from appliance.cli.output import out
from appliance.domain.wording import plural


def pulled_lines(name: str, p: dict[str, Any]) -> None:
    """What an import of a pulled folder says: its labels and its split."""
    if p["labels_attached"]:
        said = f"{label_docs(p['labels_attached'])} attached"
    elif p["labels_found"]:
        said = f"pass --labels to attach its {label_docs(p['labels_found'])}"
    else:
        said = "no label documents"
    out.print(
        f"a pull of {p['source']} (its .ahoy/ is not imported as files): {said}", markup=False
    )
    sp = p["split"]
    if sp["moved"]:
        moves = ", ".join(f"{k} {n}" for k, n in sp["moves"].items())
        out.print(
            f"split: {name}'s split ({sp['dataset']}) keeps {sp['kept']} of"
            f" {plural(sp['kept'] + sp['moved'], 'file')} where {p['source']} had them;"
            f" {sp['moved']} {'moves' if sp['moved'] == 1 else 'move'} ({moves}) at the next"
            f" commit; to keep {p['source']}'s split, commit with"
            f" {sp['commit_options']}",
            markup=False,
        )


def label_docs(n: int) -> str:
    return plural(n, "label document")
