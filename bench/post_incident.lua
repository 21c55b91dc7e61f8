-- wrk script: POST /api/v1/incidents with a realistic body and a bearer token.
-- TOKEN comes from the environment (see bench/submissions.sh).
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.body = [[{"occurred_on": "2026-11-02", "occurred_time": "14:30", "discovered_on": "2026-11-03",
 "location": "Dispensary", "categories": ["theft_or_diversion", "stock_discrepancy"],
 "drugs": [{"name": "unlisted product", "schedule": "2", "formulation": "tablet", "strength": "10 mg", "quantity": 28, "unit": "tablet"}],
 "harm": "none", "near_miss": false,
 "description": "28 morphine sulfate 10 mg tablets missing from the CD register running balance at the weekly check.",
 "actions_taken": "Balance rechecked with a second pharmacist; superintendent informed.",
 "police_informed": true, "police_reference": "CRI/123/26", "patient_involved": false}]]

done = function(summary, latency, requests)
  io.write(string.format("requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx_or_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
