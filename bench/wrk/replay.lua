-- Replays prepared HTTP requests for wrk: one request per line of the file named by
-- WRK_REQUESTS, fields separated by tabs: METHOD, PATH, HEADERS (joined by \31, each
-- "Name: value"), BODY. Thread n of WRK_THREADS takes lines n, n+WRK_THREADS, ... so that
-- single-use requests (approving a step) are never sent twice until the list runs out.
-- done() prints one JSON line: throughput, latency percentiles (us), errors, status counts.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function split(s, sep)
  local out = {}
  for piece in (s .. sep):gmatch("(.-)" .. sep) do table.insert(out, piece) end
  return out
end

local function parse(line)
  local f = split(line, "\t")
  local headers = {}
  if f[3] ~= "" then
    for _, h in ipairs(split(f[3], "\31")) do
      local name, value = h:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
  end
  local body = f[4]
  if body == "" then body = nil end
  return wrk.format(f[1], f[2], headers, body)
end

function init(args)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  local all = {}
  reqs = {}
  statuses = {}
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    if line ~= "" then table.insert(all, line) end
  end
  for i, line in ipairs(all) do
    if (i - 1) % nthreads == id then table.insert(reqs, parse(line)) end
  end
  -- Fewer lines than threads (a single URL): every thread replays all of them.
  if #reqs == 0 then
    for _, line in ipairs(all) do table.insert(reqs, parse(line)) end
  end
  index = 0
end

function request()
  index = index % #reqs + 1
  return reqs[index]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', status, n)) end
  local e = summary.errors
  io.write(string.format(
    '\nWRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
