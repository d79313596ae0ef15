"""The ``dllm`` command: errors become one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import sys

import click

from dllm.cli.bench import bench
from dllm.cli.eval import eval_group
from dllm.cli.generate import generate
from dllm.cli.samplers import samplers
from dllm.errors import DllmError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dllm")
def cli() -> None:
    """Fast, tested decoding for diffusion language models (LLaDA, Dream)."""


cli.add_command(generate)
cli.add_command(bench)
cli.add_command(samplers)
cli.add_command(eval_group)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="dllm", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        hint = f" (see 'dllm {exc.ctx.info_name} --help')" if getattr(exc, "ctx", None) and exc.ctx.parent else ""
        click.echo(f"error: {exc.format_message()}{hint}", err=True)
        sys.exit(exc.exit_code)
    except DllmError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
