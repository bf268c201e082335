"""`bootstrap shards N`: the shard list of an N-way run, for a CI matrix."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("count", type=click.IntRange(1, 256))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["github-matrix", "lines"]),
    default="github-matrix",
    show_default=True,
    help="github-matrix: JSON for `strategy.matrix: ${{ fromJSON(...) }}`; lines: one K/N a line.",
)
def shards(count: int, fmt: str) -> None:
    """Print the COUNT shards (1/N .. N/N) of a run, e.g. as a GitHub Actions matrix whose jobs
    each pass `--shard ${{ matrix.shard }}`; merge their reports with `bootstrap report merge`."""
    from bootstrap.jobs.shard import matrix

    entries = matrix(count)
    if fmt == "lines":
        click.echo("\n".join(entry["shard"] for entry in entries["include"]))
    else:
        click.echo(json.dumps(entries, separators=(",", ":")))
