-- wrk script: POST /api/v1/keys/verify, cycling through the keys in the file given after `--`.
local keys = {}
local n = 0

function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    keys[n] = line
  end
  -- threads start at different offsets so they do not walk the same keys in step
  n_offset = math.random(n)
end

local i = 0
function request()
  i = i + 1
  local key = keys[((i + n_offset) % n) + 1]
  return wrk.format("POST", "/api/v1/keys/verify", { ["Content-Type"] = "application/json" },
    '{"key":"' .. key .. '","scopes":["read"]}')
end
