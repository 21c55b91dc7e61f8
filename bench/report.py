"""Turns bench/run.sh's results (one line per measurement) into docs/PERFORMANCE.md and a
summary on standard output. Usage: report.py RESULTS OUT key=value..."""
import re
import sys

results, out, *pairs = sys.argv[1:]
meta = dict(p.split("=", 1) for p in pairs)
rows = {}
for line in open(results):
    op, kind, text = line.rstrip("\n").split("\t", 2)
    rows.setdefault(op, {})[kind] = dict(re.findall(r"(\w+)=([^ ]+)", text))

def num(d, k):
    try:
        return float(d.get(k, "nan"))
    except ValueError:
        return float("nan")

OPS = [
    ("submission", "Submission: `POST /api/v1/incidents` (reporter)",
     "a case row with two btree indexes and a hashed audit row, one transaction (`bench/limit/limit_submit.sql`)",
     "the real `cases` row with all its indexes and an audit row (`bench/sql/project_submission.sql`)", 0.40),
    ("case_list", "Filtered case list: `GET /api/v1/cases?status=new&limit=50` (CDAO)",
     "a 50-row indexed read of one area and status (`bench/limit/limit_dashboard.sql`)",
     "the list's own query (`bench/sql/project_case_list.sql`)", 0.25),
    ("case_page", "Case page: `GET /api/v1/cases/{id}` (CDAO, identities decrypted)",
     "the row by primary key and the hashed audit row of the view, one transaction (`bench/sql/limit_case_page.sql`)",
     "the page's main queries and its view audit row (`bench/sql/project_case_page.sql`)", None),
    ("alert_inbox", "Alert inbox: `GET /api/v1/alerts` (member, ~1,000 alerts)",
     "a 500-row indexed read (`bench/sql/limit_inbox.sql`)",
     "the inbox's own query (`bench/sql/project_inbox.sql`)", None),
    ("alert_page", "Alert page: `GET /api/v1/alerts/{id}` (member)",
     "the row by primary key and the view's audit row (`bench/sql/limit_case_page.sql`)",
     "the alert's own query and its audit row (`bench/sql/project_alert_page.sql`)", None),
    ("matching", "Matching a new person: `GET /api/v1/cases/{id}/matches` (CDAO, 1 M persons)",
     "a self-join on a 1 M-row blind index (`bench/sql/limit_match.sql`)",
     "the matching query (`bench/sql/project_match.sql`)", None),
    ("statistics", "Statistics: `GET /api/v1/stats?group_by=category` (CDAO's area)",
     "one area's rows counted by category (`bench/sql/limit_stats.sql`)",
     "the statistics query (`bench/sql/project_stats.sql`)", None),
]

def ms(v):
    return "—" if v != v else f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms"

lines = []
w = lines.append
w("# Performance")
w("")
w(f"Measured by `bash bench/run.sh` on {meta['date']} at commit {meta['commit']}.")
w("")
w(f"- Machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory']}; {meta['postgres']} "
  "(PostgreSQL's durable defaults: fsync and synchronous commit on). The service, PostgreSQL "
  "and the load generators share the machine.")
w(f"- Load average (1, 5, 15 min) before: {meta['load_before']}; after: {meta['load_after']}. "
  "Other work on the machine moves absolute figures; each figure stands beside its baselines, "
  "measured minutes apart in the same run.")
w(f"- Data: {meta['data']}.")
w(f"- Each operation: the service under wrk with {meta['clients']} clients for {meta['duration']} s "
  f"and with 1 client for {meta['duration_one']} s; pgbench (`-M prepared`, {meta['clients']} clients) "
  "for the same time on two baselines: the **minimal** one, the least SQL the operation needs on a "
  "minimal schema (`bench/limit/`, as given in `shared/bench`, and `bench/sql/limit_*.sql`), and the "
  "**project** one, the project's own queries on its own schema (`bench/sql/project_*.sql`).")
