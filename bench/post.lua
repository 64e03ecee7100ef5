-- wrk script: POST a body of BODY_BYTES bytes (NDJSON-ish) to /_bulk.
local size = tonumber(os.getenv("BODY_BYTES") or "16384")
local line = '{"index":{"_index":"bench"}}\n{"field":"value"}\n'
local body = string.rep(line, math.floor(size / #line) + 1):sub(1, size)
wrk.method = "POST"
wrk.path = "/_bulk"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-ndjson"
