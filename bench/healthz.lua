-- wrk script for a baseline: GET of one fixed path (default /healthz; another may be given
-- after `--`), returned by a Lua request() like verify.lua's and counted the same way, so
-- both runs pay the same load-generator cost and the ratio compares the server alone.
local req
sent = 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  req = wrk.format("GET", args[1] or "/healthz")
end

function request()
  sent = sent + 1
  return req
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
