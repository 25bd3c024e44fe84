-- POST /v1/interactions: an inbound service call logged for the seeded
-- contact (the account is filled in from the contact; no consent check).
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"contact_id":' .. json_string(os.getenv("BENCH_CREATE_CONTACT_ID"))
  .. ',"channel_id":' .. json_string(os.getenv("BENCH_CHANNEL_ID"))
  .. ',"direction":"inbound","type":"call","purpose":"service","subject":"Benchmark call","duration_seconds":120}'
