-- POST /v1/contacts with a new email each request.
local counter = 0
local run = tostring(os.time()) .. tostring(math.random(1000000))
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = '{"first_name":"Bench","last_name":"Create","email":"bench-' .. run .. '-' .. counter
    .. '@create.example","tags":["bench"]}'
  return wrk.format(nil, nil, nil, body)
end
