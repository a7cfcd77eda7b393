-- wrk script: POSTs OpenADR 2.0b oadrPoll payloads (unsigned, plain XML) to a VTN, rotating over
-- registered venIDs, on keep-alive connections; prints latency percentiles in done().
--
--   wrk -t1 -c64 -d15s --latency -s bench/poll.lua http://127.0.0.1:8080 -- FILE [PATH]
--   wrk -t1 -c64 -d15s --latency -s bench/poll.lua http://127.0.0.1:8080 -- gen:PREFIX:N [PATH]
--
-- FILE: one venID per line (register them first; the VTN answers an unknown venID with an
-- oadrResponse carrying 463, which is not a 2xx/3xx check wrk can see). gen:PREFIX:N uses
-- PREFIX1 … PREFIXN. PATH defaults to /OpenADR2/Simple/2.0b/OadrPoll (add a VTN's prefix there).
-- The last line printed, POLL_RESULT, is what bench/vtn-poll.bench.ts parses.

local venIds = {}
local requests = {}
local nextIndex = 1
local path = "/OpenADR2/Simple/2.0b/OadrPoll"

local function pollXml(venId)
  return '<?xml version="1.0" encoding="UTF-8"?>' ..
    '<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" ' ..
    'xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110">' ..
    '<oadr:oadrSignedObject><oadr:oadrPoll ei:schemaVersion="2.0b">' ..
    '<ei:venID>' .. venId .. '</ei:venID>' ..
    '</oadr:oadrPoll></oadr:oadrSignedObject></oadr:oadrPayload>'
end

local function loadIds(spec)
  local ids = {}
  local prefix, n = string.match(spec or "", "^gen:(.*):(%d+)$")
  if prefix ~= nil then
    for i = 1, tonumber(n) do ids[#ids + 1] = prefix .. i end
    return ids
  end
  local f = io.open(spec or "", "r")
  if f == nil then
    error("poll.lua: pass a file of venIDs (one a line) or gen:PREFIX:N after --, e.g. -- venids.txt")
  end
  for line in f:lines() do
    local id = string.match(line, "^%s*(.-)%s*$")
    if id ~= "" then ids[#ids + 1] = id end
  end
  f:close()
  return ids
end

-- Runs once per wrk thread; each thread starts at a different venID so threads do not move in step.
function init(args)
  venIds = loadIds(args[1])
  if #venIds == 0 then error("poll.lua: no venIDs given") end
  if args[2] ~= nil then path = args[2] end
  local headers = { ["Content-Type"] = "application/xml", ["Accept-Encoding"] = "identity" }
  for i, id in ipairs(venIds) do
    requests[i] = wrk.format("POST", path, headers, pollXml(id))
  end
  nextIndex = (math.random(1, #venIds))
end

function request()
  local r = requests[nextIndex]
  nextIndex = nextIndex + 1
  if nextIndex > #requests then nextIndex = 1 end
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "POLL_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f " ..
    "errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
