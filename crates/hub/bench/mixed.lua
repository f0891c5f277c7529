-- wrk script for the soak: a mix of lawful requests (permit, data released), unlawful ones
-- (deny), receipts, the public checkpoint and health checks. Every answer should be 200.
local function read(p)
  local f = assert(io.open(p, "r")); local s = f:read("*a"); f:close(); return s
end
local ex = os.getenv("EXAMPLES")
local permit = read(ex .. "/8-sheriff-alpr.json")
local deny = read(ex .. "/1-ice-alpr.json")
local t_det = "Bearer " .. os.getenv("T_DET")
local t_ero = "Bearer " .. os.getenv("T_ERO")
local n = 0
request = function()
  n = n + 1
  local k = n % 10
  if k < 5 then
    return wrk.format("POST", "/v1/requests", {["Content-Type"] = "application/json", ["Authorization"] = t_det}, permit)
  elseif k < 8 then
    return wrk.format("POST", "/v1/requests", {["Content-Type"] = "application/json", ["Authorization"] = t_ero}, deny)
  elseif k == 8 then
    return wrk.format("GET", "/ledger/checkpoint")
  else
    return wrk.format("GET", "/v1/ledger/proof/0")
  end
end
