-- Shared by the bench's wrk scripts: reading the data file the driver wrote, checking every response's status
-- and printing one JSON line of results (BENCH_JSON {...}) that bench/run.py reads.
-- Arguments after `--`: <data file> <expected status>.

local common = {}
local threads = {}
unexpected = 0 -- per thread (each wrk thread has its own Lua state); summed in done()
expected_status = 200

function common.lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  assert(#out > 0, "no lines in " .. path)
  return out
end

function common.split(line)
  local out = {}
  for field in line:gmatch("%S+") do out[#out + 1] = field end
  return out
end

-- The driver gives every run its own seed (BENCH_SEED), so two runs never send the same idempotency keys.
function common.seed()
  math.randomseed((tonumber(os.getenv("BENCH_SEED")) or os.time()) + 7919 * (thread_index or 0))
end

-- wrk.format() replaces wrk.headers (the -H ones: cookie, CSRF token, agent) when given headers: merge them.
function common.headers(extra)
  local out = {}
  for name, value in pairs(wrk.headers) do out[name] = value end
  for name, value in pairs(extra) do out[name] = value end
  return out
end

function common.uuid4()
  local template = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"
  return (template:gsub("[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

function setup(thread)
  thread:set("thread_index", #threads + 1)
  threads[#threads + 1] = thread
end

function response(status, headers, body)
  if status ~= expected_status then
    unexpected = unexpected + 1
    if unexpected <= 3 then
      io.stderr:write(string.format("unexpected status %d (wanted %d): %s\n", status, expected_status,
        (body or ""):sub(1, 300)))
    end
  end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + (thread:get("unexpected") or 0) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "mean_us": %.1f, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, '
      .. '"errors_status": %d, "errors_timeout": %d, "unexpected_status": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status,
    e.timeout, wrong))
end

return common
