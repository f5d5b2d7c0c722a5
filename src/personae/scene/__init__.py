"""Multi-character scenes: several personas, a narrator and optionally the user in one conversation.

Each character is kept in character by its own guard; group checks measure role confusion, dominance, convergence.

spec = load_scene("examples/scenes/harbour.yaml").with_backend("mock/scene")
results = asyncio.run(run_scene(spec, "out/harbour"))      # transcript.jsonl, results.json, report.html
results.scene.role_confusion_rate, results.characters["Ada"].apc_normalized
"""

from personae.scene._characterbox import is_characterbox, read_characterbox
from personae.scene._confusion import (
    CONFUSION_KINDS,
    ConfusionDetector,
    ConfusionKind,
    ConfusionSignal,
    RoleConfusion,
    aliases,
    rule_signals,
)
from personae.scene._load import load_scene, load_scenes
from personae.scene._log import (
    REPORT_FILE,
    RESULTS_FILE,
    SCENE_FILE,
    TRANSCRIPT_FILE,
    CharacterFigures,
    Convergence,
    SceneFigures,
    SceneRecord,
    SceneResults,
    read_transcript,
)
from personae.scene._metrics import convergence, dominance, style_profile
from personae.scene._mock import scene_mock_options, scene_reply
from personae.scene._policy import SpeakerChoice, addressed, direct, natural, round_robin
from personae.scene._report import load_scene_results, render_scene_report, write_report
from personae.scene._runner import (
    AskUser,
    AwaitUser,
    OnRecord,
    SceneRun,
    chat_scene,
    measure_chat,
    memory_view,
    run_scene,
    scoring_models,
)
from personae.scene._sillytavern import ChatMessage, read_chat_export
from personae.scene._spec import (
    TURN_POLICIES,
    CharacterSpec,
    EventSpec,
    NarratorSpec,
    SceneError,
    SceneSpec,
    SceneSpecError,
    StopSpec,
    TurnPolicy,
    UserSpec,
    load_scene_yaml,
    persona_of,
    scene_from_data,
)
from personae.scene._study import (
    SCENES_DIR,
    STUDY_FILE,
    SUMMARY_FILE,
    SceneStudy,
    Spread,
    StudyEntry,
    StudyExecutor,
    StudySummary,
    plan_study,
    read_study,
    summarize,
)

__all__ = [
    "CONFUSION_KINDS",
    "REPORT_FILE",
    "RESULTS_FILE",
    "SCENES_DIR",
    "SCENE_FILE",
    "STUDY_FILE",
    "SUMMARY_FILE",
    "TRANSCRIPT_FILE",
    "TURN_POLICIES",
    "AskUser",
    "AwaitUser",
    "CharacterFigures",
    "CharacterSpec",
    "ChatMessage",
    "ConfusionDetector",
    "ConfusionKind",
    "ConfusionSignal",
    "Convergence",
    "EventSpec",
    "NarratorSpec",
    "OnRecord",
    "RoleConfusion",
    "SceneError",
    "SceneFigures",
    "SceneRecord",
    "SceneResults",
    "SceneRun",
    "SceneSpec",
    "SceneSpecError",
    "SceneStudy",
    "SpeakerChoice",
    "Spread",
    "StopSpec",
    "StudyEntry",
    "StudyExecutor",
    "StudySummary",
    "TurnPolicy",
    "UserSpec",
    "addressed",
    "aliases",
    "chat_scene",
    "convergence",
    "direct",
    "dominance",
    "is_characterbox",
    "load_scene",
    "load_scene_results",
    "load_scene_yaml",
    "load_scenes",
    "measure_chat",
    "memory_view",
    "natural",
    "persona_of",
    "plan_study",
    "read_characterbox",
    "read_chat_export",
    "read_study",
    "read_transcript",
    "render_scene_report",
    "round_robin",
    "rule_signals",
    "run_scene",
    "scene_from_data",
    "scene_mock_options",
    "scene_reply",
    "scoring_models",
    "style_profile",
    "summarize",
    "write_report",
]
