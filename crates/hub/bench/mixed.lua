-- wrk script for the soak: a mix of lawful requests (permit, data released), unlawful ones
-- (deny), receipts and the public checkpoint. Every answer should be 200 (a deny is a decision,
-- answered 200); the summary counts the answers by status.
local function read(p)
  local f = assert(io.open(p, "r")); local s = f:read("*a"); f:close(); return s
end
local ex = os.getenv("EXAMPLES")
local permit = read(ex .. "/8-sheriff-alpr.json")
local deny = read(ex .. "/1-ice-alpr.json")
local t_det = "Bearer " .. os.getenv("T_DET")
local t_ero = "Bearer " .. os.getenv("T_ERO")
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local n = 0
counts = {}   -- status -> count (this thread; global, so that done() can read it with thread:get)
function init(args)
  counts = {}
end

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

response = function(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  io.write("responses by status:")
  for k, v in pairs(total) do io.write(string.format(" %s=%d", k, v)) end
  io.write("\n")
end
