-- Printed after wrk's own summary: latency percentiles in microseconds, for the report's chart.
done = function(summary, latency, requests)
  local ps = {50, 75, 90, 95, 99, 99.9}
  local parts = {}
  for _, p in ipairs(ps) do
    parts[#parts + 1] = string.format('"%s":%d', p, latency:percentile(p))
  end
  io.write("PERCENTILES {" .. table.concat(parts, ",") .. "}\n")
end
