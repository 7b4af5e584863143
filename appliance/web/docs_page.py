"""A self-contained API reference page rendered from the OpenAPI document
(no scripts, fonts or styles from the network: the appliance runs offline)."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ddd}
.op{margin:.6rem 0;padding:.4rem .6rem;border-left:4px solid #888;background:#f7f7f7}
.m{font-weight:bold;display:inline-block;width:4.5rem}
.get{border-color:#2a7}.post{border-color:#27c}.put{border-color:#c80}.delete{border-color:#c33}
code{font-size:.95em}.p{color:#555;font-size:.9em}
"""


def render_docs(schema: dict[str, Any]) -> str:
    info = schema.get("info", {})
    by_tag: dict[str, list[str]] = {}
    for path, ops in sorted(schema.get("paths", {}).items()):
        for method, op in ops.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            tag = (op.get("tags") or ["other"])[0]
            params = ", ".join(
                f"{p['name']} ({p['in']})" for p in op.get("parameters", []) if "name" in p
            )
            body = (
                "request body: " + ", ".join(op.get("requestBody", {}).get("content", {}).keys())
                if "requestBody" in op
                else ""
            )
            by_tag.setdefault(tag, []).append(
                f'<div class="op {method}"><span class="m">{method.upper()}</span>'
                f"<code>{escape(path)}</code> — {escape(op.get('summary', ''))}"
                f'<div class="p">{escape(params)} {escape(body)}</div></div>'
            )
    sections = "".join(
        f"<h2>{escape(tag)}</h2>{''.join(ops)}" for tag, ops in sorted(by_tag.items())
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(info.get('title', 'API'))} {escape(info.get('version', ''))}</h1>"
        f"<p>{escape(info.get('description', ''))}</p>"
        f"<p>Machine-readable: <a href='/v1/openapi.json'>/v1/openapi.json</a></p>"
        f"{sections}</body></html>"
    )
