"""Report renderers: a `RunReport` as a table, JSON, JUnit XML or Markdown, written where asked.

Importing this package is cheap: rich loads only when a table is rendered.

    render(report, Format.TABLE, width=80, color=False) -> str
    parse_outputs(["r.json", "r.xml"], None) -> [(Path, Format), ...]; write_outputs(report, ...)
    append_step_summary(report, os.environ)
    merge_reports([shard1, shard2]) -> RunReport; report_from_json(json.load(f)) -> RunReport
"""
