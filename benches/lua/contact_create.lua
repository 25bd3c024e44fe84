-- POST /v1/contacts with a new email each request: every wrk thread gets its
-- own id in setup, so two threads never send the same email.
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
  local body = '{"first_name":"Bench","last_name":"Create","email":"bench-' .. run .. '-' .. tostring(tid)
    .. '-' .. counter .. '@create.example","tags":["bench"]}'
  return wrk.format(nil, nil, nil, body)
end
