"""CharacterBox's extracted scenes (`{title, scenes: [{event, time, location, description, characters, plot}]}`).

Each scene becomes a `SceneSpec`: the setting from time, location and description; one inline persona per character,
its statements extracted from the character's description (every sentence of which is about the character: one
written as a phrase, "A skilled hacker.", gets the name as its subject), its position and state told to it alone; the
scene's
event as the opening narration; the plot as the narrator's direction. The source's reference actions are not used:
they are what the characters did in the book, not something to feed them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from personae.interop import extract_statements, read_limited
from personae.persona import PersonaError
from personae.scene._spec import MAX_TEXT, EventSpec, NarratorSpec, SceneSpec, SceneSpecError, scene_from_data

MAX_CHARACTERBOX_BYTES = 16 * 1024 * 1024
"""CharacterBox files larger than this are refused (the two published ones are 0.6 and 1.1 MB)."""


def is_characterbox(data: Any) -> bool:
    """Whether parsed JSON looks like a CharacterBox scenes file."""
    return isinstance(data, dict) and isinstance(data.get("scenes"), list) and "title" in data


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return " ".join(str(value).split())[:limit] if isinstance(value, str | int | float) else ""


def _sentences(*parts: str) -> str:
    """Parts joined as sentences: each ends in punctuation, so that "...calm figure" and "He is wary" do not run on.

    CharacterBox's positions and states, times and locations are often fragments without a full stop.
    """
    out = [p if p[-1] in ".!?…\"'”’)" else f"{p}." for p in (part.strip() for part in parts) if p]
    return " ".join(out)


def _scene(raw: Any, title: str, index: int, source: Path) -> dict[str, Any]:
    where = f"scenes[{index}]"
    if not isinstance(raw, dict):
        raise SceneSpecError(source, "expected a mapping", field=where)
    people = raw.get("characters")
    if not isinstance(people, list):
        raise SceneSpecError(source, "expected a list of characters", field=f"{where}.characters")
    characters: list[dict[str, Any]] = []
    for j, person in enumerate(people[:8]):
        name = _text(person.get("name"), 100) if isinstance(person, dict) else ""
        if not name:
            raise SceneSpecError(source, "a character needs a name", field=f"{where}.characters[{j}].name")
        description = _text(person.get("description"))
        position = _sentences(_text(person.get("position")), _text(person.get("states")))
        characters.append(
            {
                "persona": {
                    "name": name,
                    "summary": description or None,
                    "statements": extract_statements(description, name, describes=True) if description else [],
                },
                "position": position[:MAX_TEXT] or None,
            }
        )
    setting = _sentences(_text(raw.get("time")), _text(raw.get("location")), _text(raw.get("description")))
    event = _text(raw.get("event"), 200)
    opening = [EventSpec(turn=0, name=event or None, text=f"{event}. {_text(raw.get('description'))}".strip(" ."))]
    plot = _text(raw.get("plot"))
    return {
        "name": f"{title} #{index}: {event}"[:200],
        "setting": setting[:MAX_TEXT],
        "characters": characters,
        "events": [e.model_dump() for e in opening],
        "narrator": NarratorSpec(direction=plot or None).model_dump(),
    }


def _read(path: Path) -> dict[str, Any]:
    """The parsed file, checked to be a CharacterBox scenes file; errors name the file."""
    try:
        data = json.loads(read_limited(path, MAX_CHARACTERBOX_BYTES))
    except PersonaError as exc:
        raise SceneSpecError(None, str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SceneSpecError(path, f"not valid JSON: {exc}") from None
    if not is_characterbox(data):
        raise SceneSpecError(path, "not a CharacterBox scenes file (expected {title, scenes: [...]})")
    return dict(data)


def _runnable(raw: Any) -> bool:
    """Whether a raw scene has the two characters a scene needs (the published files have one-character scenes)."""
    return isinstance(raw, dict) and isinstance(raw.get("characters"), list) and len(raw["characters"]) >= 2


def first_runnable(path: Path | str) -> int:
    """Index of the file's first scene with two or more characters: the scene to run when none is named.

    Scene 0 of the published Harry Potter file has one character, so "the first scene" would be an error there;
    the first runnable one is what running "the file" means. A file without any is an error naming the file.
    """
    path = Path(path)
    scenes = _read(path)["scenes"]
    index = next((i for i, raw in enumerate(scenes) if _runnable(raw)), None)
    if index is None:
        raise SceneSpecError(path, f"none of its {len(scenes)} scenes has the two characters a scene needs")
    return index


def read_characterbox(path: Path | str, index: int | None = None) -> list[SceneSpec]:
    """The scenes of a CharacterBox file (only scene `index` when given); errors name the file and the scene.

    A scene with fewer than two characters cannot be run: it is skipped when reading all, an error when asked for
    (naming the first scene that can run).
    """
    path = Path(path)
    data = _read(path)
    scenes = data["scenes"]
    title = _text(data.get("title"), 100).replace("_", " ") or path.stem
    if index is not None:
        if not 0 <= index < len(scenes):
            raise SceneSpecError(path, f"no scene {index}: the file holds {len(scenes)} (0..{len(scenes) - 1})")
        raw = _scene(scenes[index], title, index, path)
        if len(raw["characters"]) < 2:
            first = next((i for i, s in enumerate(scenes) if _runnable(s)), None)
            hint = f"; the first that has is --scene-index {first}" if first is not None else ""
            raise SceneSpecError(
                path, f"a scene needs at least two characters{hint}", field=f"scenes[{index}].characters"
            )
        return [scene_from_data(raw, path, base_dir=path.resolve().parent)]
    out = []
    for i, scene in enumerate(scenes):
        raw = _scene(scene, title, i, path)
        if len(raw["characters"]) >= 2:
            out.append(scene_from_data(raw, path, base_dir=path.resolve().parent))
    return out
