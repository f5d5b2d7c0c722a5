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


def render_model_card(folder: Path, into: Path | None = None) -> Path:
    """Rewrite `MODEL_CARD.md` from `model_card.json`: the JSON is the card's source, so edit it, then render.

    `into`: render into another folder instead (to compare with the card as it stands).
    """
    card = json.loads((folder / "model_card.json").read_text())
    return write_model_card(into or folder, card.pop("title"), card)


if __name__ == "__main__":  # python -m personae.scoring._training.model_card FOLDER...
    import sys

    for name in sys.argv[1:]:
        print(render_model_card(Path(name)))
