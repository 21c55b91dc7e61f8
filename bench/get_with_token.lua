-- wrk script: GET with a bearer token; with IDS_FILE, each request opens a random case
-- from that file (one id a line) under PATH_PREFIX.
local token = os.getenv("TOKEN")
wrk.headers["Authorization"] = "Bearer " .. token
local ids = {}
local prefix = os.getenv("PATH_PREFIX")
local file = os.getenv("IDS_FILE")
if file then
  for line in io.lines(file) do ids[#ids + 1] = line end
end
request = function()
  if #ids > 0 then
    return wrk.format("GET", prefix .. ids[math.random(#ids)] .. (os.getenv("PATH_SUFFIX") or ""))
  end
  return wrk.format("GET")
end
done = function(summary, latency, requests)
  io.write(string.format("requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx_or_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
