-- wrk script for the gateway benchmark: GET PATH with `X-API-Key`, cycling through the keys in
-- the file given after `--`: `-- KEYS_FILE PATH`. The same requests go to the gateway
-- (PATH=/gw/SLUG/...) and straight to the upstream (PATH=/...), which ignores the key, so the
-- two runs differ only in where they are sent. Formatted once in init(), as in verify.lua, and
-- counted the same way ("requests sent: N" from done()).
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
    requests[n] = wrk.format("GET", args[2], { ["X-API-Key"] = line })
  end
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
