-- POST /v1/auth/token with a wrong password for a fresh email each time:
-- the flood of an attacker who sprays guesses across accounts.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format(
    '{"email":"guess-%d-%d@victim.example","password":"wrong password %d"}',
    math.random(1, 1e9), n, n)
  return wrk.format(nil, nil, nil, body)
end
