"""`litreview model`: check the configured endpoint, or serve the bundled local model."""

import typer

from assistant.cli.common import (
    JsonOption,
    LlmOption,
    ModelOption,
    console,
    load_settings,
    print_json,
    stderr,
)

app = typer.Typer(help="Check the chat model, or serve the bundled one.", no_args_is_help=True)


@app.command("ping")
def ping_command(
    llm: LlmOption = None, model: ModelOption = None, as_json: JsonOption = False
) -> None:
    """Is the endpoint reachable, is the model served, does one tiny completion work?"""
    from assistant.llm import chat_session, ping  # the openai SDK: imported only when used

    settings = load_settings(llm=llm, model=model)
    with chat_session(settings, local=llm == "local") as chat:
        report = ping(chat)
    if as_json:
        print_json({**report.as_json(), "usage": chat.usage.as_json()})
        return
    listed = (
        "does not list models" if report.models is None else f"lists {len(report.models)} model(s)"
    )
    console.print(
        f"endpoint  {report.base_url}  reachable, {listed} ({report.list_seconds * 1000:.0f} ms)"
    )
    console.print(f"model     {report.model}  served")
    console.print(f"reply     {report.reply!r} in {report.reply_seconds:.2f} s")
    stderr.print(chat.usage.summary())


@app.command("serve")
def serve_command(
    port: int = typer.Option(8088, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback keeps it private)."),
) -> None:
    """Serve the bundled SmolLM2-135M-Instruct as an OpenAI-compatible API until Ctrl-C."""
    from assistant.llm.local import MODEL_ALIAS, child_process, exit_on_signals, server_command

    settings = load_settings()
    command = server_command(port, settings.local_model, host=host)
    stderr.print(
        f"Serving {MODEL_ALIAS} at http://{host}:{port}/v1 (Ctrl-C stops it). Use it with:\n"
        f"  export OPENAI_BASE_URL=http://{host}:{port}/v1",
    )
    # Stopped on Ctrl-C, SIGTERM and SIGHUP alike; killed by the kernel if we are killed.
    with exit_on_signals(), child_process(command, output=None) as server:
        try:
            status = server.wait()
        except KeyboardInterrupt:
            return
    raise typer.Exit(status)
