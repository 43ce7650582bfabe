-- wrk script for the baseline: GET /healthz built by a Lua request() like verify.lua, so both
-- runs pay the same load-generator cost and the ratio compares the server alone.
function request()
  return wrk.format("GET", "/healthz")
end
