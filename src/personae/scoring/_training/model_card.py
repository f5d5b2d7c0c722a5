"""Model cards for the models personae trains and ships: what they are, how they were made, how good they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_model_card(folder: Path, title: str, sections: dict[str, Any]) -> Path:
    """Write `MODEL_CARD.md` (human-readable) and `model_card.json` (machine-readable) into `folder`."""
    lines = [f"# {title}", ""]
    for heading, body in sections.items():
        lines.append(f"## {heading}")
        lines.append("")
        if isinstance(body, dict):
            lines.append("| | |")
            lines.append("|---|---|")
            lines.extend(f"| {k} | {v} |" for k, v in body.items())
        elif isinstance(body, list):
            lines.extend(f"- {item}" for item in body)
        else:
            lines.append(str(body))
        lines.append("")
    path = folder / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    (folder / "model_card.json").write_text(json.dumps({"title": title, **sections}, indent=2, default=str) + "\n")
    return path
