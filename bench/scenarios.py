"""The six scenarios of issue 7. Each returns a result dict: settings, figures, bounds, checks.

Every scenario starts its own emulator process with a generated world, runs the CLI as its own
process, and then checks the emulator's journal (and state) for the work: a scenario whose work
was not done raises WorkNotDone instead of reporting a time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import harness as h
from bench.bare_smoke import bare_streams
from bench.floor import floor_seconds
from bootstrap.manifest.schema import SmokeTest

C = 16
L_MS = 50.0
SCALE = 10.0  # time scale of scenarios 2-4: virtual seconds per real second
FRESH_TIMING = {
    "operation_polls": 2,
    "operation_seconds": 0,
    "service_propagation_s": 5,
    "billing_propagation_s": 0,
    "ttft_ms": 40,
    "token_interval_ms": 5,
}
# Two polls on the tool's mandated schedule (2 s, then x1.5): the real time of an operation
# that the world completes "after 2 polls".
POLICY_POLL_WAITS_S = 2.0 + 3.0
# Scenario 3 compares two clients with different polling schedules, so its operations finish by
# time, as Google's do (20 virtual s = 2 s real at x10), not after a count of polls, which would
# measure each client's poll schedule instead of the work.
BY_HAND_TIMING = {**FRESH_TIMING, "operation_polls": 0, "operation_seconds": 20}
RESULT = dict[str, Any]
APPLY = ("apply", "--yes", "--no-smoke")


def check(result: RESULT, name: str, value: float, limit: float, *, at_most: bool = True) -> None:
    """Record `value` against `limit` (a target), with the ratio and whether it is met."""
    ok = value <= limit if at_most else value >= limit
    result["targets"].append(
        {
            "name": name,
            "value": round(value, 4),
            "target": f"{'<=' if at_most else '>='} {round(limit, 4)}",
            "met": ok,
        }
    )


def new_result(name: str, **settings: Any) -> RESULT:
    return {"scenario": name, "settings": settings, "figures": {}, "targets": []}


def _tool_run(run: h.CliRun, what: str, *, codes: Sequence[int] = (0,)) -> None:
    if run.exit_code not in codes:
        raise h.WorkNotDone(f"{what}: exit {run.exit_code}\n{run.stderr}")


# ---------------------------------------------------------------- 1. audit


def audit_converged(tmp: Path, *, projects: int = 1000) -> RESULT:
    ids = h.project_ids("conv", projects)
    manifest = h.write_yaml(tmp, "audit.yaml", h.manifest(ids))
    # 3 control-plane reads, the quota list (Cloud Quotas), 2 effective org policies (one per
    # constraint: vertexai.allowedModels, gcp.restrictServiceUsage) and 1 probe each; account +
    # model once
    r_min = 7 * projects + 2
    chain_s = 3 * L_MS / 1000  # publisher model, then the probe; the account read
    bound = max(r_min * L_MS / 1000 / C, chain_s)
    result = new_result(
        "1. audit, converged",
        projects=projects,
        latency_ms=L_MS,
        concurrency=C,
        rate_limit="off",
        emulator_quotas="off",
        smoke="off",
        r_min=r_min,
    )
    with h.emulator(h.world(converged=ids), latency_ms=L_MS) as emu:
        floor_s, sent, bad = floor_seconds(emu.base, ids, C)
        if bad:
            raise h.WorkNotDone(f"floor client: {bad} of {sent} answers were not 200")
        emu.clear_journal()
        # The per-project path (issue 19: `auto` would read 1,000 projects under one folder
        # from the inventory; scenario 7 measures that path).
        run = h.run_cli(
            ["audit", str(manifest), "--no-smoke", "--no-rate-limit", "--concurrency", str(C),
             "--inventory", "direct"],
            env=emu.env(),
        )  # fmt: skip
        _tool_run(run, "audit")
        h.assert_read(emu.journal(), ids, "audit")
    requests = int(run.report["summary"]["requests"])
    figures = result["figures"]
    figures.update(
        wall_s=round(run.wall_s, 3),
        latency_bound_s=round(bound, 3),
        floor_s=round(floor_s, 3),
        floor_requests=sent,
        requests=requests,
        requests_per_project=round(requests / projects, 3),
        r_min_per_project=round(r_min / projects, 3),
        peak_rss_mb=round(run.maxrss_mb, 1),
        ok_projects=run.report["summary"]["ok"],
    )
    check(result, "wall / latency bound", run.wall_s / bound, 1.5)
    check(result, "wall / empirical floor", run.wall_s / floor_s, 1.3)
    check(result, "requests per project / R_min per project", requests / r_min, 1.0)
    check(result, "peak memory (MB)", run.maxrss_mb, 200)
    return result


# ---------------------------------------------------------------- 2. apply


def fresh_bound(projects: int, latency_ms: float, scale: float) -> tuple[int, float, float]:
    """(R_min, chain seconds, latency bound) for applying `projects` fresh projects.

    Per project, what the job needs at minimum under issue 4's rules: the 4 observe reads, the
    permission preflight (required for projects with changes), the link and the billing gate's
    read (reads lag a link), one batchEnable (rate limits off), 2 operation polls, the services
    gate's batchGet, one probe once the APIs are up (a model blocked at observation may already be
    enabled: sending enableModel blindly would be a redundant change), enableModel and the final
    probe: 14; plus the Cloud Quotas list, sent with the other observe reads before the project
    is known to be missing (it answers 403 then): 15; plus the 2 effective org policy reads (one
    per constraint), sent alongside for the same reason: 17. Plus the billing account (read and permission test) and the model once. The chain: read, link, enable, poll, poll, then the data plane's
    propagation lag (in real seconds) before the final probe (enableModel fits inside the lag).
    An operation done "after 2 polls" takes as long as two polls on the polling policy the tool
    must follow (issue 4: first poll after 2 s, then x1.5), so the chain includes 2 s + 3 s.
    """
    r_min = 17 * projects + 3
    chain = 6 * latency_ms / 1000 + FRESH_TIMING["service_propagation_s"] / scale
    chain += latency_ms / 1000 + POLICY_POLL_WAITS_S
    return r_min, chain, max(r_min * latency_ms / 1000 / C, chain)


def apply_fresh(tmp: Path, *, projects: int = 200) -> RESULT:
    ids = h.project_ids("fresh", projects)
    manifest = h.write_yaml(tmp, "apply.yaml", h.manifest(ids))
    r_min, chain, bound = fresh_bound(projects, L_MS, SCALE)
    result = new_result(
        "2. apply, fresh",
        projects=projects,
        latency_ms=L_MS,
        concurrency=C,
        time_scale=SCALE,
        timing=FRESH_TIMING,
        rate_limit="off",
        emulator_quotas="off",
        smoke="off",
        r_min=r_min,
    )
    with h.emulator(
        h.world(fresh=ids, timing=FRESH_TIMING), latency_ms=L_MS, time_scale=SCALE
    ) as e:
        run = h.run_cli(
            [*APPLY, "--no-rate-limit", "--concurrency", str(C), str(manifest)],
            env=e.env(),
        )
        _tool_run(run, "apply")
        journal = e.journal()
        h.assert_read(journal, ids, "apply")
        h.assert_changed(journal, ids, "apply")
        h.assert_converged_state(e, ids, "apply")
    requests = int(run.report["summary"]["requests"])
    result["figures"].update(
        wall_s=round(run.wall_s, 3),
        latency_bound_s=round(bound, 3),
        chain_s=round(chain, 3),
        requests=requests,
        requests_per_project=round(requests / projects, 3),
        r_min_per_project=round(r_min / projects, 3),
        peak_rss_mb=round(run.maxrss_mb, 1),
    )
    check(result, "wall / latency bound", run.wall_s / bound, 1.5)
    return result


# ---------------------------------------------------------------- 3. by hand


def gcloud_env(emu: h.Emulator, config: Path) -> dict[str, str]:
    token = config / "token"
    token.write_text("emulator-owner")
    root = f"{emu.base}/"
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": str(token),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        "CLOUDSDK_CORE_PROJECT": "bench-caller",
        "BILLING_ACCOUNT": h.ACCOUNT,
        "VERTEX_ROOT": emu.base,
    }
    for api in ("CLOUDRESOURCEMANAGER", "SERVICEUSAGE", "CLOUDBILLING", "AIPLATFORM"):
        env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api}"] = root
    return env


def _fresh_emulator(ids: Sequence[str]) -> Any:
    world = h.world(fresh=ids, timing=BY_HAND_TIMING)
    return h.emulator(world, latency_ms=L_MS, time_scale=SCALE)


def time_script(ids: Sequence[str], tmp: Path) -> float:
    with _fresh_emulator(ids) as emu, tempfile.TemporaryDirectory(dir=tmp) as config:
        env = gcloud_env(emu, Path(config))
        started = time.perf_counter()
        done = subprocess.run(
            [str(h.ROOT / "bench" / "by_hand.sh"), *ids],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        wall = time.perf_counter() - started
        if done.returncode:
            raise h.WorkNotDone(f"by_hand.sh failed ({done.returncode}): {done.stderr[-2000:]}")
        h.assert_changed(emu.journal(), ids, "by_hand.sh")
        h.assert_converged_state(emu, ids, "by_hand.sh")
    return wall


def time_tool(ids: Sequence[str], tmp: Path, name: str) -> float:
    manifest = h.write_yaml(tmp, name, h.manifest(ids))
    with _fresh_emulator(ids) as emu:
        run = h.run_cli(
            ["apply", str(manifest), "--yes", "--no-smoke", "--concurrency", str(C)], env=emu.env()
        )
        _tool_run(run, f"apply ({len(ids)} projects)")
        h.assert_changed(emu.journal(), ids, "apply")
        h.assert_converged_state(emu, ids, "apply")
    return run.wall_s


def by_hand(tmp: Path, *, projects: int = 20) -> RESULT:
    result = new_result(
        "3. against a gcloud script",
        projects=[projects, 1],
        latency_ms=L_MS,
        time_scale=SCALE,
        timing=BY_HAND_TIMING,
        script="bench/by_hand.sh",
        tool="apply --yes --no-smoke (default rate limits), final probe = the script's chat call",
    )
    many = h.project_ids("hand", projects)
    one = h.project_ids("single", 1)
    script_many = time_script(many, tmp)
    tool_many = time_tool(many, tmp, "hand.yaml")
    script_one = time_script(one, tmp)
    tool_one = time_tool(one, tmp, "single.yaml")
    result["figures"].update(
        script_s=round(script_many, 3),
        tool_s=round(tool_many, 3),
        speedup=round(script_many / tool_many, 2),
        script_1_s=round(script_one, 3),
        tool_1_s=round(tool_one, 3),
        speedup_1=round(script_one / tool_one, 2),
    )
    check(
        result,
        f"T_script({projects}) / T_tool({projects})",
        script_many / tool_many,
        20,
        at_most=False,
    )
    return result


# ---------------------------------------------------------------- 4. quotas

QUOTA_WORLD = {
    "enabled": True,
    "serviceusage_read_per_min": 240,
    "serviceusage_write_per_min": 60,
    "batch_enable_cost": 5,
}
# The tool's limits, in the emulator's virtual minute (60 / SCALE real seconds): Service Usage as
# the emulator enforces it, the other keys at their documented defaults.
TOOL_PER_MINUTE = {
    "serviceusage.read": 240,
    "serviceusage.write": 60,
    "resourcemanager.read": 600,
    "cloudbilling.read": 240,
    "cloudbilling.write": 60,
    "aiplatform.read": 600,
    "aiplatform.write": 60,
    "aiplatform.predict": 600,
    "cloudquotas.read": 600,
    "orgpolicy.read": 600,
}


def rate_limit_args() -> list[str]:
    window = f"{60 / SCALE:g}s"
    args = []
    for key, per_min in TOOL_PER_MINUTE.items():
        args += ["--rate-limit", f"{key}={per_min}/{window}"]
    return args


def quota_bound(units: Mapping[str, float]) -> tuple[float, str]:
    """max over buckets of (units - burst) / rate, in real seconds; and which bucket."""
    worst, which = 0.0, ""
    for key, needed in units.items():
        per_min = TOOL_PER_MINUTE[key]
        rate = per_min * SCALE / 60.0
        seconds = max(0.0, needed - per_min) / rate
        if seconds > worst or not which:
            worst, which = seconds, key
    return worst, which


def quota_bound_run(tmp: Path, *, audit_projects: int = 1000, apply_projects: int = 200) -> RESULT:
    result = new_result(
        "4. quota-bound",
        latency_ms=0,
        time_scale=SCALE,
        emulator_quotas=QUOTA_WORLD,
        tool_rate_limits=" ".join(rate_limit_args()),
        audit_projects=audit_projects,
        apply_projects=apply_projects,
        concurrency=C,
    )
    figures = result["figures"]
    ids = h.project_ids("quota", audit_projects)
    manifest = h.write_yaml(tmp, "quota-audit.yaml", h.manifest(ids))
    # R_min per bucket: each project's batchGet / probe / get; billing reads share one bucket.
    audit_units = {
        "serviceusage.read": audit_projects,
        "resourcemanager.read": audit_projects,
        "cloudbilling.read": audit_projects + 1,
        "aiplatform.predict": audit_projects,
        "aiplatform.read": 1,
        "cloudquotas.read": audit_projects,
        "orgpolicy.read": 2 * audit_projects,
    }
    bound, which = quota_bound(audit_units)
    with h.emulator(h.world(converged=ids, quotas=QUOTA_WORLD), time_scale=SCALE) as emu:
        run = h.run_cli(
            [
                "audit",
                str(manifest),
                "--no-smoke",
                "--concurrency",
                str(C),
                *rate_limit_args(),
                "--inventory",
                "direct",
            ],  # the per-project path (scenario 7 has the other)
            env=emu.env(),
        )
        _tool_run(run, "quota audit")
        journal = emu.journal()
        h.assert_read(journal, ids, "quota audit")
    too_many = sum(1 for e in journal if e["status"] == 429)
    figures.update(
        audit_wall_s=round(run.wall_s, 3),
        audit_quota_bound_s=round(bound, 3),
        audit_binding_quota=which,
        audit_429=too_many,
        audit_requests=int(run.report["summary"]["requests"]),
    )
    check(result, "audit wall / quota bound", run.wall_s / bound, 1.1)
    check(result, "audit 429 answers", too_many, 5)

    fresh = h.project_ids("qfresh", apply_projects)
    manifest = h.write_yaml(tmp, "quota-apply.yaml", h.manifest(fresh))
    apply_units = {
        # Cheapest in quota: the two APIs enabled one services.enable each (a batchEnable
        # weighs 5 writes), each operation done after 2 polls; plus the observe's batchGet.
        "serviceusage.read": 5 * apply_projects,
        "serviceusage.write": 2 * apply_projects,
        "resourcemanager.read": apply_projects,
        "cloudbilling.read": apply_projects + 1,
        "cloudbilling.write": apply_projects,
        "aiplatform.predict": 2 * apply_projects,
        "aiplatform.write": apply_projects,
        "aiplatform.read": 1,
        "cloudquotas.read": apply_projects,
        "orgpolicy.read": 2 * apply_projects,
    }
    bound, which = quota_bound(apply_units)
    world = h.world(fresh=fresh, timing=FRESH_TIMING, quotas=QUOTA_WORLD)
    with h.emulator(world, time_scale=SCALE) as emu:
        run = h.run_cli(
            [*APPLY, "--concurrency", str(C), *rate_limit_args(), str(manifest)],
            env=emu.env(),
        )
        _tool_run(run, "quota apply")
        journal = emu.journal()
        h.assert_changed(journal, fresh, "quota apply")
        h.assert_converged_state(emu, fresh, "quota apply")
    figures.update(
        apply_wall_s=round(run.wall_s, 3),
        apply_quota_bound_s=round(bound, 3),
        apply_binding_quota=which,
        apply_429=sum(1 for e in journal if e["status"] == 429),
        apply_requests=int(run.report["summary"]["requests"]),
    )
    check(result, "apply wall / quota bound", run.wall_s / bound, 1.2)
    return result


# ---------------------------------------------------------------- 5. start-up


def _median_wall(argv: Sequence[str], runs: int) -> tuple[float, list[float], int]:
    h.run_cli(argv)  # warm the page cache and .pyc files
    walls, code = [], 0
    for _ in range(runs):
        run = h.run_cli(argv)
        walls.append(run.wall_s)
        code = max(code, run.exit_code)
    return statistics.median(walls), walls, code


def startup(tmp: Path, *, runs: int = 7) -> RESULT:
    ids = h.project_ids("size", 1000)
    manifest = h.write_yaml(tmp, "validate.yaml", h.manifest(ids))
    result = new_result("5. start-up and size", runs=runs, manifest_projects=len(ids))
    help_s, help_walls, code = _median_wall(["--help"], runs)
    if code:
        raise h.WorkNotDone("bootstrap --help failed")
    validate_s, validate_walls, code = _median_wall(["validate", str(manifest)], runs)
    if code:
        raise h.WorkNotDone("bootstrap validate of the 1,000-project manifest failed")
    result["figures"].update(
        help_median_s=round(help_s, 3),
        help_runs_s=[round(w, 3) for w in help_walls],
        validate_median_s=round(validate_s, 3),
        validate_runs_s=[round(w, 3) for w in validate_walls],
    )
    check(result, "--help median (s)", help_s, 0.3)
    check(result, "validate 1,000 projects median (s)", validate_s, 1.0)
    return result


# ---------------------------------------------------------------- 6. smoke

SMOKE_TIMING = {"ttft_ms": 40, "token_interval_ms": 20}
SMOKE_PAIRS = 5


def _p50_p95(values: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _per_token(total_ms: float, tokens: int) -> float:
    """Milliseconds per token beyond what the emulator was told to take (ttft + interval each)."""
    return (
        total_ms - SMOKE_TIMING["ttft_ms"] - tokens * SMOKE_TIMING["token_interval_ms"]
    ) / tokens


def _load() -> float:
    """The 1-minute load average: the machine is shared, and every figure is read beside it."""
    return round(os.getloadavg()[0], 2)


def _tool_smoke(ids: Sequence[str], manifest: Path) -> dict[str, Any]:
    """`bootstrap smoke` on its own fresh emulator: per-token overheads and its own metrics."""
    load = _load()
    with h.emulator(h.world(converged=ids, timing=SMOKE_TIMING)) as emu:
        run = h.run_cli(["smoke", str(manifest), "--concurrency", str(len(ids))], env=emu.env())
        _tool_run(run, "smoke")
        chats = {
            h.project_of(e["path"])
            for e in emu.journal()
            if e["path"].endswith("/chat/completions") and e["status"] == 200
        }
        if not set(ids) <= chats:
            raise h.WorkNotDone(f"smoke: {len(set(ids) - chats)} projects had no chat answered")
    metrics = [
        item.get("metrics") or {}
        for project in run.report["projects"]
        for item in project["checks"]
        if item["name"].startswith("smoke:")
    ]
    metrics = [m for m in metrics if "output_tokens" in m]
    if len(metrics) != len(ids):
        raise h.WorkNotDone(f"smoke: {len(metrics)} of {len(ids)} streams reported metrics")
    p50, p95 = _p50_p95(
        [_per_token(float(m["total_ms"]), int(m["output_tokens"])) for m in metrics]
    )
    return {
        "p50": p50,
        "p95": p95,
        "tokens": statistics.median(int(m["output_tokens"]) for m in metrics),
        "ttft_p50": statistics.median(float(m["ttft_ms"]) for m in metrics),
        "concurrency": statistics.median(int(m.get("concurrency", 0)) for m in metrics),
        "wall_s": run.wall_s,
        "load": load,
    }


def _bare_smoke(ids: Sequence[str], smoke: SmokeTest) -> dict[str, Any]:
    """The bare httpx client (bench/bare_smoke.py) on its own fresh emulator, same world."""
    load = _load()
    with h.emulator(h.world(converged=ids, timing=SMOKE_TIMING)) as emu:
        bare = bare_streams(
            emu.base,
            ids,
            prompt=smoke.prompt,
            max_tokens=smoke.max_tokens,
            reasoning_effort=smoke.reasoning_effort,
        )
    if len(bare) != len(ids):
        raise h.WorkNotDone(f"bare smoke: {len(bare)} of {len(ids)} streams reached [DONE]")
    p50, p95 = _p50_p95([_per_token(b.total_ms, b.completion_tokens) for b in bare])
    tokens = statistics.median(b.completion_tokens for b in bare)
    return {"p50": p50, "p95": p95, "tokens": tokens, "load": load}


def _median_and_spread(values: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def smoke_throughput(tmp: Path, *, streams: int = 100, pairs: int = SMOKE_PAIRS) -> RESULT:
    """The tool's smoke streams and a bare httpx client's (bench/bare_smoke.py), `pairs` times,
    alternating which goes first, each run on a freshly started emulator with the same world: the
    per-token overhead of both, and the tool's excess over the bare client, judged on the median
    of the pairs (one run depends on the moment: the burst of 100 stream starts costs the
    single-process emulator, on the same shared cores, tens of ms whoever the client is)."""
    ids = h.project_ids("smoke", streams)
    plan = h.manifest(ids, smoke=True)
    manifest = h.write_yaml(tmp, "smoke.yaml", plan)
    smoke = SmokeTest.model_validate(plan["smoke_test"])
    result = new_result(
        "6. smoke throughput",
        streams=streams,
        timing=SMOKE_TIMING,
        latency_ms=0,
        concurrency=streams,
        pairs=pairs,
        baseline="bare httpx.Client in 100 threads, same body, own fresh emulator",
        order="tool then bare in even pairs, bare then tool in odd pairs",
    )
    tools: list[dict[str, Any]] = []
    bares: list[dict[str, Any]] = []
    for pair in range(pairs):
        if pair % 2 == 0:
            tools.append(_tool_smoke(ids, manifest))
            bares.append(_bare_smoke(ids, smoke))
        else:
            bares.append(_bare_smoke(ids, smoke))
            tools.append(_tool_smoke(ids, manifest))
    diffs = [t["p95"] - b["p95"] for t, b in zip(tools, bares, strict=True)]
    tool_p95, tool_min, tool_max = _median_and_spread([t["p95"] for t in tools])
    bare_p95, bare_min, bare_max = _median_and_spread([b["p95"] for b in bares])
    diff, diff_min, diff_max = _median_and_spread(diffs)
    result["figures"].update(
        tokens_per_stream=statistics.median(t["tokens"] for t in tools),
        bare_tokens_per_stream=statistics.median(b["tokens"] for b in bares),
        overhead_ms_per_token_p50=round(statistics.median(t["p50"] for t in tools), 3),
        overhead_ms_per_token_p95=round(tool_p95, 3),
        overhead_ms_per_token_p95_range=[round(tool_min, 3), round(tool_max, 3)],
        bare_overhead_ms_per_token_p50=round(statistics.median(b["p50"] for b in bares), 3),
        bare_overhead_ms_per_token_p95=round(bare_p95, 3),
        bare_overhead_ms_per_token_p95_range=[round(bare_min, 3), round(bare_max, 3)],
        tool_minus_bare_p95_ms=round(diff, 3),
        tool_minus_bare_p95_range=[round(diff_min, 3), round(diff_max, 3)],
        tool_p95_runs=[round(t["p95"], 3) for t in tools],
        bare_p95_runs=[round(b["p95"], 3) for b in bares],
        tool_minus_bare_p95_runs=[round(d, 3) for d in diffs],
        # [tool, bare] of each pair, whichever ran first; read before each run started
        load_1min_runs=[[t["load"], b["load"]] for t, b in zip(tools, bares, strict=True)],
        # TTFT from the request on the wire (the emulator is told 40 ms): how starved it was
        tool_ttft_ms_p50=round(statistics.median(t["ttft_p50"] for t in tools), 1),
        tool_reported_concurrency=statistics.median(t["concurrency"] for t in tools),
        wall_s=round(statistics.median(t["wall_s"] for t in tools), 3),
    )
    check(result, "client overhead per token p95 (ms), median of pairs", tool_p95, 1.0)
    check(
        result,
        "(added) tool p95 - bare client p95 (ms per token), the tool's own overhead, "
        "median of pairs",
        diff,
        1.0,
    )
    return result


# ---------------------------------------------------------------- 7. org scale (issue 19)

ORG = "organizations/123456789012"
ORG_FOLDERS = 10  # the projects spread over 10 folders under the organization, half one deeper
ORG_QUOTAS = {
    # Each API's documented per-minute default, per caller (and per organization for Asset);
    # the emulator counts them in its virtual minute (6 real seconds at x10).
    "enabled": True,
    "serviceusage_read_per_min": 240,
    "serviceusage_write_per_min": 60,
    "batch_enable_cost": 5,
    "cloudresourcemanager_read_per_min": 600,
    "cloudresourcemanager_write_per_min": 600,
    "cloudbilling_per_min": 300,
    "cloudasset_search_per_min": 400,
    "cloudasset_search_per_org_per_min": 1500,
}
ORG_TOOL_PER_MINUTE = {
    **TOOL_PER_MINUTE,
    "resourcemanager.search": 240,
    "cloudasset.search": 400,
}
DRIFTS = ("billing-off", "api-off", "model-off")
# An organization that governs both constraints the audit reads (the model allowed, an unrelated
# API denied), so every container is governed: the analysis pages cover the whole organization.
ORG_POLICIES = [
    {
        "resource": ORG,
        "constraint": "constraints/vertexai.allowedModels",
        "allowed_values": [f"is:{h.MODEL}:predict"],
    },
    {
        "resource": ORG,
        "constraint": "constraints/gcp.restrictServiceUsage",
        "denied_values": ["compute.googleapis.com"],
    },
]
# Journal paths by what they read, for the per-project request counts (first match wins).
READ_KINDS = (
    ("asset pages", lambda p: p.endswith(":searchAllResources")),
    ("policy analysis pages", lambda p: p.endswith(":analyzeOrgPolicyGovernedContainers")),
    (
        "billing list pages",
        lambda p: p.startswith("/v1/billingAccounts/") and p.endswith("/projects"),
    ),
    ("billing", lambda p: p.endswith("/billingInfo")),
    ("services", lambda p: p.endswith("/services:batchGet")),
    ("org policy", lambda p: p.endswith(":getEffectivePolicy")),
    ("quota", lambda p: "/quotaInfos" in p),
    ("probe", lambda p: p.endswith("/chat/completions")),
    ("discovery", lambda p: p.startswith(("/v3/folders", "/v3/projects:search"))),
    ("project", lambda p: p.startswith("/v3/projects/") and p.count("/") == 3),
)


def _env_count(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def org_world(
    count: int, *, quotas: dict[str, Any], lag_s: float = 60
) -> tuple[dict[str, Any], dict[str, str]]:
    """`count` projects under one organization in nested folders, 95% converged and 5% drifted
    (billing off, Vertex AI API off, model not enabled, in turn); and the drift of each id."""
    folders = [{"id": "345678901234", "parent": ORG}]
    for index in range(ORG_FOLDERS):
        folders.append({"id": f"5{index:011d}", "parent": ORG})
        folders.append({"id": f"6{index:011d}", "parent": f"folders/5{index:011d}"})
    projects, drift = [], {}
    for index in range(count):
        pid = f"org-{index:05d}"
        kind = DRIFTS[(index // 20) % len(DRIFTS)] if index % 20 == 7 else "ok"
        drift[pid] = kind
        holder = folders[1 + (index % (2 * ORG_FOLDERS))]["id"]
        projects.append(
            {
                "project_id": pid,
                "parent": f"folders/{holder}",
                "billing_account": None if kind == "billing-off" else h.ACCOUNT,
                "services": h.SERVICES[1:] if kind == "api-off" else h.SERVICES,
                "models": [] if kind == "model-off" else [h.MODEL],
            }
        )
    world = h.world(
        quotas=quotas, timing={"ttft_ms": 0, "token_interval_ms": 0, "inventory_lag_s": lag_s}
    )
    world.update(folders=folders, projects=projects, org_policies=ORG_POLICIES)
    return world, drift


def org_rate_limit_args() -> list[str]:
    window = f"{60 / SCALE:g}s"
    return [
        arg
        for key, per_min in ORG_TOOL_PER_MINUTE.items()
        for arg in ("--rate-limit", f"{key}={per_min}/{window}")
    ]


def org_quota_bound(units: Mapping[str, float]) -> tuple[float, str]:
    """As quota_bound, with scenario 7's limits (the Asset search key included)."""
    worst, which = 0.0, ""
    for key, needed in units.items():
        per_min = ORG_TOOL_PER_MINUTE[key]
        seconds = max(0.0, needed - per_min) / (per_min * SCALE / 60.0)
        if seconds > worst or not which:
            worst, which = seconds, key
    return worst, which


