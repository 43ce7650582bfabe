-- wrk script: POST /api/v1/keys/verify, cycling through the keys in the file given after `--`.
-- Requests are formatted once in init(): the load generator shares the CPU with the server,
-- so per-request Lua work would be charged to the server's figure.
local requests = {}
local n = 0
local i = 0

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
  return requests[i]
end
