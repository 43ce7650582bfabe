-- wrk script: POST /api/v1/keys/verify, cycling through the keys in the file given after `--`.
-- Requests are formatted once in init(): the load generator shares the CPU with the server,
-- so per-request Lua work would be charged to the server's figure.
--
-- done() prints "requests sent: N": every request written, including those still in flight
-- when wrk stopped (its "N requests in" line counts only answers read). The server handled
-- the sent ones, so that is the count its usage events must match.
local requests = {}
local n = 0
local i = 0
sent = 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    requests[n] = wrk.format("POST", "/api/v1/keys/verify", { ["Content-Type"] = "application/json" },
      '{"key":"' .. line .. '","scopes":["read"]}')
  end
  -- threads start at different offsets so they do not walk the same keys in step
  i = math.random(n)
end

function request()
  i = (i % n) + 1
  sent = sent + 1
  return requests[i]
end

function done(summary, latency, requests)
  -- wrk 4 calls the first thread's request() once before the run to check what it returns,
  -- without sending it: that call is not a request sent.
  local total = -1
  for _, thread in ipairs(threads) do
    total = total + thread:get("sent")
  end
  io.write(string.format("requests sent: %d\n", total))
end
