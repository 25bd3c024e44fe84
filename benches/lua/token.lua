-- POST /v1/auth/token with the admin's credentials. Deliberately slow: every
-- request verifies an Argon2id hash.
wrk.headers["Authorization"] = nil
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":' .. json_string(os.getenv("BENCH_ADMIN_EMAIL"))
  .. ',"password":' .. json_string(os.getenv("BENCH_ADMIN_PASSWORD")) .. '}'
