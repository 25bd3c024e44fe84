-- POST /v1/transactions: a purchase for the seeded account, each with its own
-- external id (every wrk thread gets its own id in setup).
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local run = tostring(os.time())
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = '{"kind":"purchase","account_id":' .. json_string(os.getenv("BENCH_TX_ACCOUNT_ID"))
    .. ',"amount":12000,"currency":"EUR","external_id":"bench-' .. run .. '-' .. tostring(tid) .. '-' .. counter .. '"}'
  return wrk.format(nil, nil, nil, body)
end
