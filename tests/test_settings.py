"""Settings sources and their precedence; `litreview config show` masks secrets."""

import re
from pathlib import Path

import pytest

from assistant.cli.common import load_settings
from assistant.errors import ConfigError
from assistant.settings import read_settings

SECRET = "sk-test-fedcba9876543210"


def write_config(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "litreview.toml").write_text(text, encoding="utf-8")


@pytest.fixture
def user_config(isolated_settings: Path) -> Path:
    return isolated_settings / "config" / "litreview"


def test_defaults_point_nowhere_and_use_the_bundled_embedder() -> None:
    settings = read_settings()
    assert settings.llm.base_url is None and settings.llm.api_key is None
    assert settings.embeddings.backend == "minilm"


def test_each_source_beats_the_ones_below_it(
    user_config: Path, isolated_settings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        user_config,
        '[llm]\nbase_url = "http://user/v1"\nmodel = "user-model"\ntimeout = 5\n',
    )
    settings = read_settings()
    assert (settings.llm.base_url, settings.llm.model, settings.llm.timeout) == (
        "http://user/v1",
        "user-model",
        5,
    )

    write_config(
        isolated_settings,
        '[llm]\nbase_url = "http://project/v1"\nmodel = "project-model"\n',
    )
    settings = read_settings()
    assert (settings.llm.base_url, settings.llm.model, settings.llm.timeout) == (
        "http://project/v1",
        "project-model",
        5,
    )

    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai-env/v1")
    settings = read_settings()
    assert (settings.llm.base_url, settings.llm.model) == (
        "http://openai-env/v1",
        "project-model",
    )

    monkeypatch.setenv("LITREVIEW_LLM__BASE_URL", "http://litreview-env/v1")
    assert read_settings().llm.base_url == "http://litreview-env/v1"

    flagged = load_settings(llm="http://flag/v1", model="flag-model")
    assert (flagged.llm.base_url, flagged.llm.model, flagged.llm.timeout) == (
        "http://flag/v1",
        "flag-model",
        5,
    )


def test_openai_api_key_is_read_and_kept_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    settings = read_settings()
    assert settings.llm.api_key is not None and settings.llm.api_key.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in settings.model_dump_json()


def test_embeddings_and_judge_share_the_llm_endpoint_unless_given_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://shared/v1")
    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BACKEND", "openai")
    monkeypatch.setenv("LITREVIEW_LLM__MODEL", "drafter")
    monkeypatch.setenv("LITREVIEW_JUDGE__MODEL", "judge")
    settings = read_settings()
    assert settings.embedding_settings().base_url == "http://shared/v1"
    assert (settings.judge_llm().base_url, settings.judge_llm().model) == (
        "http://shared/v1",
        "judge",
    )

    monkeypatch.setenv("LITREVIEW_EMBEDDINGS__BASE_URL", "http://embedder/v1")
    monkeypatch.setenv("LITREVIEW_JUDGE__BASE_URL", "http://judge/v1")
    settings = read_settings()
    assert settings.embedding_settings().base_url == "http://embedder/v1"
    assert settings.judge_llm().base_url == "http://judge/v1"
    assert settings.llm.base_url == "http://shared/v1"


def test_prices_come_from_the_config_file(isolated_settings: Path) -> None:
    write_config(
        isolated_settings,
        '[llm.prices."gpt-4o-mini"]\nprompt = 0.15\ncompletion = 0.6\n',
    )
    price = read_settings().llm.prices["gpt-4o-mini"]
    assert (price.prompt, price.completion) == (0.15, 0.6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[llm]\nbse_url = "http://typo/v1"\n', "llm.bse_url: unknown setting; did you mean llm.base_url?"),
        ('[lm]\nmodel = "m"\n', "lm: unknown section; did you mean llm?"),
        ('[llm.prices.m]\nprompt = 1\ncompletion = 2\npromt = 3\n', "llm.prices.m.promt: unknown setting; did you mean llm.prices.m.prompt?"),
        ("timeout = 5\n", "timeout: unknown section; sections are store, embeddings,"),
    ],
)  # fmt: skip
def test_a_misspelt_setting_is_an_error_naming_the_nearest_valid_one(
    isolated_settings: Path, text: str, message: str
) -> None:
    write_config(isolated_settings, text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_settings()


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        ("LITREVIEW_LM__MODEL", "LITREVIEW_LM__MODEL: unknown section lm; did you mean LITREVIEW_LLM__MODEL?"),
        ("LITREVIEW_LLM__MODL", "LITREVIEW_LLM__MODL: unknown setting llm.modl; did you mean LITREVIEW_LLM__MODEL?"),
        ("LITREVIEW_TIMEOUT", "LITREVIEW_TIMEOUT: unknown section timeout; variables are named LITREVIEW_<SECTION>__<FIELD>"),
    ],
)  # fmt: skip
def test_a_misspelt_environment_variable_is_an_error_naming_the_nearest_valid_one(
    monkeypatch: pytest.MonkeyPatch, variable: str, message: str
) -> None:
    monkeypatch.setenv(variable, "x")
    with pytest.raises(ConfigError, match=re.escape(message)):
        read_settings()


def test_the_cli_shows_a_misspelt_section_as_one_error_line(cli, isolated_settings: Path) -> None:
    write_config(isolated_settings, '[lm]\nmodel = "m"\n')
    result = cli("config", "show")
    assert result.code == 1
    assert result.err.startswith("Error: ") and result.err.count("\n") == 1
    assert "did you mean llm?" in result.err and "Traceback" not in result.err


def test_an_invalid_value_from_the_environment_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LITREVIEW_LLM__TIMEOUT", "soon")
    with pytest.raises(ConfigError, match=r"llm.timeout: .*LITREVIEW_<SECTION>__<FIELD>"):
        read_settings()


def test_a_broken_config_file_is_an_error_naming_the_file(
    isolated_settings: Path,
) -> None:
    write_config(isolated_settings, "[llm\n")
    with pytest.raises(ConfigError, match=r"litreview.toml is not valid TOML"):
        read_settings()


def test_llm_flag_takes_local_or_a_url() -> None:
    assert load_settings(llm="local").llm.base_url is None  # the command starts the server
    with pytest.raises(ConfigError, match="'local' or a base URL"):
        load_settings(llm="ollama")


def test_config_show_masks_the_key_and_names_the_files(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    shown = cli("config", "show")
    assert shown.code == 0
    assert SECRET not in shown.out
    assert 'llm.base_url = "http://127.0.0.1:1/v1"' in shown.out
    assert 'llm.api_key = "**********"' in shown.out
    assert "litreview.toml (absent)" in shown.out

    as_json = cli("config", "show", "--json")
    assert SECRET not in as_json.out
    values = as_json.json()
    assert values["llm"]["api_key"] == "**********"  # type: ignore[index]
    assert values["llm"]["base_url"] == "http://127.0.0.1:1/v1"  # type: ignore[index]
