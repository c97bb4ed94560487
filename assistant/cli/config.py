"""`litreview config`: the effective settings and where they come from."""

from typing import Any

import typer

from assistant.cli.common import JsonOption, console, load_settings, print_json
from assistant.settings import config_files

app = typer.Typer(help="Show the effective settings.", no_args_is_help=True)


@app.command("show")
def show_command(as_json: JsonOption = False) -> None:
    """Every setting after files, env vars and defaults are combined; secrets are masked."""
    values = load_settings().model_dump(mode="json")  # SecretStr dumps as '**********'
    if as_json:
        print_json(values)
        return
    for path in config_files():
        state = "read" if path.is_file() else "absent"
        console.print(f"# {path} ({state})")
    for name, value in flattened(values):
        console.print(f"{name} = {value}")


def flattened(values: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """`section.field` names with their values as TOML would spell them."""
    rows: list[tuple[str, str]] = []
    for name, value in values.items():
        if isinstance(value, dict) and value:
            rows += flattened(value, f"{prefix}{name}.")
        else:
            rows.append((f"{prefix}{name}", _toml_value(value)))
    return rows


def _toml_value(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)
