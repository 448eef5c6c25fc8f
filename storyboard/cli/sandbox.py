"""`sandbox`: the job API served on loopback, charging nothing."""

from __future__ import annotations

import click

from storyboard.cli.errors import reports_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, help="0 picks a free port.")
@click.option("--key", default=None, help="Accept only this bearer key (default: any).")
@click.option("--latency", default="3", show_default=True, metavar="SPEC",
              help="Job latency: seconds, a range A-B, or lognormal:MEDIAN,SIGMA.")
@click.option("--fault", multiple=True, metavar="NAME[=RATE]",
              help="Inject faults, e.g. http503=0.2, drop-after=0.05, fail (repeatable).")
@click.option("--seed", default=0, show_default=True, help="Seed for faults and latencies.")
@reports_errors
def sandbox(host: str, port: int, key: str | None, latency: str, fault: tuple[str, ...],
            seed: int) -> None:
    """Serve the sandbox job API on loopback (speaks ShortAPI's contract; charges nothing)."""
    from storyboard.api.sandbox import Faults, SandboxConfig, parse_latency, serve

    config = SandboxConfig(host=host, port=port, api_key=key, seed=seed,
                           latency=parse_latency(latency, seed=seed),
                           faults=Faults.parse(fault))

    def ready(url: str) -> None:
        click.echo(f"sandbox listening on {url} (faults: {config.faults.describe()})")
        click.echo(f"  export SHORTAPI_BASE_URL={url} SHORTAPI_KEY={key or 'anything'}")
        click.echo(f"  ledger: {url}/_sandbox/ledger — Ctrl-C to stop", nl=True)

    serve(config, ready=ready)