def org_units(path: str, count: int, drifted: int, pages: Mapping[str, int]) -> dict[str, float]:
    """Each bucket's requests at their cheapest for one path (`pages`: what the run paged)."""
    guards = {
        "cloudquotas.read": count,
        "aiplatform.predict": count,
        "aiplatform.read": 1,
    }
    if path == "direct":
        containers = 1 + 2 * ORG_FOLDERS + 1
        return {
            **guards,
            "orgpolicy.read": 2 * count,
            "resourcemanager.read": count + containers,
            "resourcemanager.search": containers + count / 500,
            "serviceusage.read": count,
            "cloudbilling.read": count,
        }
    # The drifted projects are re-read directly (their three reads and both policies).
    return {
        **guards,
        "orgpolicy.read": 2 * drifted,
        "cloudasset.search": pages["asset pages"] + pages.get("policy analysis pages", 0),
        "cloudbilling.read": pages["billing list pages"] + 1 + drifted,
        "resourcemanager.read": drifted,
        "serviceusage.read": drifted,
    }


def _reads(journal: list[dict[str, Any]], drift: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Requests by kind, split into converged projects, drifted ones and run-wide pages."""
    out: dict[str, dict[str, int]] = {"converged": {}, "drifted": {}, "run": {}}
    for entry in journal:
        path = entry["path"]
        kind = next((k for k, matches in READ_KINDS if matches(path)), "other")
        pid = h.project_of(path) or ""
        where = "run" if pid not in drift else ("converged" if drift[pid] == "ok" else "drifted")
        if kind in ("asset pages", "policy analysis pages", "billing list pages", "discovery"):
            where = "run"
        out[where][kind] = out[where].get(kind, 0) + 1
    return out


def _org_audit(
    emu: h.Emulator, path: str, drift: Mapping[str, str], extra: Sequence[str] = ()
) -> tuple[h.CliRun, dict[str, dict[str, int]], int]:
    emu.reset()  # journal and quota counters back to zero; the world as loaded
    run = h.run_cli(
        ["audit", "--parent", ORG, "--no-smoke", "--concurrency", str(C), "--inventory", path,
         *extra],
        env=emu.env(),
    )  # fmt: skip
    _tool_run(run, f"{path} org audit", codes=(2,))
    journal = emu.journal()
    found = {p["project_id"]: p["status"] for p in run.report.get("projects", [])}
    if set(found) != set(drift):
        raise h.WorkNotDone(f"{path}: audited {len(found)} of {len(drift)} projects")
    probed = {h.project_of(e["path"]) for e in journal if e["path"].endswith("/chat/completions")}
    if not set(drift) <= probed:
        raise h.WorkNotDone(f"{path}: {len(set(drift) - probed)} projects were not probed")
    return run, _reads(journal, drift), sum(1 for e in journal if e["status"] == 429)


def _findings(run: h.CliRun) -> dict[str, list[tuple[str, str, str | None]]]:
    return {
        p["project_id"]: [(c["name"], c["status"], c["cause"]) for c in p["checks"]]
        for p in run.report["projects"]
    }


def _growth_run(tmp: Path, count: int, path: str) -> h.CliRun:
    """Scenario 1's audit (latency-bound, quotas off) of `count` converged projects."""
    ids = h.project_ids("grow", count)
    manifest = h.write_yaml(tmp, f"grow-{count}.yaml", h.manifest(ids))
    with h.emulator(h.world(converged=ids), latency_ms=L_MS) as emu:
        run = h.run_cli(
            ["audit", str(manifest), "--no-smoke", "--no-rate-limit", "--concurrency", str(C),
             "--inventory", path],
            env=emu.env(),
        )  # fmt: skip
        _tool_run(run, f"growth audit {count} ({path})")
        if path == "direct":
            h.assert_read(emu.journal(), ids, f"growth audit {count}")
    return run


def org_scale(tmp: Path) -> RESULT:
    """Issue 19: an organization audit under real quotas, `--inventory direct` vs `asset` on one
    world, then scenario 1 at 1,000 and at the large size for growth. Sizes: BENCH_ORG_PROJECTS
    (default 10,000) and BENCH_GROWTH_PROJECTS (default 10,000; 0 leaves the growth part out)."""
    count = _env_count("BENCH_ORG_PROJECTS", 10_000)
    large = _env_count("BENCH_GROWTH_PROJECTS", 10_000)
    world, drift = org_world(count, quotas=ORG_QUOTAS)
    drifted = sum(1 for k in drift.values() if k != "ok")
    converged = count - drifted
    result = new_result(
        "7. org scale",
        projects=count,
        drifted=drifted,
        folders=len(world["folders"]),
        time_scale=SCALE,
        emulator_quotas=ORG_QUOTAS,
        tool_rate_limits=" ".join(org_rate_limit_args()),
        concurrency=C,
        probe="on",
        smoke="off",
        growth_projects=[1000, large],
    )
    figures = result["figures"]
    runs = {}
    with h.emulator(world, time_scale=SCALE) as emu:
        for path in ("direct", "asset"):
            runs[path] = _org_audit(emu, path, drift, org_rate_limit_args())
    same = _findings(runs["direct"][0]) == _findings(runs["asset"][0])
    for path, (run, reads, too_many) in runs.items():
        pages = reads["run"]
        bound, which = org_quota_bound(org_units(path, count, drifted, pages))
        statuses = {p["project_id"]: p["status"] for p in run.report["projects"]}
        wrong = [pid for pid, kind in drift.items() if (statuses[pid] == "ok") != (kind == "ok")]
        if wrong:
            raise h.WorkNotDone(f"{path}: {len(wrong)} projects judged wrongly, e.g. {wrong[0]}")
        core = sum(reads["converged"].get(k, 0) for k in ("project", "billing", "services"))
        amortised = sum(pages.get(k, 0) for k in ("asset pages", "billing list pages"))
        policy = reads["converged"].get("org policy", 0) + pages.get("policy analysis pages", 0)
        per = {k: round(v / converged, 4) for k, v in sorted(reads["converged"].items())}
        figures[path] = {
            "wall_s": round(run.wall_s, 3),
            "quota_bound_s": round(bound, 3),
            "binding_quota": which,
            "requests": int(run.report["summary"]["requests"]),
            "requests_429": too_many,
            "core_reads_per_converged_project": round((core + amortised) / converged, 4),
            "org_policy_reads_per_converged_project": round(policy / converged, 4),
            "reads_per_converged_project": per,
            "run_wide_requests": dict(sorted(pages.items())),
            "drifted_project_requests": dict(sorted(reads["drifted"].items())),
            "peak_rss_mb": round(run.maxrss_mb, 1),
            "inventory_projects": run.report["summary"].get("inventory_projects", 0),
        }
        if bound > 0:  # a fleet within one minute's quota has no quota bound
            check(result, f"{path}: wall / its quota bound", run.wall_s / bound, 1.2)
        check(result, f"{path}: peak memory (MB)", run.maxrss_mb, 300)
    asset = figures["asset"]
    check(
        result,
        "asset: project+billing+services reads per converged project (pages amortised)",
        asset["core_reads_per_converged_project"],
        0.05,
    )
    figures["findings_identical"] = same
    check(result, "findings identical (1 = yes)", 1.0 if same else 0.0, 1.0, at_most=False)

    if large <= 0:  # BENCH_GROWTH_PROJECTS=0: the org part only
        return result
    grow = {n: _growth_run(tmp, n, "direct") for n in (1000, large)}
    grow_asset = _growth_run(tmp, large, "asset")
    small, big = grow[1000], grow[large]
    factor = large / 1000
    figures["growth"] = {
        "direct_wall_s": {n: round(r.wall_s, 3) for n, r in grow.items()},
        "direct_peak_rss_mb": {n: round(r.maxrss_mb, 1) for n, r in grow.items()},
        f"asset_{large}_wall_s": round(grow_asset.wall_s, 3),
        f"asset_{large}_peak_rss_mb": round(grow_asset.maxrss_mb, 1),
    }
    check(
        result,
        f"scenario 1: wall({large}) / ({factor:g} x wall(1000))",
        big.wall_s / (factor * small.wall_s),
        1.0,
    )
    check(
        result,
        f"scenario 1: peak memory({large}) / ({factor:g} x memory(1000))",
        big.maxrss_mb / (factor * small.maxrss_mb),
        1.0,
    )
    check(result, f"scenario 1 at {large}: peak memory (MB), direct", big.maxrss_mb, 300)
    check(result, f"scenario 1 at {large}: peak memory (MB), asset", grow_asset.maxrss_mb, 300)
    return result
