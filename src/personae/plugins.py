"""Extending personae from another package: one entry-point group, one hook per kind of extension.

A plugin names an object (usually a module) in the `personae` entry-point group of its package metadata:

    [project.entry-points.personae]
    myplugin = "myplugin.hooks"

and defines any of the hooks below in it. Each hook receives a `register` callback and calls it once per extension:

    def register_backends(register):     # register(name, loader); loader() returns a BackendAPI subclass
        register("myllm", lambda: MyLLM)            # get_backend("myllm/some-model")

    def register_tasks(register):        # register(task_class), like the @register_task decorator
        register(MyTask)                            # an eval spec's `tasks: {my-task: {...}}`

    def register_nli_models(register):   # register(kind, factory); factory(argument) returns an NLIModel
        register("mynli", MyNLI)                    # get_nli("mynli:some-argument"), or `nli: mynli:...` in a spec

    def register_importers(register):    # register(name, importer); importer(data, source, extract) -> Imported | None
        register("myformat", read_myformat)         # read_file("x.myformat"); return None for files not yours

The built-in backends, tasks and NLI models register through the same callbacks. Plugins are loaded on the first
lookup of each kind, never at import time, and stay registered until `reset_plugins()` (tests call it to start
clean). An entry point in the older `personae.backends` group, naming a `register_backends`-style function, still
works.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, NamedTuple, TypeVar

ENTRY_POINT_GROUP = "personae"
"""The entry-point group plugins are listed under."""

HOOKS = ("register_backends", "register_tasks", "register_nli_models", "register_importers")
"""The hooks a plugin may define, one per registry."""

T = TypeVar("T")


class PluginError(RuntimeError):
    """A plugin could not be loaded, or its hook failed; the message names the entry point and its package."""


class Plugin(NamedTuple):
    """A loaded entry point: its name, where it points, and the object there."""

    name: str
    """The entry point's name."""
    value: str
    """Where it points, `module` or `module:attribute`."""
    hooks: Any
    """The loaded object; hooks are looked up on it by name."""


_plugins: list[Plugin] | None = None
_plugins_lock = threading.RLock()  # loading a plugin may look something up
_registries: list[Registry[Any]] = []


def _load(group: str) -> Iterator[tuple[str, str, Any]]:
    for ep in entry_points(group=group):
        try:
            yield ep.name, ep.value, ep.load()
        except Exception as exc:
            where = f"{ep.dist.name} " if ep.dist is not None else ""
            raise PluginError(
                f"plugin '{ep.name}' ({ep.value}) in entry-point group '{group}' failed to load: "
                f"{type(exc).__name__}: {exc}; fix or uninstall the package {where}that provides it"
            ) from exc


def plugins() -> list[Plugin]:
    """The plugins listed in the `personae` entry-point group, loaded once until `reset_plugins()`."""
    global _plugins
    with _plugins_lock:
        if _plugins is None:
            _plugins = [Plugin(*found) for found in _load(ENTRY_POINT_GROUP)]
        return list(_plugins)


def _call(hook: Callable[..., Any], callback: Callable[..., Any], plugin: str) -> None:
    try:
        hook(callback)
    except PluginError:
        raise
    except Exception as exc:
        name = getattr(hook, "__name__", repr(hook))
        raise PluginError(f"plugin '{plugin}': {name} failed: {type(exc).__name__}: {exc}") from exc


class Registry(Generic[T]):
    """Named extensions of one kind: built-ins, plugins' hooks and direct registrations, loaded on first lookup.

    A direct registration (`register_backend(...)` in user code) wins over a plugin's, and a plugin's over a
    built-in of the same name.

    Example:
        _TASKS = Registry[type[Task]]("task", "register_tasks", builtins=_register_builtin, callback=register_task)
        _TASKS.get("faithfulness")
    """

    def __init__(
        self,
        kind: str,
        hook: str,
        *,
        builtins: Callable[[Callable[..., Any]], None],
        callback: Callable[..., Any],
        legacy_group: str | None = None,
    ) -> None:
        """Create an empty registry.

        Args:
            kind: What it holds, for messages ("backend", "task").
            hook: The plugin hook that fills it, one of `HOOKS`.
            builtins: Registers the built-ins by calling the callback it is given, as a plugin hook does.
            callback: The `register` callback handed to hooks; it ends in `add`.
            legacy_group: An older entry-point group whose entries are hook functions themselves.
        """
        if hook not in HOOKS:
            raise ValueError(f"unknown plugin hook {hook!r}; add it to personae.plugins.HOOKS and its docstring")
        self.kind = kind
        self.hook = hook
        self._builtins = builtins
        self._callback = callback
        self._legacy_group = legacy_group
        self._found: dict[str, T] = {}
        self._added: dict[str, T] = {}
        self._loaded = False
        self._loading = False
        self._lock = threading.RLock()
        _registries.append(self)

    def add(self, name: str, item: T) -> None:
        """Register `item` under `name` (the end of every `register` callback)."""
        with self._lock:
            (self._found if self._loading else self._added)[name] = item

    def _ensure_loaded(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loading = True
            try:
                self._builtins(self._callback)
                for plugin in plugins():
                    hook = getattr(plugin.hooks, self.hook, None)
                    if hook is not None:
                        _call(hook, self._callback, plugin.name)
                if self._legacy_group is not None:
                    for name, _value, hook in _load(self._legacy_group):
                        _call(hook, self._callback, name)
                self._loaded = True
            except BaseException:
                self._found.clear()
                raise
            finally:
                self._loading = False

    def get(self, name: str) -> T | None:
        """The extension registered under `name`, or None."""
        self._ensure_loaded()
        with self._lock:
            return self._added.get(name, self._found.get(name))

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._ensure_loaded()
        with self._lock:
            return sorted({*self._found, *self._added})

    def items(self) -> list[tuple[str, T]]:
        """(name, extension) in registration order: built-ins, then plugins, then direct registrations."""
        self._ensure_loaded()
        with self._lock:
            merged = {**self._found, **self._added}
            return list(merged.items())

    def reset(self) -> None:
        """Forget every registration and the loaded entry points; the next lookup registers them all again."""
        _forget_entry_points()
        with self._lock:
            self._found.clear()
            self._added.clear()
            self._loaded = False


def _forget_entry_points() -> None:
    global _plugins
    with _plugins_lock:
        _plugins = None


def reset_plugins() -> None:
    """Forget every registration of every kind and the loaded entry points; the next lookups load them again.

    For tests: call it before and after a test that registers something or fakes `entry_points`.
    """
    _forget_entry_points()
    for registry in list(_registries):
        registry.reset()


__all__ = ["ENTRY_POINT_GROUP", "HOOKS", "Plugin", "PluginError", "Registry", "plugins", "reset_plugins"]
