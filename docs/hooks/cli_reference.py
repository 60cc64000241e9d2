"""MkDocs hook: the command-line reference rendered from the typer app, so the page cannot drift from --help.

``cli.md`` holds the marker ``<!-- cli-reference -->``; at build time it is replaced by the ``--help`` text of
``flarecast`` and of every command and sub-command, exactly as the terminal shows it (typer's CliRunner, no
colour, 100 columns).
"""

from __future__ import annotations

MARKER = "<!-- cli-reference -->"


def on_page_markdown(markdown: str, page, **_) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())


def cli_reference() -> str:
    """Markdown: one section per command path, its ``--help`` text in a code block."""
    import typer.main
    from typer.testing import CliRunner

    from flarecast.cli import app

    root = typer.main.get_command(app)
    runner = CliRunner()
    sections = []
    for path in _command_paths(root):
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"},
                               prog_name="flarecast")
        if result.exit_code != 0:
            raise RuntimeError(f"flarecast {' '.join(path)} --help exited {result.exit_code}: {result.output}")
        title = " ".join(["flarecast", *path])
        text = "\n".join(line.rstrip() for line in result.output.strip("\n").splitlines())
        sections.append(f"### `{title}`\n\n```text\n{text}\n```\n")
    return "\n".join(sections)


def _command_paths(command, prefix=()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():  # registration order: the pipeline's
        yield from _command_paths(sub, (*prefix, name))