w(f"- Service peak resident memory during the run: {meta['rss_peak_mib']} MiB "
  f"(kernel high-water mark {meta['hwm_mib']} MiB).")
w("")
w(f"| operation | 1 client p50 / p99 | {meta['clients']} clients: rate | p50 / p99 | errors | "
  "minimal baseline | ratio | project baseline | ratio |")
w("|---|---|---|---|---|---|---|---|---|")
print(f"{'operation':<12} {'1c p50':>8} {'1c p99':>8} {'rate':>8} {'p50':>8} {'p99':>8} {'err':>5} "
      f"{'minimal':>9} {'ratio':>6} {'project':>9} {'ratio':>6}")
for op, title, _, _, bar in OPS:
    r = rows.get(op, {})
    one, n = r.get("service_1", {}), r.get("service_n", {})
    mn, pj = r.get("minimal", {}), r.get("project", {})
    rate = num(n, "rps")
    tmin, tproj = num(mn, "tps"), num(pj, "tps")
    rmin = rate / tmin if tmin else float("nan")
    rproj = rate / tproj if tproj else float("nan")
    errors = int(num(n, "non2xx_or_errors") if n else 0) + int(num(one, "non2xx_or_errors") if one else 0)
    barnote = f" (bar ≥ {bar:.2f})" if bar else ""
    w(f"| {title} | {ms(num(one, 'p50_ms'))} / {ms(num(one, 'p99_ms'))} | {rate:,.0f}/s | "
      f"{ms(num(n, 'p50_ms'))} / {ms(num(n, 'p99_ms'))} | {errors} | {tmin:,.0f} tx/s | "
      f"**{rmin:.2f}**{barnote} | {tproj:,.0f} tx/s | {rproj:.2f} |")
    print(f"{op:<12} {num(one,'p50_ms'):8.2f} {num(one,'p99_ms'):8.2f} {rate:8.0f} {num(n,'p50_ms'):8.2f} "
          f"{num(n,'p99_ms'):8.2f} {errors:5d} {tmin:9.0f} {rmin:6.2f} {tproj:9.0f} {rproj:6.2f}")
rounds = sorted(k for k in rows.get("overhead_areas", {}) if k.startswith("round"))
pairs = [(num(rows["overhead_healthz"].get(r, {}), "p50_ms"), num(rows["overhead_areas"][r], "p50_ms"))
         for r in rounds]
gaps = sorted(a - h for h, a in pairs)
gap = gaps[len(gaps) // 2] if gaps else float("nan")
w("")
w(f"Per-request overhead, one client, measured {len(pairs)} times one after the other: `GET /healthz` p50 "
  + ", ".join(ms(h) for h, _ in pairs) + "; `GET /api/v1/areas` (authenticated, one query) p50 "
  + ", ".join(ms(a) for _, a in pairs) + f": median gap **{gap:.2f} ms** (bar: within 0.15 ms).")
print("overhead: " + "; ".join(f"/healthz {h:.2f} ms, /api/v1/areas {a:.2f} ms" for h, a in pairs)
      + f"; median gap {gap:.2f} ms")
w("")
w(f"Cases submitted through the API during the run (`CD-` references, submissions and person concerns): {meta['stored']}.")
w("")
w("## The baselines")
w("")
w("| operation | minimal | project |")
w("|---|---|---|")
for op, title, mdesc, pdesc, _ in OPS:
    w(f"| {title.split(':')[0]} | {mdesc} | {pdesc} |")
w("")
w("Bars (SPEC §10, 32 clients, 1 M cases): submissions ≥ 0.40 of the minimal baseline with p99 ≤ 50 ms; "
  "case list ≥ 0.25 with p99 ≤ 20 ms; case page p99 ≤ 20 ms; matching ≤ 5 ms; `/api/v1/areas` p50 "
  "within 0.15 ms of `/healthz`; resident memory ≤ 100 MB.")
w("")
w(f"The run took {meta['elapsed']} s, including the release build and the data generation.")
open(out, "w").write("\n".join(lines) + "\n")
