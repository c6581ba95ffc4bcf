-- wrk script for bench/run.sh: every request takes the next path from a list, appended
-- to the path of the URL given to wrk (which ends in /).
--
--   BENCH_URLS=list.txt BENCH_THREADS=2 [BENCH_STATUS=1] [BENCH_AUTH=…] wrk -t2 -s bench/urls.lua URL
--
-- BENCH_AUTH is sent as the Authorization header of every request (satmark's image
-- service wants a signed-in user; the same header goes to nginx, which ignores it, so
-- both servers read the same requests).
-- Thread t of T requests paths t, t+T, t+2T, … so the threads never ask for the same
-- path at the same time, and the list is gone through once before any path repeats.
-- With BENCH_STATUS=1 responses are counted by status (503 apart) and done() prints the
-- counts and whether the list ran out (so some requests were repeats); counting makes wrk
-- parse every response in Lua, so it is left off for the tile runs.

local list = os.getenv("BENCH_URLS") or error("BENCH_URLS is not set")
local step = tonumber(os.getenv("BENCH_THREADS") or "1")

paths = {}
for line in io.lines(list) do
  if line ~= "" then paths[#paths + 1] = line end
end

local threads = {}
local headers = {}
if os.getenv("BENCH_AUTH") then headers["Authorization"] = os.getenv("BENCH_AUTH") end

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  nexti = id      -- index (from 0) of the next path of this thread
  issued = 0
  ok, s503, other = 0, 0, 0
  prefix = wrk.path
end

function request()
  local p = paths[(nexti % #paths) + 1]
  nexti = nexti + step
  issued = issued + 1
  return wrk.format("GET", prefix .. p, headers)
end

if os.getenv("BENCH_STATUS") == "1" then
  function response(status, headers, body)
    if status >= 200 and status < 300 then
      ok = ok + 1
    elseif status == 503 then
      s503 = s503 + 1
    else
      other = other + 1
    end
  end
end

function done(summary, latency, requests)
  local issued_all, wrapped, ok_all, s503_all, other_all = 0, false, 0, 0, 0
  for _, t in ipairs(threads) do
    issued_all = issued_all + t:get("issued")
    -- the last index this thread used was nexti - step
    wrapped = wrapped or t:get("nexti") - step >= #paths
    ok_all = ok_all + t:get("ok")
    s503_all = s503_all + t:get("s503")
    other_all = other_all + t:get("other")
  end
  -- Machine-readable lines for run.sh.
  io.write(string.format("bench_paths=%d\n", #paths))
  io.write(string.format("bench_issued=%d\n", issued_all))
  io.write(string.format("bench_wrapped=%s\n", wrapped and "yes" or "no"))
  io.write(string.format("bench_duration_s=%.3f\n", summary.duration / 1e6))
  io.write(string.format("bench_completed=%d\n", summary.requests))
  io.write(string.format("bench_socket_errors=%d\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
  io.write(string.format("bench_non2xx3xx=%d\n", summary.errors.status))
  io.write(string.format("bench_rps=%.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("bench_p50_ms=%.3f\n", latency:percentile(50) / 1000))
  io.write(string.format("bench_p99_ms=%.3f\n", latency:percentile(99) / 1000))
  if os.getenv("BENCH_STATUS") == "1" then
    io.write(string.format("bench_2xx=%d\nbench_503=%d\nbench_other=%d\n", ok_all, s503_all, other_all))
  end
end
