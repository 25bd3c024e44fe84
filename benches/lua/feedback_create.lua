-- POST /v1/feedback: a complaint on the seeded phone channel (service-level
-- due times computed from the channel, the priority and the working calendar).
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"kind":"complaint","text":"Benchmark complaint","priority":"high","category":"billing","channel_id":'
  .. json_string(os.getenv("BENCH_FEEDBACK_CHANNEL_ID")) .. '}'
