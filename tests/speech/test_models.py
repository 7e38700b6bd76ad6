"""Model folders: layout checks, finding a language's model, installing from an archive."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.speech import models
from hotline.speech.config import SpeechConfig
from hotline.speech.errors import ModelInstallFailed, ModelMissing
from hotline.speech.models import (
    KnownModel,
    find_model,
    inspect_model,
    install_archive_model,
    install_model,
    layout_of,
    list_models,
    sample_rate_of,
)

TEST_MODEL = KnownModel("xx", "vosk-model-test", min_bytes=0, max_bytes=1 << 20)
MFCC_8K = "--use-energy=false\n--sample-frequency=8000\n"


def fake_model(folder: Path, *, grammar: bool = False, mfcc: str = MFCC_8K) -> Path:
    """The files a Vosk model folder has (empty, but laid out like the real thing)."""
    graph = ["graph/HCLr.fst", "graph/Gr.fst"] if grammar else ["graph/HCLG.fst"]
    for rel in ["am/final.mdl", "conf/model.conf", *graph]:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(b"x")
    (folder / "conf" / "mfcc.conf").write_text(mfcc)
    return folder


def fake_archive(path: Path, top: str = TEST_MODEL.name, extra: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for rel in ["am/final.mdl", "conf/model.conf", "graph/HCLG.fst"]:
            zf.writestr(f"{top}/{rel}", b"x")
        zf.writestr(f"{top}/conf/mfcc.conf", MFCC_8K)
        if extra is not None:
            zf.writestr(extra, b"x")
    return path


@pytest.mark.unit
class TestLayout:
    def test_current_layout_with_static_graph(self) -> None:
        files = ["am/final.mdl", "conf/mfcc.conf", "graph/HCLG.fst"]
        layout = layout_of(files, MFCC_8K)
        assert layout.problem is None
        assert layout.sample_rate == 8000
        assert layout.grammar is False

    def test_lookahead_graph_allows_grammars(self) -> None:
        files = ["am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst"]
        assert layout_of(files, "").grammar is True

    def test_old_flat_layout(self) -> None:
        assert layout_of(["final.mdl", "mfcc.conf", "HCLG.fst"], "").problem is None

    @pytest.mark.parametrize(
        ("files", "problem"),
        [
            ([], "no am/final.mdl"),
            (["am/final.mdl", "graph/HCLG.fst"], "no conf/mfcc.conf"),
            (["am/final.mdl", "conf/mfcc.conf"], "no graph/HCLG.fst"),
            (["am/final.mdl", "conf/mfcc.conf", "graph/HCLr.fst"], "no graph/HCLG.fst"),
        ],
    )
    def test_what_is_missing_is_named(self, files: list[str], problem: str) -> None:
        layout = layout_of(files, "")
        assert layout.problem is not None and layout.problem.startswith(problem)

    def test_sample_rate_defaults_to_16k(self) -> None:
        assert sample_rate_of("--use-energy=false\n") == 16000
        assert sample_rate_of("--sample-frequency=8000\n") == 8000
        assert sample_rate_of("--sample-frequency=bad\n") == 16000


@pytest.mark.integration
class TestFindModel:
    def test_a_configured_folder_wins(self, tmp_path: Path) -> None:
        folder = fake_model(tmp_path / "m")
        config = SpeechConfig(models_dir=tmp_path / "models", models={"ko": folder})
        assert find_model("ko", config) == folder

    def test_a_configured_folder_without_a_model_names_the_setting(self, tmp_path: Path) -> None:
        config = SpeechConfig(models_dir=tmp_path, models={"zh": tmp_path / "nowhere"})
        with pytest.raises(ModelMissing) as caught:
            find_model("zh", config)
        line = str(caught.value)
        assert line.startswith("HOTLINE_VOSK_MODELS maps 'zh' to ")
        assert "(no such folder)" in line and "\n" not in line

    def test_a_missing_known_model_says_how_to_install_or_configure(self, tmp_path: Path) -> None:
        with pytest.raises(ModelMissing) as caught:
            find_model("zh", SpeechConfig(models_dir=tmp_path))
        assert str(caught.value) == (
            "no Vosk model for language 'zh': run `hotline models install zh` or set "
            'HOTLINE_VOSK_MODELS=\'{"zh": "/path/to/the/model"}\''
        )

    def test_any_language_can_be_configured(self, tmp_path: Path) -> None:
        with pytest.raises(ModelMissing, match=r"^no Vosk model for language 'fr': set HOTLINE_"):
            find_model("fr", SpeechConfig(models_dir=tmp_path))
        folder = fake_model(tmp_path / "fr")
        config = SpeechConfig(models_dir=tmp_path, models={"fr": folder})
        assert find_model("fr", config) == folder

    def test_an_installed_official_model_is_found_without_settings(self, tmp_path: Path) -> None:
        fake_model(tmp_path / "vosk-model-small-cn-0.22")
        config = SpeechConfig(models_dir=tmp_path)
        assert find_model("zh", config) == tmp_path / "vosk-model-small-cn-0.22"

    def test_list_shows_configured_and_known_languages(self, tmp_path: Path) -> None:
        config = SpeechConfig(
            models_dir=tmp_path,
            models={"fr": fake_model(tmp_path / "fr", grammar=True), "de": tmp_path / "none"},
        )
        entries = {e.language: e for e in list_models(config)}
        assert {"fr", "de", "zh", "en", "ko"} <= set(entries)
        fr = entries["fr"].layout
        assert fr is not None and fr.problem is None and fr.grammar and fr.sample_rate == 8000
        de = entries["de"].layout
        assert de is not None and de.problem == "no such folder"
        assert entries["zh"].path is None and "hotline models install zh" in entries["zh"].source


@pytest.mark.integration
class TestInstall:
    def test_an_archive_is_verified_and_unpacked(self, tmp_path: Path) -> None:
        archive = fake_archive(tmp_path / "m.zip")
        target = install_archive_model(TEST_MODEL, tmp_path / "models", archive=archive)
        assert target == tmp_path / "models" / TEST_MODEL.name
        assert inspect_model(target).problem is None
        # Installing again finds it; no temporary folders are left behind.
        assert install_archive_model(TEST_MODEL, tmp_path / "models") == target
        assert [p.name for p in (tmp_path / "models").iterdir()] == [TEST_MODEL.name]

    @pytest.mark.parametrize(
        ("top", "extra", "message"),
        [
            ("vosk-model-other", None, "is not vosk-model-test.zip: it holds 'vosk-model-other/"),
            (TEST_MODEL.name, "../evil", "is not vosk-model-test.zip: it holds '../evil'"),
            (TEST_MODEL.name, "vosk-model-test/../../evil", "outside the folder"),
        ],
    )
    def test_an_archive_with_the_wrong_contents_is_refused(
        self, tmp_path: Path, top: str, extra: str | None, message: str
    ) -> None:
        archive = fake_archive(tmp_path / "m.zip", top, extra)
        with pytest.raises(ModelInstallFailed, match=message.replace(".", r"\.")):
            install_archive_model(TEST_MODEL, tmp_path / "models", archive=archive)
        assert not (tmp_path / "evil").exists()
        assert not (tmp_path / "models" / TEST_MODEL.name).exists()

    def test_a_damaged_archive_is_refused(self, tmp_path: Path) -> None:
        archive = fake_archive(tmp_path / "m.zip")
        with zipfile.ZipFile(archive) as zf:
            member = zf.getinfo(f"{TEST_MODEL.name}/conf/mfcc.conf")
        data = bytearray(archive.read_bytes())
        start = member.header_offset + 30 + len(member.filename.encode())
        data[start : start + 4] = b"XXXX"  # the member's bytes no longer match its CRC
        archive.write_bytes(bytes(data))
        with pytest.raises(ModelInstallFailed, match=r"is damaged .*mfcc\.conf.*download it again"):
            install_archive_model(TEST_MODEL, tmp_path / "models", archive=archive)

    def test_a_file_that_is_no_zip_is_refused(self, tmp_path: Path) -> None:
        archive = tmp_path / "m.zip"
        archive.write_bytes(b"<html>not found</html>")
        with pytest.raises(ModelInstallFailed, match="is not a zip archive; download it again"):
            install_archive_model(TEST_MODEL, tmp_path / "models", archive=archive)

    def test_an_archive_of_the_wrong_size_is_refused(self, tmp_path: Path) -> None:
        archive = fake_archive(tmp_path / "m.zip")
        official = KnownModel("zh", "vosk-model-test")  # official sizes: 20-200 MB
        with pytest.raises(ModelInstallFailed, match=r"MB; vosk-model-test\.zip is 20-200 MB"):
            install_archive_model(official, tmp_path / "models", archive=archive)

    def test_an_unreachable_model_site_is_one_line_saying_what_to_do(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused_port: int
    ) -> None:
        monkeypatch.setattr(models, "MODEL_SITE", f"http://127.0.0.1:{refused_port}/")
        with pytest.raises(ModelInstallFailed) as caught:
            install_model("zh", SpeechConfig(models_dir=tmp_path / "models"))
        line = str(caught.value)
        assert "\n" not in line
        assert line.startswith("can't download http://127.0.0.1:")
        assert "hotline models install zh --archive vosk-model-small-cn-0.22.zip" in line
        assert 'HOTLINE_VOSK_MODELS=\'{"zh": "/path/to/vosk-model-small-cn-0.22"}\'' in line
        assert list((tmp_path / "models").iterdir()) == []

    def test_a_download_is_verified_and_unpacked(self, tmp_path: Path) -> None:
        site = tmp_path / "site"
        site.mkdir()
        fake_archive(site / f"{TEST_MODEL.name}.zip")
        with serve(site) as url:
            target = install_archive_model(TEST_MODEL, tmp_path / "models", site=url)
        assert inspect_model(target).problem is None

    def test_unknown_languages_have_nothing_to_install(self, tmp_path: Path) -> None:
        with pytest.raises(ModelInstallFailed, match="no known model for language 'fr'"):
            install_model("fr", SpeechConfig(models_dir=tmp_path))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """A local HTTP server for a folder, on a free port, for the duration of a `with`."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
