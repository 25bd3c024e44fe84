-- POST earn or redeem of 1 point on the same member, each with its own
-- Idempotency-Key (required on ledger writes). Every wrk thread gets an id in
-- setup, so keys never repeat across threads.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local run = tostring(os.time())
request = function()
  counter = counter + 1
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = "bench-" .. run .. "-" .. tostring(tid) .. "-" .. counter
  return wrk.format(nil, nil, headers, '{"points":1,"reason":"benchmark"}')
end
