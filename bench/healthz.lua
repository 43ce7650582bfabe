-- wrk script for the baseline: GET /healthz returned by a Lua request() like verify.lua's, so
-- both runs pay the same load-generator cost and the ratio compares the server alone.
local req

function init(args)
  req = wrk.format("GET", "/healthz")
end

function request()
  return req
end
