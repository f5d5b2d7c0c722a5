"""Reading a scene from either kind of file: a scene YAML, or one scene of a CharacterBox scenes file."""

from __future__ import annotations

from pathlib import Path

from personae.scene._characterbox import first_runnable, read_characterbox
from personae.scene._spec import SceneSpec, SceneSpecError, load_scene_yaml


def looks_like_characterbox(path: Path | str) -> bool:
    """A `.json` file whose opening holds CharacterBox's top-level keys (read no further than 4 KiB)."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b'"scenes"' in head and b'"title"' in head


def load_scene(path: Path | str, index: int | None = None) -> SceneSpec:
    """A scene from a scene YAML file, or scene `index` of a CharacterBox scenes file.

    Without `index`, a CharacterBox file gives its first scene with two or more characters (`first_runnable`).
    """
    path = Path(path)
    if looks_like_characterbox(path):
        return read_characterbox(path, first_runnable(path) if index is None else index)[0]
    if index not in (None, 0):
        raise SceneSpecError(path, "--scene-index applies to CharacterBox scenes files; a scene file holds one scene")
    return load_scene_yaml(path)


def load_scenes(path: Path | str, index: int | None = None) -> list[SceneSpec]:
    """Every scene of a file (a scene YAML holds one; a CharacterBox file all its runnable ones, or scene `index`)."""
    path = Path(path)
    if looks_like_characterbox(path):
        return read_characterbox(path, index)
    return [load_scene(path, index)]
